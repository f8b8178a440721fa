// Image transforms for experiments: shifting digits by whole pixels, and scrambling pixel order with a fixed permutation.
import { ConfigError } from '../core/errors.js';
import { createRng, permutation } from '../core/random.js';
import type { Split } from './types.js';

function checkSize(split: Split, height: number, width: number): void {
  if (split.count > 0 && split.images.length !== split.count * height * width) {
    throw new ConfigError('images', `expected ${height}×${width} = ${height * width} pixels per image, got ${split.images.length / split.count}`);
  }
}

/**
 * A copy of `split` with every image moved `dx` pixels right and `dy` pixels down (negative: left,
 * up); pixels moved in from outside the frame are 0 (background), pixels moved out are lost.
 */
export function shiftImages(split: Split, dx: number, dy: number, height = 28, width = 28): Split {
  if (!Number.isInteger(dx) || !Number.isInteger(dy)) throw new ConfigError('shift', `must be whole pixels, got (${dx}, ${dy})`);
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
