// Tests for saving and loading models: exact round trip, atomic replacement, and clear errors on damaged files.
import assert from 'node:assert/strict';
import { mkdtempSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import type { Dataset } from '../lib/data/types.js';
import { ModelFileError } from '../lib/core/errors.js';
import { predict } from '../lib/ml/evaluate.js';
import { createMlp } from '../lib/ml/model.js';
import { loadModel, saveModel } from '../lib/ml/persist.js';
import { trainModel } from '../lib/ml/train.js';
import { head, quickMnist, useWasm } from './helpers.js';

let data: Dataset;
const root = mkdtempSync(path.join(os.tmpdir(), 'persist-test-'));
before(async () => {
  await useWasm();
  data = await quickMnist();
});

async function trainedModelAt(dir: string, seed = 5) {
  const { model, config } = createMlp({ seed, hidden: [64, 32] });
  const result = await trainModel(
    model,
    config,
    { train: head(data.train, 1000) },
    { epochs: 1, evaluate: false },
  );
  await saveModel(model, { config, history: result.history, engine: 'wasm' }, dir);
  return { model, config };
}

const rejectsModelFile = (promise: Promise<unknown>, pattern: RegExp) =>
  assert.rejects(promise, (e: unknown) => e instanceof ModelFileError && pattern.test(e.message));

describe('saveModel / loadModel', () => {
  it('a loaded model evaluates identically, with its config and history', async () => {
    const dir = path.join(root, 'm1');
    const { model, config } = await trainedModelAt(dir);
    const loaded = await loadModel(dir);
    const before = predict(model, config, head(data.test, 500));
    const after = predict(loaded.model, loaded.config, head(data.test, 500));
    assert.deepEqual(Array.from(after.probabilities), Array.from(before.probabilities));
    assert.deepEqual(loaded.config, config);
    assert.equal(loaded.meta.history.length, 1);
    assert.deepEqual((await fs.readdir(dir)).sort(), ['meta.json', 'model.json', 'weights.bin']);
    const json = JSON.parse(await fs.readFile(path.join(dir, 'model.json'), 'utf8'));
    assert.equal(json.format, 'layers-model');
    assert.deepEqual(json.weightsManifest[0].paths, ['weights.bin']);
    model.dispose();
    loaded.model.dispose();
  });

  it('replaces an existing model whole and leaves no temporary folders', async () => {
    const dir = path.join(root, 'm2');
    await trainedModelAt(dir, 1);
    const first = await fs.readFile(path.join(dir, 'weights.bin'));
    await trainedModelAt(dir, 2);
    const second = await fs.readFile(path.join(dir, 'weights.bin'));
    assert.notDeepEqual(first, second);
    assert.deepEqual(
      (await fs.readdir(root)).filter((e) => e.startsWith('.')),
      [],
    );
  });

  it('a failed save leaves the previous model untouched', async () => {
    const dir = path.join(root, 'm3');
    await trainedModelAt(dir, 1);
    const before = await fs.readFile(path.join(dir, 'weights.bin'));
    const { model, config } = createMlp({ hidden: [64, 32] });
    const broken = {
      ...config,
      get seed(): number {
        throw new Error('disk full (simulated)');
      },
    };
    await assert.rejects(saveModel(model, { config: broken }, dir), /disk full/);
    assert.deepEqual(await fs.readFile(path.join(dir, 'weights.bin')), before);
    assert.deepEqual(
      (await fs.readdir(root)).filter((e) => e.startsWith('.')),
      [],
    );
    model.dispose();
  });

  it('recovers the old model when a save was interrupted between its two renames', async () => {
    const dir = path.join(root, 'm4');
    await trainedModelAt(dir);
    await fs.rename(dir, path.join(root, '.m4.old-123-456'));
    const loaded = await loadModel(dir);
    assert.equal(loaded.dir, dir);
    loaded.model.dispose();
  });

  it('missing, truncated or mismatched files give clear errors naming the file', async () => {
    const dir = path.join(root, 'm5');
    await trainedModelAt(dir);
    await rejectsModelFile(
      loadModel(path.join(root, 'nope')),
      /nope: no saved model here; train one first/,
    );

    const weights = await fs.readFile(path.join(dir, 'weights.bin'));
    await fs.writeFile(path.join(dir, 'weights.bin'), weights.subarray(0, 1000));
    await rejectsModelFile(
      loadModel(dir),
      /weights\.bin: holds 1000 bytes, expected \d+ float32 bytes/,
    );
    await fs.writeFile(path.join(dir, 'weights.bin'), weights);

    const meta = JSON.parse(await fs.readFile(path.join(dir, 'meta.json'), 'utf8'));
    await fs.writeFile(
      path.join(dir, 'meta.json'),
      JSON.stringify({ ...meta, config: { ...meta.config, hidden: [256, 128] } }),
    );
    await rejectsModelFile(
      loadModel(dir),
      /model\.json: weights .* do not match the architecture in meta\.json/,
    );
    await fs.writeFile(
      path.join(dir, 'meta.json'),
      JSON.stringify({ ...meta, config: { ...meta.config, dropout: 3 } }),
    );
    await rejectsModelFile(
      loadModel(dir),
      /meta\.json: holds an invalid config: dropout: must be in \[0, 1\)/,
    );
    await fs.writeFile(path.join(dir, 'meta.json'), '{"format": "mnist-notebooks/mo');
    await rejectsModelFile(loadModel(dir), /meta\.json: is not valid JSON/);
    await fs.writeFile(path.join(dir, 'meta.json'), JSON.stringify(meta));
    await fs.rm(path.join(dir, 'model.json'));
    await rejectsModelFile(loadModel(dir), /model\.json: missing/);
  });
});
