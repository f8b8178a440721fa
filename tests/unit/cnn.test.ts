// Tests for the kit's CNN: seeded construction, reproducible training that learns real digits, predictions, stops, saving.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import type { Dataset } from '../../lib/data/types.js';
import { ConfigError } from '../../lib/core/errors.js';
import { confusionMatrix, predict } from '../../lib/ml/evaluate.js';
import { CNN_DEFAULTS, createCnn, resolveCnnConfig, trainCnn } from '../../lib/ml/cnn.js';
import { permutePixels, pixelPermutation, shiftImages } from '../../lib/data/transforms.js';
import { head, quickMnist, useWasm } from '../support/helpers.js';

let data: Dataset;
before(async () => {
  await useWasm();
  data = await quickMnist();
});

const weightsOf = (model: tf.LayersModel) =>
  model.getWeights().map((w) => Array.from(w.dataSync()));

describe('createCnn', () => {
  it('builds conv 16 → pool → conv 32 → pool → dense 64 → 10: 56,714 parameters, shapes as documented', () => {
    const { model, config } = createCnn();
    assert.deepEqual(config, CNN_DEFAULTS);
    assert.equal(model.countParams(), 56_714);
    const shapes = model.layers.map((l) => `${l.name} ${JSON.stringify(l.outputShape)}`);
    assert.deepEqual(shapes, [
      'conv1 [null,26,26,16]',
      'pool1 [null,13,13,16]',
      'conv2 [null,11,11,32]',
      'pool2 [null,5,5,32]',
      'flatten [null,800]',
      'dense [null,64]',
      'output [null,10]',
    ]);
    model.dispose();
  });

  it('the same seed gives the same initial weights; another seed gives others', () => {
    const [a, b, c] = [7, 7, 8].map((seed) => createCnn({ seed }));
    assert.deepEqual(weightsOf(a.model), weightsOf(b.model));
    assert.notDeepEqual(weightsOf(a.model), weightsOf(c.model));
    for (const m of [a, b, c]) m.model.dispose();
  });

  it('rejects bad configs naming the field', () => {
    assert.throws(
      () => resolveCnnConfig({ filters: [] }),
      (e: unknown) =>
        e instanceof ConfigError && /^filters: must be a non-empty list/.test(e.message),
    );
    assert.throws(() => resolveCnnConfig({ dropout: 1 }), /dropout: must be in \[0, 1\), got 1/);
    assert.throws(
      () => resolveCnnConfig({ filters: [8, 8, 8, 8] }),
      /filters: 4 conv blocks with 3×3 kernels shrink a 28×28 image to nothing/,
    );
  });
});

