// Tests for saving and loading models: exact round trip, atomic replacement, and clear errors on damaged files.
import assert from 'node:assert/strict';
import { mkdtempSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import type { Dataset } from '../../lib/data/types.js';
import { ModelFileError } from '../../lib/core/errors.js';
import { predict } from '../../lib/ml/evaluate.js';
import { createCnn, trainCnn } from '../../lib/ml/cnn.js';
import { createMlp } from '../../lib/ml/model.js';
import { loadModel, saveModel } from '../../lib/ml/persist.js';
import { trainModel } from '../../lib/ml/train.js';
import { head, quickMnist, useWasm } from '../support/helpers.js';

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
    assert.equal(loaded.kind, 'mlp');
    if (loaded.kind !== 'mlp') return;
    const before = predict(model, head(data.test, 500));
    const after = predict(loaded.model, head(data.test, 500));
    assert.deepEqual(Array.from(after.probabilities), Array.from(before.probabilities));
    assert.deepEqual(loaded.config, config);
    assert.equal(loaded.meta.history.length, 1);
    assert.deepEqual((await fs.readdir(dir)).sort(), ['meta.json', 'model.json', 'weights.bin']);
    // An MLP's meta.json is written as before the CNN existed: no "kind" (absent means 'mlp').
    const meta = JSON.parse(await fs.readFile(path.join(dir, 'meta.json'), 'utf8'));
    assert.equal('kind' in meta, false);
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

  it('a CNN round-trips: saved as kind "cnn", rebuilt as a CNN, identical predictions', async () => {
    const dir = path.join(root, 'cnn1');
    const { model, config } = createCnn({
      filters: [4, 8],
      denseUnits: 16,
      dropout: 0.25,
      seed: 3,
    });
    const result = await trainCnn(
      model,
      config,
      { train: head(data.train, 512) },
      { epochs: 1, batchSize: 128, evaluate: false },
    );
    await saveModel(model, { config, history: result.history, engine: 'wasm' }, dir);
    const meta = JSON.parse(await fs.readFile(path.join(dir, 'meta.json'), 'utf8'));
    assert.equal(meta.kind, 'cnn', 'marked as a CNN even when the caller does not say so');
    const loaded = await loadModel(dir);
    assert.equal(loaded.kind, 'cnn');
    assert.deepEqual(loaded.config, config);
    const before = predict(model, head(data.test, 300));
    const after = predict(loaded.model, head(data.test, 300));
    assert.deepEqual(Array.from(after.probabilities), Array.from(before.probabilities));
    loaded.model.dispose();

    // The CNN's own checks: a config that does not match the weights, or an unknown kind, is named.
    await fs.writeFile(
      path.join(dir, 'meta.json'),
      JSON.stringify({ ...meta, config: { ...meta.config, filters: [8, 8] } }),
    );
    await rejectsModelFile(
      loadModel(dir),
      /model\.json: weights .* do not match the architecture in meta\.json/,
    );
    await fs.writeFile(
      path.join(dir, 'meta.json'),
      JSON.stringify({ ...meta, config: { ...meta.config, kernelSize: 0 } }),
    );
    await rejectsModelFile(
      loadModel(dir),
      /meta\.json: holds an invalid config: kernelSize: must be a positive integer/,
    );
    await fs.writeFile(path.join(dir, 'meta.json'), JSON.stringify({ ...meta, kind: 'rnn' }));
    await rejectsModelFile(loadModel(dir), /meta\.json: kind is "rnn", expected one of mlp, cnn/);
    // The same weights read as an MLP (kind removed) fail on shapes, not silently.
    const { kind: _kind, ...withoutKind } = meta;
    await fs.writeFile(path.join(dir, 'meta.json'), JSON.stringify(withoutKind));
    await assert.rejects(loadModel(dir), (e: unknown) => e instanceof ModelFileError);
    model.dispose();
  });
});
