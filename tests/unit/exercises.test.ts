// Every checked exercise on real MNIST: the worked answer passes, a typical wrong answer fails with the intended message.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { loadDataset } from '../../lib/data/datasets.js';
import type { Dataset, Split } from '../../lib/data/types.js';
import { mlpGradients } from '../../lib/ml/backprop.js';
import { predict } from '../../lib/ml/evaluate.js';
import { createMlp, resolveConfig } from '../../lib/ml/model.js';
import { trainModel, type EpochMetrics } from '../../lib/ml/train.js';
import { createCnn } from '../../lib/ml/cnn.js';
import { farthestFromClassMean } from '../../lib/notebook/explore.js';
import type { Verdict } from '../../lib/notebook/exercises/exercise.js';
import {
  breakExercises,
  buildExercises,
  cnnExercises,
  confusionExercises,
  exploreExercises,
  gradientExercises,
  trainExercises,
} from '../../lib/notebook/exercises/index.js';
import { useWasm } from '../support/helpers.js';

let data: Dataset;
before(async () => {
  await useWasm();
  data = await loadDataset({ dataset: 'mnist', validationSize: 0 });
});

const passes = (v: Verdict) => assert.ok(v.ok && v.message.startsWith('✓'), v.message);
function fails(v: Verdict, pattern: RegExp) {
  assert.ok(!v.ok && v.message.startsWith('✗'), `expected a failure, got: ${v.message}`);
  assert.match(v.message, pattern);
}
const slice = (split: Split, from: number, n: number): Split => ({
  images: split.images.subarray(from * 784, (from + n) * 784),
  labels: split.labels.subarray(from, from + n),
  count: n,
});
const head = (split: Split, n: number) => slice(split, 0, n);

describe('notebook 01 exercises', () => {
  const ex = exploreExercises;
  it('the mean image: axis 0 passes; axis 1, ×255 and no answer fail', () => {
    passes(ex.meanImage.verdict((images) => tf.mean(images, 0), data.test));
    fails(
      ex.meanImage.verdict((images) => tf.mean(images, 1), data.test),
      /shape \[10000\], expected \[784\].*axis 0/,
    );
    fails(
      ex.meanImage.verdict((images) => tf.mul(tf.mean(images, 0), 255), data.test),
      /255 times too large/,
    );
    fails(
      ex.meanImage.verdict(() => undefined, data.test),
      /no answer yet/,
    );
  });
  it('never-used pixels: tf.max passes; tf.min fails', () => {
    const count = (reduce: typeof tf.max) => (images: tf.Tensor2D) =>
      tf.sum(tf.cast(tf.equal(reduce(images, 0), 0), 'int32'));
    passes(ex.neverInked.verdict(count(tf.max), data.test));
    fails(ex.neverInked.verdict(count(tf.min), data.test), /at least one image \(tf\.min\)/);
  });
  it('closest to the mean: every image of a class passes; the per-class cut of 6,000 fails for 1, 3, 7', () => {
    const closest = (cut: number) => (split: Split, means: Float32Array) => {
      const sorted = farthestFromClassMean(split, means, 10, cut);
      return Array.from({ length: 10 }, (_, c) =>
        sorted
          .filter((o) => o.label === c)
          .slice(-3)
          .reverse()
          .map((o) => o.index),
      ).flat();
    };
    passes(ex.closestToMean.verdict(closest(data.train.count), data.train));
    const over = Array.from({ length: 10 }, (_, c) => c).filter(
      (c) => data.train.labels.filter((l) => l === c).length > 6000,
    );
    assert.deepEqual(over, [1, 3, 7], 'the classes with more than 6,000 training images');
    fails(
      ex.closestToMean.verdict(closest(6000), data.train),
      /right for 7 classes, wrong for digits 1, 3, 7/,
    );
    fails(
      ex.closestToMean.verdict(
        (split, means) => farthestFromClassMean(split, means, 10, 3).map((o) => o.index),
        data.train,
      ),
      /farthest from the mean/,
    );
  });
});

