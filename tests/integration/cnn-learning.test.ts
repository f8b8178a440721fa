// The kit's CNN learning real digits at full test scale: 3,000 images, seconds of training.
import assert from 'node:assert/strict';
import { before, it } from 'node:test';
import type { Dataset } from '../../lib/data/types.js';
import { confusionMatrix, predict } from '../../lib/ml/evaluate.js';
import { createCnn, trainCnn } from '../../lib/ml/cnn.js';
import { head, quickMnist, useWasm } from '../support/helpers.js';

let data: Dataset;
before(async () => {
  await useWasm();
  data = await quickMnist();
});

it('learns real digits: 3,000 training images, 2 epochs of batch 32, over 85 % on 2,000 unseen ones', async () => {
  const { model, config } = createCnn();
  const result = await trainCnn(
    model,
    config,
    { train: head(data.train, 3000), test: data.test },
    { epochs: 2, batchSize: 32 },
  );
  assert.equal(result.stop, null);
  assert.equal(result.history.length, 2);
  const [e1, e2] = result.history;
  assert.ok(e2.loss < e1.loss, `training loss falls: ${e1.loss} → ${e2.loss}`);
  assert.ok(e2.testAccuracy! > 0.85, `test accuracy ${e2.testAccuracy}`);
  // predict gives the kit's Predictions: consistent with the epoch metric and with itself.
  const p = predict(model, data.test);
  assert.equal(p.accuracy, e2.testAccuracy);
  assert.equal(p.probabilities.length, data.test.count * 10);
  const m = confusionMatrix(p);
  assert.equal(
    m.reduce((s, row, i) => s + row[i], 0),
    Math.round(p.accuracy * data.test.count),
  );
  model.dispose();
});
