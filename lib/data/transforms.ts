// Copies and views of a split: its first n samples, and the deliberate damage notebook 05 does to data.
import { ConfigError } from '../core/errors.js';
import { createRng, permutation } from '../core/random.js';
import type { Split } from './types.js';

/** Pixels per image of a well-formed split; a clear error when images and labels do not add up. */
export function pixelsPerImage(split: Split, what = 'split'): number {
  if (
    split.count < 1 ||
    split.images.length % split.count !== 0 ||
    split.labels.length !== split.count
  ) {
    throw new ConfigError(
      what,
      `expected a split with ${split.count} images and as many labels, got ${split.images.length} pixel values and ${split.labels.length} labels`,
    );
  }
  return split.images.length / split.count;
}

/** The first `n` samples (views, no copy). */
export function headSplit(split: Split, n: number): Split {
  const d = pixelsPerImage(split);
  if (!Number.isInteger(n) || n < 1 || n > split.count) {
    throw new ConfigError('n', `must be an integer from 1 to ${split.count}, got ${n}`);
  }
  return { images: split.images.subarray(0, n * d), labels: split.labels.subarray(0, n), count: n };
}

/** A copy with every pixel multiplied by `factor`: ×255 undoes the usual scaling to [0, 1]. */
export function scaleImages(split: Split, factor: number): Split {
  if (!Number.isFinite(factor)) {
    throw new ConfigError('factor', `must be a finite number, got ${factor}`);
  }
  return { images: split.images.map((v) => v * factor), labels: split.labels, count: split.count };
}

/** A copy whose labels are a seeded permutation of the originals: same class counts, no relation to the image. */
export function shuffleLabels(split: Split, seed: number): Split {
  const order = permutation(split.count, createRng(`labels-${seed}`));
  return {
    images: split.images,
    labels: Int32Array.from(order, (i) => split.labels[i]),
    count: split.count,
  };
}

/** A copy sorted by label (all 0s, then all 1s, …), keeping file order within a class. */
export function sortByLabel(split: Split): Split {
  const d = pixelsPerImage(split);
  const order = Array.from({ length: split.count }, (_, i) => i).sort(
    (a, b) => split.labels[a] - split.labels[b] || a - b,
  );
  const images = new Float32Array(split.images.length);
  order.forEach((from, to) => images.set(split.images.subarray(from * d, (from + 1) * d), to * d));
  return { images, labels: Int32Array.from(order, (i) => split.labels[i]), count: split.count };
}
