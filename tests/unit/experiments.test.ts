// Tests for the break-it experiments: the facts notebook 05 teaches, checked on small real MNIST subsets.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { headSplit, scaleImages, shuffleLabels, sortByLabel } from '../../lib/data/transforms.js';
import { predict } from '../../lib/ml/evaluate.js';
import { constantWeights, runExperiment, type ExperimentData } from '../../lib/ml/experiment.js';
import { createMlp, denseVariables } from '../../lib/ml/model.js';
import { hiddenUnitSpread, layerGradientNorms } from '../../lib/ml/probes.js';
import { summaryRow } from '../../lib/notebook/experiments.js';
import { firstLayerImages } from '../../lib/viz/weight-images.js';
import { quickMnist, useWasm } from '../support/helpers.js';

let data: ExperimentData;
before(async () => {
  await useWasm();
  const ds = await quickMnist();
  data = {
    train: headSplit(ds.train, 1500),
    validation: headSplit(ds.validation, 500),
    test: headSplit(ds.test, 1000),
  };
});

const allFinite = (values: ArrayLike<number>) => Array.from(values).every(Number.isFinite);

describe('data damage', () => {
  it('scaleImages copies: the original pixels stay in [0, 1]', () => {
    const split = headSplit(data.train, 20);
    const before = split.images.slice();
    const scaled = scaleImages(split, 255);
    assert.deepEqual(split.images, before);
    assert.equal(Math.max(...scaled.images), 255 * Math.max(...before));
    assert.equal(scaled.images[300], before[300] * 255);
  });

  it('shuffleLabels keeps the class counts but not the pairing', () => {
    const split = headSplit(data.train, 1000);
    const shuffled = shuffleLabels(split, 1);
    const counts = (l: Int32Array) =>
      Array.from({ length: 10 }, (_, c) => l.filter((v) => v === c).length);
    assert.deepEqual(counts(shuffled.labels), counts(split.labels));
    const same = shuffled.labels.filter((v, i) => v === split.labels[i]).length;
    assert.ok(same < 200, `${same} of 1000 labels unchanged; a random pairing keeps about 100`);
  });

  it('sortByLabel puts all 0s first, then 1s, … and moves each image with its label', () => {
    const split = headSplit(data.train, 300);
    const sorted = sortByLabel(split);
    for (let i = 1; i < sorted.count; i++) assert.ok(sorted.labels[i - 1] <= sorted.labels[i]);
    // The first image of the sorted copy is the first 0 in the original.
    const firstZero = split.labels.indexOf(0);
    assert.deepEqual(
      sorted.images.subarray(0, 784),
      split.images.subarray(firstZero * 784, (firstZero + 1) * 784),
    );
  });
});