describe('notebook 02 exercises', () => {
  const ex = buildExercises;
  it('count first: 535,818 passes; weights without biases fails', () => {
    passes(ex.countParams.verdict(784 * 512 + 512 + 512 * 256 + 256 + 256 * 10 + 10));
    fails(ex.countParams.verdict(784 * 512 + 512 * 256 + 256 * 10), /not the biases: .*778/);
  });
  const forward =
    (f: typeof tf.relu, softmax: boolean) => (model: tf.LayersModel, x: tf.Tensor2D) => {
      const [w1, b1, w2, b2, w3, b3] = model.getWeights();
      const h1 = f(tf.add(tf.matMul(x, w1), b1));
      const h2 = f(tf.add(tf.matMul(h1, w2), b2));
      const logits = tf.add(tf.matMul(h2, w3), b3);
      return softmax ? tf.softmax(logits) : logits;
    };
  it('sigmoid by hand: passes; no softmax and relu fail', () => {
    passes(ex.sigmoidForward.verdict(forward(tf.sigmoid, true), data.test));
    fails(
      ex.sigmoidForward.verdict(forward(tf.sigmoid, false), data.test),
      /before softmax \(logits\)/,
    );
    fails(ex.sigmoidForward.verdict(forward(tf.relu, true), data.test), /ReLU network/);
  });
  it('the L2 term: 1e-4 · Σ w² passes; without 1e-4 fails', () => {
    const { model } = createMlp();
    const sumSquares = (m: tf.LayersModel) =>
      tf.addN(
        m.layers
          .filter((l) => l.getWeights().length)
          .map((l) => tf.sum(tf.square(l.getWeights()[0]))),
      );
    passes(ex.l2Term.verdict((m) => tf.mul(sumSquares(m), 1e-4), model));
    fails(ex.l2Term.verdict(sumSquares, model), /10,000 times too large/);
    model.dispose();
  });
});

describe('notebook 03-gradient-descent exercises', () => {
  const ex = gradientExercises;
  it('one step: w − η·f′(w) passes; uphill fails', () => {
    passes(ex.step.verdict((w, rate) => w - rate * 2 * (w - 3)));
    fails(
      ex.step.verdict((w, rate) => w + rate * 2 * (w - 3)),
      /uphill/,
    );
  });
  const config = resolveConfig();
  it('backprop: the kit’s written-out pass passes, layer by layer', () => {
    const v = ex.backprop.verdict(
      (weights, x, y) => mlpGradients(weights, x, y, config).grads,
      data.train,
    );
    passes(v);
    assert.match(v.message, /largest relative difference/);
  });
  /** Written out as a learner would, with switches for the usual mistakes. */
  const byHand =
    (o: { divideByN?: boolean; reluGate?: boolean; l2Factor?: number; transposeDW1?: boolean }) =>
    (weights: tf.Tensor[], x: tf.Tensor2D, y: tf.Tensor2D, l2: number) => {
      const [w1, b1, w2, b2, w3, b3] = weights as [
        tf.Tensor2D,
        tf.Tensor1D,
        tf.Tensor2D,
        tf.Tensor1D,
        tf.Tensor2D,
        tf.Tensor1D,
      ];
      const h1 = tf.relu(tf.add(tf.matMul(x, w1), b1)) as tf.Tensor2D;
      const h2 = tf.relu(tf.add(tf.matMul(h1, w2), b2)) as tf.Tensor2D;
      const p = tf.softmax(tf.add(tf.matMul(h2, w3), b3));
      const n = o.divideByN === false ? 1 : x.shape[0];
      const d3 = tf.div(tf.sub(p, y), n) as tf.Tensor2D;
      const gate = (h: tf.Tensor2D, d: tf.Tensor2D) =>
        o.reluGate === false ? d : tf.mul(d, tf.step(h));
      const d2 = gate(h2, tf.matMul(d3, w3, false, true)) as tf.Tensor2D;
      const d1 = gate(h1, tf.matMul(d2, w2, false, true)) as tf.Tensor2D;
      const k = (o.l2Factor ?? 2) * l2;
      const dW = (h: tf.Tensor2D, d: tf.Tensor2D, w: tf.Tensor2D) =>
        tf.add(tf.matMul(h, d, true), tf.mul(w, k));
      const dW1 = dW(x, d1, w1);
      return [
        o.transposeDW1 ? tf.transpose(dW1) : dW1,
        tf.sum(d1, 0),
        dW(h1, d2, w2),
        tf.sum(d2, 0),
        dW(h2, d3, w3),
        tf.sum(d3, 0),
      ];
    };
  it('backprop: the p − y shortcut written out passes', () => {
    passes(ex.backprop.verdict(byHand({}), data.train));
  });
  it('backprop: without relu′ layer 3 is right, layer 2 wrong', () => {
    fails(
      ex.backprop.verdict(byHand({ reluGate: false }), data.train),
      /layer 3 right .*layer 2 wrong: dW2 and db2: the ReLU derivative is missing.*layer 1 wrong too.*fix layer 2 first/,
    );
  });
  it('backprop: p − y not divided by n is 128 times too large', () => {
    fails(
      ex.backprop.verdict(byHand({ divideByN: false }), data.train),
      /layer 3 wrong: dW3 and db3: 128 times too large \(the batch size\)/,
    );
  });
  it('backprop: the L2 gradient missing, or l2·W instead of 2·l2·W', () => {
    fails(
      ex.backprop.verdict(byHand({ l2Factor: 0 }), data.train),
      /dW3: the L2 term’s gradient 2·l2·W is missing/,
    );
    fails(ex.backprop.verdict(byHand({ l2Factor: 1 }), data.train), /2·l2·W, not l2·W/);
  });
  it('a validation pass: accuracy with argMax over axis 1 passes; the error rate fails', () => {
    const { model } = createMlp();
    const split = head(data.test, 2000);
    const accuracy = (m: tf.LayersModel, s: Split) => {
      const p = m.predict(tf.tensor2d(s.images, [s.count, 784])) as tf.Tensor2D;
      return tf.mean(tf.cast(tf.equal(tf.argMax(p, 1), tf.tensor1d(s.labels, 'int32')), 'float32'));
    };
    passes(gradientExercises.accuracy.verdict(accuracy, model, split));
    fails(
      ex.accuracy.verdict((m, s) => 1 - accuracy(m, s).dataSync()[0], model, split),
      /error rate/,
    );
    model.dispose();
  });
  it('backprop: dW1 transposed is named, with its shape', () => {
    fails(
      ex.backprop.verdict(byHand({ transposeDW1: true }), data.train),
      /layer 3 right.*layer 2 right.*dW1: shape \[256, 784\], expected \[784, 256\]: transposed/,
    );
  });
});

