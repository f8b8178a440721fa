// Deliberate changes to a split for experiments: damaged data (notebook 05), shifted digits and scrambled pixel order (notebook 07).
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

function checkSize(split: Split, height: number, width: number): void {
  if (split.count > 0 && split.images.length !== split.count * height * width) {
    throw new ConfigError(
      'images',
      `expected ${height}×${width} = ${height * width} pixels per image, got ${split.images.length / split.count}`,
    );
  }
}

/**
 * A copy of `split` with every image moved `dx` pixels right and `dy` pixels down (negative: left,
 * up); pixels moved in from outside the frame are 0 (background), pixels moved out are lost.
 */
export function shiftImages(split: Split, dx: number, dy: number, height = 28, width = 28): Split {
  if (!Number.isInteger(dx) || !Number.isInteger(dy))
    throw new ConfigError('shift', `must be whole pixels, got (${dx}, ${dy})`);
  checkSize(split, height, width);
  const d = height * width;
  const out = new Float32Array(split.count * d);
  const x0 = Math.max(0, dx);
  const x1 = Math.min(width, width + dx);
  for (let i = 0; i < split.count; i++) {
    for (let y = Math.max(0, dy); y < Math.min(height, height + dy); y++) {
      const from = i * d + (y - dy) * width + (x0 - dx);
      out.set(split.images.subarray(from, from + (x1 - x0)), i * d + y * width + x0);
    }
  }
  return { images: out, labels: split.labels, count: split.count };
}

/** A fixed, seeded shuffle of pixel positions: `order[j]` is the original pixel shown at position j. */
export function pixelPermutation(pixels: number, seed: number): Int32Array {
  return permutation(pixels, createRng(seed));
}

/**
 * A copy of `split` with every image's pixels rearranged by the same `order`. Nothing is lost: an MLP,
 * which has no notion of which pixels are neighbours, can learn it exactly as well as the original.
 */
export function permutePixels(split: Split, order: Int32Array): Split {
  const d = order.length;
  checkSize(split, 1, d);
  const out = new Float32Array(split.count * d);
  for (let i = 0; i < split.count; i++) {
    const base = i * d;
    for (let j = 0; j < d; j++) out[base + j] = split.images[base + order[j]];
  }
  return { images: out, labels: split.labels, count: split.count };
}
