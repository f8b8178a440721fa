// Tests for the model of record: shapes, parameter counts, seeded initialisation, config validation.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '../../lib/core/errors.js';
import {
  createMlp,
  denseVariables,
  MODEL_OF_RECORD,
  resolveConfig,
  summarize,
} from '../../lib/ml/model.js';
import { useWasm } from '../support/helpers.js';

before(useWasm);

describe('createMlp', () => {
  it('builds the model of record: 784 → 256 → 128 → 10 with 235,146 parameters', () => {
    const { model, config } = createMlp();
    const s = summarize(model);
    assert.equal(s.totalParams, 235_146);
    assert.deepEqual(
      s.layers.map((l) => [l.name, l.type, l.params]),
      [
        ['hidden1', 'Dense', 784 * 256 + 256],
        ['dropout1', 'Dropout', 0],
        ['hidden2', 'Dense', 256 * 128 + 128],
        ['dropout2', 'Dropout', 0],
        ['output', 'Dense', 128 * 10 + 10],
      ],
    );
    assert.deepEqual(model.outputs[0].shape, [null, 10]);
    assert.equal(config.learningRate, 0.001);
    assert.equal(config.l2, 1e-4);
    model.dispose();
  });

  it('every choice is configurable: hidden sizes, activation, no hidden layer', () => {
    const { model } = createMlp({ hidden: [32], activation: 'sigmoid', dropout: 0 });
    assert.equal(summarize(model).totalParams, 784 * 32 + 32 + 32 * 10 + 10);
    const linear = createMlp({ hidden: [] });
    assert.equal(summarize(linear.model).totalParams, 7850);
    model.dispose();
    linear.model.dispose();
  });

  it('the same seed gives the same initial weights; another seed does not', () => {
    const w = (seed: number) => {
      const { model } = createMlp({ seed });
      const values = denseVariables(model).map((v) => Array.from(v.dataSync().slice(0, 50)));
      model.dispose();
      return values;
    };
    assert.deepEqual(w(7), w(7));
    assert.notDeepEqual(w(7), w(8));
  });

  it('predictions of the untrained network sum to 1 per row', () => {
    const { model } = createMlp();
    const p = tf.tidy(
      () => (model.predict(tf.ones([3, 784])) as tf.Tensor).sum(1).arraySync() as number[],
    );
    p.forEach((s) => assert.ok(Math.abs(s - 1) < 1e-5));
    model.dispose();
  });

  it('rejects out-of-range values naming the field and the allowed range', () => {
    const cases: Array<[Partial<typeof MODEL_OF_RECORD>, RegExp]> = [
      [{ dropout: 1 }, /dropout: must be in \[0, 1\)/],
      [{ dropout: -0.1 }, /dropout/],
      [{ learningRate: 0 }, /learningRate: must be > 0/],
      [{ hidden: [256, 0] }, /hidden: must be a list of positive integers/],
      [
        { activation: 'softplus' as never },
        /unknown activation "softplus"; expected one of relu, sigmoid/,
      ],
      [{ l2: -1 }, /l2/],
      [{ seed: 1.5 }, /seed/],
    ];
    for (const [config, pattern] of cases) {
      assert.throws(
        () => resolveConfig(config),
        (e: unknown) => e instanceof ConfigError && pattern.test(e.message),
        JSON.stringify(config),
      );
    }
  });
});