describe('notebook 03-train exercises', () => {
  const ex = trainExercises;
  it('steps per epoch: Math.ceil passes; Math.floor fails', () => {
    passes(ex.stepsPerEpoch.verdict((n, b) => Math.ceil(n / b), data.train));
    fails(
      ex.stepsPerEpoch.verdict((n, b) => Math.floor(n / b), data.train),
      /round up/,
    );
  });
  it('best epoch: by validation accuracy passes; the 0-based position and the test set fail', async () => {
    const { model, config } = createMlp();
    const { history } = await trainModel(
      model,
      config,
      {
        train: head(data.train, 3000),
        validation: slice(data.train, 50_000, 1000),
        test: head(data.test, 2000),
      },
      { epochs: 3 },
    );
    model.dispose();
    const bestBy = (key: 'valAccuracy' | 'testAccuracy') => (h: readonly EpochMetrics[]) =>
      h.reduce((b, m) => ((m[key] ?? 0) > (b[key] ?? 0) ? m : b)).epoch;
    passes(ex.bestEpoch.verdict(bestBy('valAccuracy'), history));
    fails(
      ex.bestEpoch.verdict((h) => bestBy('valAccuracy')(h) - 1, history),
      /counted from 0/,
    );
    // A tie for the best validation accuracy: either epoch is right.
    const best = bestBy('valAccuracy')(history);
    const other = history.find((m) => m.epoch !== best)!.epoch;
    const tied = history.map((m) =>
      m.epoch === other ? { ...m, valAccuracy: history[best - 1].valAccuracy } : m,
    );
    passes(ex.bestEpoch.verdict(() => other, tied));
    passes(ex.bestEpoch.verdict(() => best, tied));
  });
});

