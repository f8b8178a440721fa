// Tests for lib/notebook/settings.ts: quick-mode settings from the environment, and load-or-train of the shared saved model.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Dataset } from '../../lib/data/types.js';
import { ConfigError, ModelFileError } from '../../lib/core/errors.js';
import { defaultDataDir } from '../../lib/data/datasets.js';
import {
  describeSettings,
  loadOrTrainModel,
  notebookSettings,
  type NotebookSettings,
} from '../../lib/notebook/settings.js';
import { head, quickMnist, useWasm } from '../support/helpers.js';

describe('notebookSettings', () => {
  it('full mode by default: all of MNIST, 10 epochs, the model "mlp"', () => {
    assert.deepEqual(
      { ...notebookSettings({}) },
      {
        quick: false,
        dataset: 'mnist',
        epochs: 10,
        batchSize: 128,
        modelName: 'mlp',
        fashionDir: defaultDataDir('fashion-mnist'),
      },
    );
    assert.equal(notebookSettings({ MNIST_NB_QUICK: '0' }).quick, false);
    assert.equal(notebookSettings({ MNIST_NB_QUICK: 'false' }).quick, false);
    assert.equal(notebookSettings({ MNIST_NB_FASHION_DIR: ' /tmp/f ' }).fashionDir, '/tmp/f');
  });

  it('refuses a quick switch it cannot read instead of guessing', () => {
    assert.throws(
      () => notebookSettings({ MNIST_NB_QUICK: 'nope' }),
      (e: unknown) =>
        e instanceof ConfigError &&
        e.message === 'MNIST_NB_QUICK: expected 1 or 0 (or true/false, yes/no, on/off), got "nope"',
    );
  });

  it('quick mode shrinks data and epochs and saves under another name, unless MNIST_NB_MODEL says where', () => {
    const quick = notebookSettings({ MNIST_NB_QUICK: '1' });
    assert.deepEqual(
      { ...quick },
      {
        quick: true,
        dataset: 'mnist-quick',
        epochs: 2,
        batchSize: 128,
        modelName: 'mlp-quick',
        fashionDir: defaultDataDir('fashion-mnist'),
      },
    );
    assert.match(describeSettings(quick), /Quick mode.*mnist-quick.*2 epochs.*mlp-quick/);
    assert.equal(
      notebookSettings({ MNIST_NB_QUICK: '1', MNIST_NB_MODEL: '/tmp/x/model' }).modelName,
      '/tmp/x/model',
    );
  });
});

describe('loadOrTrainModel', () => {
  let dir: string;
  let data: Dataset;
  before(async () => {
    await useWasm();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mnist-nb-lib-'));
    const full = await quickMnist();
    data = {
      ...full,
      train: head(full.train, 2000),
      validation: head(full.validation, 200),
      test: head(full.test, 500),
    };
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('trains and saves when no model exists, then loads the same weights the next time', async () => {
    const settings: NotebookSettings = {
      ...notebookSettings({ MNIST_NB_QUICK: '1' }),
      epochs: 1,
      modelName: path.join(dir, 'model'),
    };
    const lines: string[] = [];
    const out = { write: (s: string) => lines.push(s) };
    const first = await loadOrTrainModel(settings, data, out);
    assert.equal(first.trained, true);
    assert.equal(first.history.length, 1);
    assert.match(
      lines.join(''),
      /No saved model at .*training the model of record now \(1 epochs on mnist-quick\)/,
    );
    assert.match(lines.join(''), /epoch 1\/1 .*test/);
    assert.ok(fs.existsSync(path.join(dir, 'model', 'weights.bin')));
    const second = await loadOrTrainModel(settings, data, out);
    assert.equal(second.trained, false);
    assert.deepEqual(second.history, first.history);
    assert.equal(second.meta?.dataset?.trainSamples, 2000);
    const a = first.model.layers[0].getWeights()[0].dataSync();
    const b = second.model.layers[0].getWeights()[0].dataSync();
    assert.deepEqual(Array.from(b.slice(0, 1000)), Array.from(a.slice(0, 1000)));
    first.model.dispose();
    second.model.dispose();
  });

  it('refuses a model folder that exists but is broken instead of retraining silently', async () => {
    const broken = path.join(dir, 'broken');
    fs.mkdirSync(broken);
    fs.writeFileSync(path.join(broken, 'meta.json'), '{ not json');
    const settings: NotebookSettings = {
      ...notebookSettings({ MNIST_NB_QUICK: '1' }),
      epochs: 1,
      modelName: broken,
    };
    await assert.rejects(loadOrTrainModel(settings, data, { write: () => true }), ModelFileError);
    assert.equal(fs.existsSync(path.join(broken, 'weights.bin')), false);
  });
});
