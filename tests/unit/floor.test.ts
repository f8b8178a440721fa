// Tests for the speed floor: it times exactly the matrix products the training loop runs, no more, no fewer.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { measureMatmulFloor, stepProducts } from '../../lib/engine/floor.js';
import { createMlp, MODEL_OF_RECORD, resolveConfig } from '../../lib/ml/model.js';
import { trainModel } from '../../lib/ml/train.js';
import { head, quickMnist, useWasm } from '../support/helpers.js';

// _FusedMatMul reports 3-D shapes with a batch of 1 ([1, m, k]); the product is the same.
const matrix = (shape: readonly number[]) =>
  shape.length === 3 && shape[0] === 1 ? shape.slice(1) : shape;
const shapeKey = (a: readonly number[], b: readonly number[]) =>
  `${matrix(a).join('x')}·${matrix(b).join('x')}`;

before(useWasm);

describe('matmul floor', () => {
  it('lists the same products as the matMul kernels of one real training step', async () => {
    const data = await quickMnist();
    for (const overrides of [{}, { hidden: [32] }, { hidden: [] as number[] }]) {
      const { model, config } = createMlp(overrides);
      const batch = 64;
      const info = await tf.profile(async () => {
        await trainModel(
          model,
          config,
          { train: head(data.train, batch) },
          { epochs: 1, batchSize: batch, evaluate: false },
        );
      });
      model.dispose();
      const ran = info.kernels
        .filter((k) => k.name === 'BatchMatMul' || k.name === '_FusedMatMul')
        .map((k) => shapeKey(k.inputShapes[0], k.inputShapes[1]))
        .sort();
      const listed = stepProducts(config, batch)
        .map((p) => shapeKey(p.a, p.b))
        .sort();
      assert.deepEqual(listed, ran, `hidden ${JSON.stringify(config.hidden)}`);
    }
  });

  it('counts 60.4 GFLOP per epoch for the model of record on 60,000 images (the figure README and docs/performance.md quote)', () => {
    const perStep = stepProducts(MODEL_OF_RECORD, 128).reduce((s, p) => s + p.flops, 0);
    assert.equal(perStep, 128_909_312);
    assert.equal(Math.round((perStep * 60_000) / 128 / 1e8) / 10, 60.4);
  });

  it('measures every product with a positive time and sums them into seconds per epoch', () => {
    const config = resolveConfig({ hidden: [64] });
    const floor = measureMatmulFloor(config, 32, 3200, 3);
    assert.equal(floor.products.length, stepProducts(config, 32).length);
    assert.ok(floor.products.every((p) => p.ms > 0 && Number.isFinite(p.ms)));
    assert.ok(Math.abs(floor.msPerStep - floor.products.reduce((s, p) => s + p.ms, 0)) < 1e-9);
    assert.ok(Math.abs(floor.secondsPerEpoch - (floor.msPerStep * 100) / 1000) < 1e-9);
    assert.ok(floor.gflopsPerSecond > 0);
  });
});
