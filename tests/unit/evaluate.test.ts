// Tests for evaluation: one predict for any model, equal to Keras-style model.predict; metrics by hand.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import type { Dataset } from '../../lib/data/types.js';
import {
  confusionMatrix,
  leastConfidentCorrect,
  mistakes,
  mostConfusedPairs,
  perClassScores,
  predict,
  predictLayers,
  predictMlp,
} from '../../lib/ml/evaluate.js';
import { createCnn } from '../../lib/ml/cnn.js';
import { createMlp, mlpShapeOf } from '../../lib/ml/model.js';
import { trainModel } from '../../lib/ml/train.js';
import { head, quickMnist, useWasm } from '../support/helpers.js';

let data: Dataset;
before(async () => {
  await useWasm();
  data = await quickMnist();
});

describe('predict and metrics', () => {
  it('probabilities equal tf.LayersModel.predict (inference mode) on real digits', async () => {
    const { model, config } = createMlp({ seed: 4 });
    await trainModel(
      model,
      config,
      { train: head(data.train, 1000) },
      { epochs: 1, evaluate: false },
    );
    const test = head(data.test, 300);
    const ours = predict(model, test);
    const reference = tf.tidy(() =>
      (model.predict(tf.tensor2d(test.images, [300, 784])) as tf.Tensor).dataSync(),
    );
    let maxDiff = 0;
    for (let i = 0; i < reference.length; i++)
      maxDiff = Math.max(maxDiff, Math.abs(reference[i] - ours.probabilities[i]));
    assert.ok(maxDiff < 1e-5, `max diff ${maxDiff}`);
    const refAcc =
      Array.from({ length: 300 }, (_, i) => {
        const row = Array.from(reference.slice(i * 10, i * 10 + 10));
        return row.indexOf(Math.max(...row)) === test.labels[i] ? 1 : 0;
      }).reduce((a: number, b: number) => a + b, 0) / 300;
    assert.equal(ours.accuracy, refAcc);
    assert.ok(ours.accuracy > 0.6);
    model.dispose();
  });

  it('one predict for any model: MLP-shaped ones on their raw weights, others via model.predict', () => {
    const mlp = createMlp({ seed: 5, hidden: [32], activation: 'tanh' });
    assert.deepEqual(mlpShapeOf(mlp.model), { inputSize: 784, activation: 'tanh', numClasses: 10 });
    const linear = createMlp({ seed: 5, hidden: [] });
    assert.equal(mlpShapeOf(linear.model)?.activation, 'linear');
    const cnn = createCnn({ seed: 5 });
    assert.equal(mlpShapeOf(cnn.model), null);
    const noSoftmax = tf.sequential({
      layers: [tf.layers.dense({ units: 10, inputShape: [784], activation: 'sigmoid' })],
    });
    assert.equal(mlpShapeOf(noSoftmax), null);

    const test = head(data.test, 200);
    assert.deepEqual(predict(mlp.model, test), predictMlp(mlp.model, mlp.config, test));
    assert.deepEqual(predict(cnn.model, test), predictLayers(cnn.model, test));
    assert.equal(predict(noSoftmax, test).probabilities.length, 200 * 10);
    const wrongSize = { ...test, images: test.images.subarray(0, 200 * 783) };
    assert.throws(() => predict(mlp.model, wrongSize), /model: takes 784 = 784 values per image/);
    [mlp.model, linear.model, cnn.model, noSoftmax].forEach((m) => m.dispose());
  });

  it('confusion matrix, per-class scores and confused pairs agree with a by-hand count', () => {
    const labels = Int32Array.from([0, 0, 1, 1, 1, 2, 2, 2, 2, 2]);
    const predicted = Int32Array.from([0, 1, 1, 1, 2, 2, 2, 1, 0, 2]);
    const m = confusionMatrix({ labels, predicted, numClasses: 3 });
    assert.deepEqual(m, [
      [1, 1, 0],
      [0, 2, 1],
      [1, 1, 3],
    ]);
    const scores = perClassScores(m, ['a', 'b', 'c']);
    assert.deepEqual(
      scores.map((s) => s.support),
      [2, 3, 5],
    );
    assert.equal(scores[1].precision, 2 / 4);
    assert.equal(scores[1].recall, 2 / 3);
    assert.ok(Math.abs(scores[1].f1 - (2 * 0.5 * (2 / 3)) / (0.5 + 2 / 3)) < 1e-12);
    assert.deepEqual(
      mostConfusedPairs(m).map((p) => [p.a, p.b, p.total]),
      [
        [1, 2, 2],
        [0, 1, 1],
        [0, 2, 1],
      ],
    );
  });

  it('mistakes are sorted by confidence; least-confident correct ones come first', () => {
    const p = {
      labels: Int32Array.from([4, 4, 4, 9]),
      predicted: Int32Array.from([9, 9, 4, 9]),
      confidence: Float32Array.from([0.6, 0.9, 0.55, 0.99]),
      probabilities: new Float32Array(40),
      numClasses: 10,
      loss: 0,
      accuracy: 0.5,
    };
    assert.deepEqual(mistakes(p, 4, 9), [1, 0]);
    assert.deepEqual(leastConfidentCorrect(p, 1), [2]);
  });
});