describe('trainCnn and predict', () => {
  // The 3,000-image version (over 85 %) is tests/integration/cnn-learning.test.ts.
  it('learns from 500 real digits: 2 epochs of batch 32, loss falls, over 50 % on 500 unseen', async () => {
    const { model, config } = createCnn();
    const test = head(data.test, 500);
    const result = await trainCnn(
      model,
      config,
      { train: head(data.train, 500), test },
      { epochs: 2, batchSize: 32 },
    );
    assert.equal(result.stop, null);
    assert.equal(result.history.length, 2);
    const [e1, e2] = result.history;
    assert.ok(e2.loss < e1.loss, `training loss falls: ${e1.loss} → ${e2.loss}`);
    assert.ok(e2.testAccuracy! > 0.5, `test accuracy ${e2.testAccuracy} (chance is 0.1)`);
    // predict gives the kit's Predictions: consistent with the epoch metric and with itself.
    const p = predict(model, test);
    assert.equal(p.accuracy, e2.testAccuracy);
    assert.equal(p.probabilities.length, test.count * 10);
    const m = confusionMatrix(p);
    assert.equal(
      m.reduce((s, row, i) => s + row[i], 0),
      Math.round(p.accuracy * test.count),
    );
    const rowSum = p.probabilities.subarray(0, 10).reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(rowSum - 1) < 1e-5);
    model.dispose();
  });

  it('is reproducible: same seed, same losses and weights; seeded dropout too', async () => {
    const run = async (seed: number) => {
      const { model, config } = createCnn({ seed, dropout: 0.25 });
      const r = await trainCnn(
        model,
        config,
        { train: head(data.train, 512) },
        { epochs: 2, batchSize: 64, evaluate: false },
      );
      const out = { losses: r.history.map((h) => h.loss), weights: weightsOf(model) };
      model.dispose();
      return out;
    };
    const [a, b, c] = [await run(5), await run(5), await run(6)];
    assert.deepEqual(a.losses, b.losses);
    assert.deepEqual(a.weights, b.weights);
    assert.notDeepEqual(a.losses, c.losses);
  });

  it('stops when the network breaks (far too high a learning rate) and keeps the last good weights', async () => {
    const { model, config } = createCnn({ learningRate: 1e30 });
    const r = await trainCnn(
      model,
      config,
      { train: head(data.train, 512) },
      { epochs: 1, batchSize: 64 },
    );
    assert.equal(r.stop?.reason, 'non-finite-loss');
    assert.match(
      r.stop!.message,
      /the loss became NaN at epoch 1, batch \d of 8; the weights from the last good batch were kept/,
    );
    assert.ok(weightsOf(model).every((w) => w.every(Number.isFinite)));
    assert.ok(predict(model, head(data.test, 10)).probabilities.every(Number.isFinite));
    model.dispose();
  });

  it('stops when the signal fires', async () => {
    const { model, config } = createCnn();
    const controller = new AbortController();
    const stopAtTwo = (b: { batch: number }) => b.batch === 2 && controller.abort();
    const r = await trainCnn(
      model,
      config,
      { train: head(data.train, 512) },
      { epochs: 3, batchSize: 64, signal: controller.signal, onBatch: stopAtTwo },
    );
    assert.equal(r.stop?.reason, 'interrupted');
    assert.equal(r.stop?.batch, 2);
    assert.equal(r.history.length, 0);
    model.dispose();
  });

  it('saves and loads back with the same predictions (seeded dropout included)', async () => {
    const { model } = createCnn({ dropout: 0.2, seed: 3 });
    let artifacts: tf.io.ModelArtifacts | undefined;
    await model.save(
      tf.io.withSaveHandler(
        async (a) => (
          (artifacts = a),
          { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } }
        ),
      ),
    );
    const loaded = await tf.loadLayersModel(tf.io.fromMemory(artifacts!));
    const few = head(data.test, 50);
    assert.deepEqual(predict(loaded, few).probabilities, predict(model, few).probabilities);
    model.dispose();
    loaded.dispose();
  });

  it('rejects data of the wrong size with the sizes in the message', async () => {
    const { model, config } = createCnn({ inputShape: [14, 14, 1] });
    const train = head(data.train, 100);
    await assert.rejects(
      trainCnn(model, config, { train }, { batchSize: 50 }),
      /model: takes 14×14×1 = 196 values per image, but the data has 784/,
    );
    model.dispose();
  });
});

describe('image transforms', () => {
  it('shiftImages moves ink by whole pixels and fills with background', () => {
    const one = head(data.test, 1);
    const right = shiftImages(one, 3, 0);
    const down = shiftImages(one, 0, -2);
    for (let y = 0; y < 28; y++) {
      for (let x = 0; x < 28; x++) {
        assert.equal(right.images[y * 28 + x], x >= 3 ? one.images[y * 28 + x - 3] : 0);
        assert.equal(down.images[y * 28 + x], y < 26 ? one.images[(y + 2) * 28 + x] : 0);
      }
    }
    assert.throws(() => shiftImages(one, 0.5, 0), /shift: must be whole pixels/);
  });

  it('permutePixels rearranges every image the same way and loses nothing', () => {
    const two = head(data.test, 2);
    const order = pixelPermutation(784, 1);
    const p = permutePixels(two, order);
    assert.deepEqual(
      [...p.images.subarray(0, 784)].sort(),
      [...two.images.subarray(0, 784)].sort(),
    );
    for (let j = 0; j < 784; j += 97) assert.equal(p.images[784 + j], two.images[784 + order[j]]);
    assert.deepEqual(pixelPermutation(784, 1), order);
  });
});
