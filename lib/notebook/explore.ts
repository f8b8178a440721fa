// Looking inside the data: mean digit per class, digits far from their class mean, pixel statistics, captions.
import type { Split } from '../data/types.js';
import { ConfigError } from '../core/errors.js';
import { formatPercent } from '../core/format.js';
import type { Predictions } from '../ml/evaluate.js';

function checkSplit(split: Split, pixels: number): void {
  if (split.images.length !== split.count * pixels || split.labels.length !== split.count) {
    throw new ConfigError(
      'split',
      `holds ${split.images.length} pixel values and ${split.labels.length} labels for ${split.count} images of ${pixels} pixels`,
    );
  }
}

/** The average image of each class (numClasses × pixels, row-major, in [0, 1]); a class without samples stays 0. */
export function classMeanImages(split: Split, numClasses: number, pixels = 784): Float32Array {
  checkSplit(split, pixels);
  const sums = new Float64Array(numClasses * pixels);
  const counts = new Array<number>(numClasses).fill(0);
  for (let i = 0; i < split.count; i++) {
    const c = split.labels[i];
    if (c < 0 || c >= numClasses)
      throw new ConfigError(
        'labels',
        `label ${i} is ${c}; expected a class from 0 to ${numClasses - 1}`,
      );
    counts[c]++;
    const img = split.images.subarray(i * pixels, (i + 1) * pixels);
    for (let j = 0; j < pixels; j++) sums[c * pixels + j] += img[j];
  }
  const means = new Float32Array(numClasses * pixels);
  for (let c = 0; c < numClasses; c++)
    for (let j = 0; j < pixels; j++)
      means[c * pixels + j] = counts[c] ? sums[c * pixels + j] / counts[c] : 0;
  return means;
}

export interface Outlier {
  readonly index: number;
  readonly label: number;
  /** Euclidean distance in pixel space (pixels in [0, 1]) from the mean image of its own class. */
  readonly distance: number;
}

/**
 * The `perClass` images of each class farthest from their class's mean image: the unusual ways of
 * writing a digit (thick, slanted, broken, off-centre). Classes in order, farthest first within each.
 */
export function farthestFromClassMean(
  split: Split,
  means: Float32Array,
  numClasses: number,
  perClass: number,
  pixels = 784,
): Outlier[] {
  checkSplit(split, pixels);
  if (means.length !== numClasses * pixels)
    throw new ConfigError(
      'means',
      `holds ${means.length} values; expected ${numClasses} × ${pixels}`,
    );
  const byClass: Outlier[][] = Array.from({ length: numClasses }, () => []);
  for (let i = 0; i < split.count; i++) {
    const c = split.labels[i];
    let sq = 0;
    for (let j = 0; j < pixels; j++) {
      const d = split.images[i * pixels + j] - means[c * pixels + j];
      sq += d * d;
    }
    byClass[c].push({ index: i, label: c, distance: Math.sqrt(sq) });
  }
  return byClass.flatMap((list) =>
    list.sort((a, b) => b.distance - a.distance || a.index - b.index).slice(0, perClass),
  );
}

/** Caption for one prediction: "true 4 → 9 (87%)". */
export function predictionCaption(
  p: Pick<Predictions, 'labels' | 'predicted' | 'confidence'>,
  index: number,
  classNames: readonly string[],
): string {
  const name = (c: number) => classNames[c] ?? String(c);
  return `${name(p.labels[index])} → ${name(p.predicted[index])} (${formatPercent(p.confidence[index], 0)})`;
}

export interface PixelStats {
  readonly count: number;
  readonly min: number;
  readonly max: number;
  readonly mean: number;
  /** Population standard deviation. */
  readonly std: number;
  /** Share of pixels that are exactly 0 (background). */
  readonly zeroFraction: number;
}

/** Summary of pixel values, e.g. before and after dividing by 255; `scale` multiplies every value first. */
export function pixelStats(values: ArrayLike<number>, scale = 1): PixelStats {
  if (values.length === 0) throw new ConfigError('values', 'no pixel values to summarise');
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  let sumSq = 0;
  let zeros = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i] * scale;
    if (v < min) min = v;
    if (v > max) max = v;
    sum += v;
    sumSq += v * v;
    if (v === 0) zeros++;
  }
  const mean = sum / values.length;
  return {
    count: values.length,
    min,
    max,
    mean,
    std: Math.sqrt(Math.max(0, sumSq / values.length - mean * mean)),
    zeroFraction: zeros / values.length,
  };
}
