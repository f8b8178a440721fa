// Tests for the lean Adam: the same weights as tf.train.adam after the same gradients, to fp32 rounding.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { leanAdam, stockAdam } from '../../lib/ml/adam.js';
import { mlpGradients } from '../../lib/ml/backprop.js';
import { createMlp, denseVariables } from '../../lib/ml/model.js';
import { quickMnist, useWasm } from '../support/helpers.js';

before(useWasm);

const STEPS = 30;

describe('leanAdam', () => {
  it('follows tf.train.adam to fp32 rounding over 30 steps of real MNIST gradients', async () => {
    const data = await quickMnist();
    // No L2: the gradients of the first layer's weights on always-blank border pixels are exactly 0,
    // the case where ε alone keeps Adam's division finite.
    const { model, config } = createMlp({ hidden: [64, 32], l2: 0, dropout: 0, seed: 9 });
    const ours = denseVariables(model);
    const theirs = ours.map((v) => tf.variable(v.clone()));
    const initial = ours.map((v) => v.dataSync().slice());
    const atStart = tf.memory().numTensors;
    const lean = leanAdam(ours, config.learningRate);
    const stock = stockAdam(theirs, config.learningRate);
    let afterFirst = 0; // tf.train.adam makes its moment variables on its first step
    for (let step = 0; step < STEPS; step++) {
      if (step === 1) afterFirst = tf.memory().numTensors;
      tf.tidy(() => {
        const from = step * 100;
        const x = tf.tensor2d(
          data.train.images.subarray(from * 784, (from + 100) * 784),
          [100, 784],
        );
        const labels = tf.tensor1d(data.train.labels.subarray(from, from + 100), 'int32');
        // The same gradients for both: ours, from the weights updated by the lean Adam.
        const { grads } = mlpGradients(ours, x, tf.oneHot(labels, 10) as tf.Tensor2D, config);
        lean.apply(grads);
        stock.apply(grads);
      });
    }
    assert.equal(tf.memory().numTensors, afterFirst, 'a step leaks tensors');
    // The two orders of operations round the new weight differently: a step may land it one float32
    // ulp (2⁻²³·|w|) away, and such differences hardly accumulate (measured: at most 2 ulp after 30
    // steps); 8 ulp of the larger of |w| before and after, plus 1e-6 of one step, allows for that.
    // Checked by breaking it: ε not scaled to ε̂ fails by ~7e5× this tolerance, the bias corrections
    // computed exactly rather than in float32 as tf.train.adam does by ~19×.
    let zeroGradientWeights = 0;
    ours.forEach((v, i) => {
      const a = v.dataSync();
      const b = theirs[i].dataSync();
      const start = initial[i];
      let worst = 0;
      let maxMove = 0;
      for (let j = 0; j < a.length; j++) {
        const tolerance =
          8 * 2 ** -23 * Math.max(Math.abs(start[j]), Math.abs(b[j])) + 1e-6 * config.learningRate;
        worst = Math.max(worst, Math.abs(a[j] - b[j]) / tolerance);
        maxMove = Math.max(maxMove, Math.abs(b[j] - start[j]));
        if (i === 0 && a[j] === start[j]) zeroGradientWeights++;
      }
      assert.ok(maxMove > 1e-3, `variable ${i} did not move`);
      assert.ok(worst <= 1, `variable ${i}: ${worst.toFixed(2)}× the rounding tolerance`);
    });
    assert.ok(zeroGradientWeights > 0, 'expected first-layer weights of blank pixels to stay put');
    lean.dispose();
    stock.dispose();
    assert.equal(tf.memory().numTensors, atStart, 'tensors left after dispose');
    tf.dispose(theirs);
    model.dispose();
  });
});
