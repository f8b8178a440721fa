// Tests for the written-out backward pass: the same gradients as TensorFlow.js's tape, for any depth and activation.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import type { Dataset } from '../../lib/data/types.js';
import { mlpGradients } from '../../lib/ml/backprop.js';
import { forwardLogits, l2Penalty } from '../../lib/ml/forward.js';
import type { Activation } from '../../lib/core/choices.js';
import { createMlp, denseVariables, type MlpConfig } from '../../lib/ml/model.js';
import { createRng, fillDropoutMask } from '../../lib/core/random.js';
import { quickMnist, useWasm } from '../support/helpers.js';

const N = 64;
let data: Dataset;
before(async () => {
  await useWasm();
  data = await quickMnist();
});

interface Case {
  readonly hidden: number[];
  readonly activation: Activation;
  readonly dropout: number;
  readonly l2: number;
}

/** The first N real training digits, their one-hot targets, and seeded inverted-dropout masks. */
function batchFor(config: MlpConfig) {
  const x = tf.tensor2d(data.train.images.subarray(0, N * 784), [N, 784]);
  const y = tf.oneHot(tf.tensor1d(data.train.labels.subarray(0, N), 'int32'), 10) as tf.Tensor2D;
  const rng = createRng(7);
  const masks =
    config.dropout > 0
      ? config.hidden.map((units) =>
          tf.tensor2d(fillDropoutMask(new Float32Array(N * units), config.dropout, rng), [
            N,
            units,
          ]),
        )
      : undefined;
  return { x, y, masks };
}

/**
 * Loss and gradients of one batch both ways: the written-out backward pass, and `tf.variableGrads` of
 * the stock forward pass + `tf.losses.softmaxCrossEntropy` + the L2 term, all differentiated by the tape.
 */
function bothWays(c: Case) {
  // Weights from a short seeded training run would do too; the initial ones already exercise every path.
  const { model, config } = createMlp({ ...c, seed: 5 });
  const vars = denseVariables(model);
  const result = tf.tidy(() => {
    const { x, y, masks } = batchFor(config);
    const hand = mlpGradients(vars, x, y, config, masks);
    const tape = tf.variableGrads(() => {
      const logits = forwardLogits(vars, x, config, masks);
      const ce = tf.losses.softmaxCrossEntropy(y, logits);
      return tf.add(ce, l2Penalty(vars, config.l2) ?? 0) as tf.Scalar;
    }, vars);
    return {
      handLoss: hand.loss.dataSync()[0],
      tapeLoss: tape.value.dataSync()[0],
      hand: hand.grads.map((g) => g.dataSync() as Float32Array),
      tape: vars.map((v) => tape.grads[v.name].dataSync() as Float32Array),
      shapes: vars.map((v) => v.shape),
    };
  });
  model.dispose();
  return result;
}

/**
 * The largest |hand − tape| of a gradient tensor, relative to its largest |entry|. Both sides add up
 * the same terms in float32, in different orders (XNNPACK's blocked products vs the tape's transposed
 * ones; the softmax as exp(log-softmax) vs TensorFlow's own): each entry of hᵀ·d sums n = 64 products,
 * so rounding alone may differ by a few ulp of the larger terms, ~1e-6 relative. 1e-5 allows that
 * with margin; a missing activation derivative, mask or transpose gives differences of order 1.
 */
function relativeError(a: Float32Array, b: Float32Array): { error: number; scale: number } {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return { error: diff / Math.max(scale, 1e-12), scale };
}

const TOLERANCE = 1e-5;

const cases: Case[] = [];
for (const hidden of [[], [48], [64, 32], [40, 24, 16]]) {
  for (const activation of ['relu', 'sigmoid', 'tanh'] as const) {
    cases.push({ hidden, activation, dropout: 0, l2: 0 });
    if (hidden.length > 0) cases.push({ hidden, activation, dropout: 0.25, l2: 1e-3 });
    else cases.push({ hidden, activation, dropout: 0, l2: 1e-3 });
  }
}

describe('backprop written out', () => {
  for (const c of cases) {
    const name = `${c.hidden.length} hidden ${JSON.stringify(c.hidden)}, ${c.activation}, dropout ${c.dropout}, l2 ${c.l2}`;
    it(`equals tf.variableGrads to fp32 rounding: ${name}`, () => {
      const r = bothWays(c);
      assert.equal(r.hand.length, 2 * (c.hidden.length + 1));
      assert.ok(
        Math.abs(r.handLoss - r.tapeLoss) <= TOLERANCE * r.tapeLoss,
        `loss ${r.handLoss} vs ${r.tapeLoss}`,
      );
      r.hand.forEach((g, i) => {
        assert.equal(g.length, r.tape[i].length, `gradient ${i} size`);
        const { error, scale } = relativeError(g, r.tape[i]);
        assert.ok(scale > 0, `gradient ${i} ${JSON.stringify(r.shapes[i])} is all zero`);
        assert.ok(
          error <= TOLERANCE,
          `gradient ${i} ${JSON.stringify(r.shapes[i])}: relative error ${error.toExponential(2)}`,
        );
      });
    });
  }

  it('the dropout masks and L2 change the gradients (so the tests above do check them)', () => {
    const plain = bothWays({ hidden: [64, 32], activation: 'relu', dropout: 0, l2: 0 });
    const masked = bothWays({ hidden: [64, 32], activation: 'relu', dropout: 0.25, l2: 0 });
    const l2 = bothWays({ hidden: [64, 32], activation: 'relu', dropout: 0, l2: 1e-2 });
    // The first kernel's gradient: the masks touch it through both hidden layers; L2 adds 2·l2·W.
    assert.ok(relativeError(masked.hand[0], plain.hand[0]).error > 0.1);
    assert.ok(relativeError(l2.hand[0], plain.hand[0]).error > 1e-3);
    assert.deepEqual(l2.hand[1], plain.hand[1], 'the biases carry no L2 term');
  });

  it('leaves no tensors behind inside tf.tidy', () => {
    const { model, config } = createMlp({ hidden: [32, 16], seed: 2 });
    const vars = denseVariables(model);
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      const { x, y, masks } = batchFor(config);
      mlpGradients(vars, x, y, config, masks);
    });
    assert.equal(tf.memory().numTensors, before);
    model.dispose();
  });
});
