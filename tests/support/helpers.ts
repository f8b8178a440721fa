// Shared test helpers: a loaded engine and a small real-MNIST slice, so each test file starts fast.
import * as tf from '@tensorflow/tfjs';
import { loadDataset } from '../../lib/data/datasets.js';
import type { Dataset, Split } from '../../lib/data/types.js';
import { initEngine } from '../../lib/engine/engine.js';

/** The wasm engine: the default here; the fast gradient targets it. */
export async function useWasm(): Promise<void> {
  if (tf.getBackend() !== 'wasm') await initEngine('wasm');
}

/** The first `n` samples of a split, as views (no copy). */
export function head(split: Split, n: number, d = 784): Split {
  return { images: split.images.subarray(0, n * d), labels: split.labels.subarray(0, n), count: n };
}

/** The mnist-quick dataset (10k real MNIST training digits), loaded once per process. */
export async function quickMnist(): Promise<Dataset> {
  return loadDataset({ dataset: 'mnist-quick' });
}