describe('notebook 04 exercises', () => {
  const ex = confusionExercises;
  let p: ReturnType<typeof predict>;
  before(() => {
    const { model } = createMlp();
    p = predict(model, head(data.test, 2000));
    model.dispose();
  });
  it('accuracy: passes; a percentage fails', () => {
    const acc = (q: typeof p) => {
      const probs = tf.tensor2d(q.probabilities, [q.labels.length, 10]);
      const right = tf.equal(tf.argMax(probs, 1), tf.tensor1d(q.labels, 'int32'));
      return tf.mean(tf.cast(right, 'float32'));
    };
    passes(ex.accuracy.verdict(acc, p));
    fails(
      ex.accuracy.verdict((q) => tf.mul(acc(q), 100), p),
      /percentage/,
    );
  });
  it('the confusion matrix: labelsᵀ·predictions passes; the transposed product fails', () => {
    const matrix = (swap: boolean) => (labels: tf.Tensor1D, predicted: tf.Tensor1D) => {
      const t = tf.cast(tf.oneHot(labels, 10), 'float32');
      const q = tf.cast(tf.oneHot(predicted, 10), 'float32');
      return swap ? tf.matMul(q, t, true) : tf.matMul(t, q, true);
    };
    passes(ex.confusionMatrix.verdict(matrix(false), p));
    fails(ex.confusionMatrix.verdict(matrix(true), p), /rows and columns are swapped/);
  });
});

describe('notebook 05 exercises', () => {
  const ex = breakExercises;
  const clipped = (y: tf.Tensor2D, p: tf.Tensor2D) =>
    tf.neg(tf.mean(tf.sum(tf.mul(y, tf.log(tf.clipByValue(p, 1e-7, 1))), 1))) as tf.Scalar;
  it('cross-entropy: the clipped mean passes; the unclipped one, the sum and the sign fail', () => {
    passes(ex.crossEntropy.verdict(clipped, data.train));
    fails(
      ex.crossEntropy.verdict(
        (y, p) => tf.neg(tf.mean(tf.sum(tf.mul(y, tf.log(p)), 1))) as tf.Scalar,
        data.train,
      ),
      /probability 0: clip p first/,
    );
    fails(
      ex.crossEntropy.verdict((y, p) => tf.mul(clipped(y, p), p.shape[0]) as tf.Scalar, data.train),
      /128 times too large: average/,
    );
    fails(
      ex.crossEntropy.verdict((y, p) => tf.neg(clipped(y, p)), data.train),
      /sign is flipped/,
    );
  });
  it('clip by norm: g · min(1, limit/‖g‖) passes; always normalising fails', () => {
    passes(
      ex.clipByNorm.verdict(
        (g, max) => tf.mul(g, tf.minimum(1, tf.div(max, tf.norm(g)))),
        data.train,
      ),
    );
    fails(
      ex.clipByNorm.verdict((g, max) => tf.mul(g, tf.div(max, tf.norm(g))), data.train),
      /stretched up to the limit/,
    );
    fails(
      ex.clipByNorm.verdict((g) => g, data.train),
      /unchanged: scale it down/,
    );
  });
});

describe('notebook 07 exercises', () => {
  const ex = cnnExercises;
  it('feature maps: conv1’s output passes; pool1’s fails', () => {
    const { model } = createCnn();
    const upTo = (layer: string) => (cnn: tf.LayersModel, images: tf.Tensor4D) =>
      tf
        .model({ inputs: cnn.inputs, outputs: cnn.getLayer(layer).output })
        .predict(images) as tf.Tensor;
    passes(ex.featureMaps.verdict(upTo('conv1'), model, data.test));
    fails(
      ex.featureMaps.verdict(upTo('pool1'), model, data.test),
      /shape \[2, 13, 13, 16\], expected \[2, 26, 26, 16\]: that is after pooling/,
    );
    model.dispose();
  });
  it('parameter counts: worked out by layer passes; the original count fails', () => {
    const dense = (side: number) => side * side * 32 * 64 + 64;
    const convs = 16 * 10 + 32 * (9 * 16 + 1);
    passes(ex.stridesCount.verdict(convs + dense(6) + 650));
    passes(ex.samePaddingCount.verdict(convs + dense(7) + 650));
    fails(ex.samePaddingCount.verdict(convs + dense(5) + 650), /original network’s count/);
    fails(ex.stridesCount.verdict(convs + dense(5) + 650), /original network’s count/);
  });
});

describe('hints', () => {
  it('each exercise has a hint that holds no reference code', () => {
    for (const group of [
      exploreExercises,
      buildExercises,
      gradientExercises,
      trainExercises,
      confusionExercises,
      breakExercises,
      cnnExercises,
    ]) {
      for (const [name, ex] of Object.entries(group)) {
        const lines: string[] = [];
        const log = console.log;
        console.log = (s: string) => lines.push(s);
        try {
          ex.hint();
        } finally {
          console.log = log;
        }
        assert.equal(lines.length, 1, name);
        assert.match(lines[0], /^hint 1 of \d/, name);
      }
    }
  });
});