describe('runExperiment: what breaks', () => {
  const opts = () => ({ data, epochs: 2, batchSize: 64 });

  it('learning rate 7 stops cleanly as "diverged", keeping finite weights that still predict', async () => {
    const r = await runExperiment('lr 7', { learningRate: 7 }, { ...opts(), keepModel: true });
    assert.equal(r.stop?.reason, 'diverged');
    assert.match(r.stop!.message, /loss exploded to/);
    for (const v of denseVariables(r.model!))
      assert.ok(allFinite(v.dataSync()), `${v.name} has non-finite weights`);
    assert.ok(Number.isFinite(r.testAccuracy) && r.testAccuracy >= 0);
    assert.match(String(summaryRow(r).stopped), /^diverged \(epoch 1, batch \d+\)$/);
    r.model!.dispose();
  });

  it('initial weights with σ = 1e30 overflow float32: the loss is not finite and training stops at once', async () => {
    const r = await runExperiment(
      'σ 1e30',
      { initializer: 'randomNormal', initStddev: 1e30 },
      opts(),
    );
    assert.equal(r.stop?.reason, 'non-finite-loss');
    assert.equal(r.stop?.batch, 1);
    assert.equal(r.history.length, 0);
  });

  it('all-zero weights: every hidden unit stays an exact copy of the others, and no kernel gets a gradient', async () => {
    const probe = headSplit(data.validation, 128);
    const r = await runExperiment(
      'zeros',
      { initializer: 'zeros' },
      { ...opts(), keepModel: true, gradientProbe: probe, probeEvery: 10 },
    );
    assert.deepEqual(hiddenUnitSpread(r.model!), [0, 0]);
    assert.ok(r.gradientNorms.length > 2);
    for (const g of r.gradientNorms) assert.deepEqual(g.norms, [0, 0, 0]);
    // Only the output bias learns: the model predicts one class for everything.
    assert.equal(new Set(predict(r.model!, data.test).predicted).size, 1);
    assert.ok(r.testAccuracy < 0.2, `zero-init test accuracy ${r.testAccuracy}`);
    r.model!.dispose();
    const baseline = await runExperiment('baseline', {}, { ...opts(), keepModel: true });
    assert.ok(hiddenUnitSpread(baseline.model!).every((s) => s > 0.01));
    baseline.model!.dispose();
  });

  it('identical (constant) weights stay identical without dropout; dropout breaks the symmetry', async () => {
    const still = await runExperiment(
      'constant',
      { dropout: 0 },
      { ...opts(), keepModel: true, initWeights: constantWeights(0.01) },
    );
    assert.deepEqual(hiddenUnitSpread(still.model!), [0, 0]);
    still.model!.dispose();
    const broken = await runExperiment(
      'constant + dropout',
      { dropout: 0.2 },
      { ...opts(), keepModel: true, initWeights: constantWeights(0.01) },
    );
    assert.ok(hiddenUnitSpread(broken.model!).every((s) => s > 0));
    broken.model!.dispose();
  });

  it('shuffled labels: the network memorises the training set but is at chance on the test set', async () => {
    const small = { ...data, train: headSplit(data.train, 300) };
    const r = await runExperiment(
      'shuffled labels',
      { dropout: 0, l2: 0 },
      {
        data: small,
        epochs: 20,
        batchSize: 64,
        transform: (d) => ({ ...d, train: shuffleLabels(d.train, 7) }),
      },
    );
    assert.ok(r.testAccuracy < 0.2, `test accuracy ${r.testAccuracy}`);
    assert.ok(
      r.trainAccuracy > 0.3 && r.trainAccuracy > r.testAccuracy + 0.15,
      `train ${r.trainAccuracy} vs test ${r.testAccuracy}`,
    );
  });

  it('the linear model (no hidden layer) scores below the MLP on the same data', async () => {
    const linear = await runExperiment('linear', { hidden: [] }, opts());
    const mlp = await runExperiment('baseline', {}, opts());
    assert.ok(linear.testAccuracy > 0.7, `linear ${linear.testAccuracy} should still learn`);
    assert.ok(
      linear.testAccuracy < mlp.testAccuracy,
      `linear ${linear.testAccuracy} vs MLP ${mlp.testAccuracy}`,
    );
  });

  it('sigmoid shrinks the gradient of the first layer relative to the last, more than ReLU does', () => {
    const batch = headSplit(data.validation, 256);
    const ratio = (activation: 'relu' | 'sigmoid') => {
      const { model, config } = createMlp({ activation });
      const norms = layerGradientNorms(model, config, batch);
      model.dispose();
      assert.equal(norms.length, 3);
      assert.ok(norms.every((n) => n > 0));
      return norms[0] / norms[2];
    };
    const relu = ratio('relu');
    const sigmoid = ratio('sigmoid');
    assert.ok(sigmoid < relu / 4, `first/last gradient ratio: sigmoid ${sigmoid}, relu ${relu}`);
  });
});

describe('firstLayerImages', () => {
  it('scales each unit on its own (its largest |w| reaches 0 or 1); all-zero weights are flat grey', () => {
    const trained = createMlp({});
    const images = firstLayerImages(trained.model, [0, 5, 255]);
    assert.equal(images.length, 3 * 784);
    for (let u = 0; u < 3; u++) {
      const unit = images.subarray(u * 784, (u + 1) * 784);
      const extreme = Math.max(1 - Math.min(...unit), Math.max(...unit));
      assert.ok(Math.abs(extreme - 1) < 1e-6, `unit ${u}: extreme ${extreme}`);
      assert.ok(unit.every((v) => v >= 0 && v <= 1));
    }
    assert.throws(
      () => firstLayerImages(trained.model, [256]),
      /unit 256 does not exist; the layer has 256/,
    );
    trained.model.dispose();
    const zeros = createMlp({ initializer: 'zeros' });
    assert.ok(firstLayerImages(zeros.model, [3]).every((v) => v === 0.5));
    zeros.model.dispose();
  });
});
