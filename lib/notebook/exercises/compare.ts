// Compares a learner's answer with a reference and says what is wrong in words a beginner can act on.
import * as tf from '@tensorflow/tfjs';

/** An answer's numbers, flat, with its shape ([] for a single number). */
export interface Values {
  readonly shape: readonly number[];
  readonly values: ArrayLike<number>;
}

/** A known way to be wrong: the answer equals `value` (or values scaled by `factor`), and what to say. */
export interface Mistake {
  readonly say: string;
  readonly value?: number;
  readonly values?: Values;
}

/** A factor the answer may be off by, and what that factor means in this exercise. */
export interface Factor {
  readonly factor: number;
  readonly say: string;
}

/** A wrong shape this exercise often gets, and what it means. */
export interface ShapeHint {
  readonly shape: readonly number[];
  readonly say: string;
}

export interface CompareOptions {
  /** What the answer is, for the messages: 'the mean image', 'dW2'. */
  readonly what: string;
  /** Largest |answer − expected| allowed, relative to the largest |expected| (default 1e-4). */
  readonly tolerance?: number;
  readonly factors?: readonly Factor[];
  readonly shapes?: readonly ShapeHint[];
  readonly mistakes?: readonly Mistake[];
}

/** Factors every exercise recognises: the pixel scale and the sign. */
const COMMON_FACTORS: readonly Factor[] = [
  { factor: 255, say: 'values 255 times too large: pixels go from 0 to 1 here, divide by 255' },
  { factor: 1 / 255, say: 'values 255 times too small: are you dividing by 255 a second time?' },
  { factor: -1, say: 'the sign is flipped' },
  { factor: 100, say: '100 times too large: a fraction in [0, 1] is expected, not a percentage' },
];

export const showShape = (shape: readonly number[]) => `[${shape.join(', ')}]`;

/** Readable number: 4 significant digits, exponent for very small or large values. */
export function num(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e-3 && a < 1e6) return String(Number(v.toPrecision(4)));
  return v.toExponential(2);
}

/**
 * The answer as numbers, or a sentence saying why it is not one. Tensors are read (not disposed: the
 * learner may still need them); undefined means the starter cell has not been filled in yet.
 */
export function readAnswer(answer: unknown): Values | string {
  if (answer === undefined || answer === null)
    return 'no answer yet: write your code where the cell says // your code, then run the cell';
  if (answer instanceof tf.Tensor) {
    if (answer.isDisposed) return 'your tensor was disposed before the check could read it';
    return { shape: answer.shape, values: answer.dataSync() as ArrayLike<number> };
  }
  if (typeof answer === 'number') return { shape: [], values: [answer] };
  if (ArrayBuffer.isView(answer) && !(answer instanceof DataView))
    return { shape: [(answer as Float32Array).length], values: answer as Float32Array };
  if (Array.isArray(answer) && answer.every((v) => typeof v === 'number'))
    return { shape: [answer.length], values: answer as number[] };
  return `expected a number, an array or a tensor, got ${describe(answer)}`;
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return 'an array of something other than numbers';
  if (value instanceof Promise) return 'a Promise (forgot an await?)';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

const sameShape = (a: readonly number[], b: readonly number[]) =>
  a.length === b.length && a.every((d, i) => d === b[i]);
const size = (shape: readonly number[]) => shape.reduce((p, d) => p * d, 1);

function shapeMessage(got: readonly number[], want: readonly number[], opts: CompareOptions) {
  const head = `${opts.what}: shape ${showShape(got)}, expected ${showShape(want)}`;
  const known = opts.shapes?.find((s) => sameShape(s.shape, got));
  if (known) return `${head}: ${known.say}`;
  if (got.length === 2 && want.length === 2 && got[0] === want[1] && got[1] === want[0])
    return `${head}: the two axes are swapped (transposed)`;
  if (size(got) === size(want)) return `${head}: the right numbers in another shape (tf.reshape)`;
  return head;
}

/** The largest |a − e| and where, and the largest |e|. */
export function differences(a: ArrayLike<number>, e: ArrayLike<number>) {
  let largest = 0;
  let worst = 0;
  let at = 0;
  for (let i = 0; i < e.length; i++) {
    largest = Math.max(largest, Math.abs(e[i]));
    const d = Math.abs(a[i] - e[i]);
    if (!(d <= worst)) {
      worst = d;
      at = i; // NaN lands here too: !(NaN <= worst)
    }
  }
  return { worst, at, largest, relative: worst / (largest || 1) };
}

/** The least-squares factor k with a ≈ k·e, if the fit is good (within 1 %). */
function fittedFactor(a: ArrayLike<number>, e: ArrayLike<number>): number | undefined {
  let ae = 0;
  let ee = 0;
  for (let i = 0; i < e.length; i++) {
    ae += a[i] * e[i];
    ee += e[i] * e[i];
  }
  if (ee === 0) return undefined;
  const k = ae / ee;
  let residual = 0;
  for (let i = 0; i < e.length; i++) residual = Math.max(residual, Math.abs(a[i] - k * e[i]));
  const { largest } = differences(e, e);
  return residual <= 0.01 * Math.abs(k) * largest ? k : undefined;
}

function matches(a: Values, b: Values, tolerance: number): boolean {
  return sameShape(a.shape, b.shape) && differences(a.values, b.values).relative <= tolerance;
}

/** Where in a tensor of `shape` the flat index `i` is: [row, column]. */
function position(i: number, shape: readonly number[]): string {
  if (shape.length <= 1) return shape.length === 0 ? '' : ` at [${i}]`;
  const at: number[] = [];
  for (let d = shape.length - 1; d >= 0; d--) {
    at.unshift(i % shape[d]);
    i = Math.floor(i / shape[d]);
  }
  return ` at ${showShape(at)}`;
}

/**
 * Null when `answer` equals `expected` (same shape, values within the tolerance), else one sentence: a wrong
 * shape, a known mistake, a factor, or the largest difference and where.
 */
export function compareValues(
  answer: Values,
  expected: Values,
  opts: CompareOptions,
): string | null {
  const tolerance = opts.tolerance ?? 1e-4;
  if (!sameShape(answer.shape, expected.shape)) {
    const scalarLike = size(answer.shape) === 1 && size(expected.shape) === 1;
    if (!scalarLike) return shapeMessage(answer.shape, expected.shape, opts);
    answer = { shape: expected.shape, values: answer.values };
  }
  const d = differences(answer.values, expected.values);
  if (d.relative <= tolerance) return null;
  for (const m of opts.mistakes ?? []) {
    const known =
      m.values ?? (m.value !== undefined ? { shape: [], values: [m.value] } : undefined);
    if (known && size(known.shape) === size(answer.shape)) {
      const values = { shape: answer.shape, values: known.values };
      if (matches(answer, values, tolerance)) return `${opts.what}: ${m.say}`;
    }
  }
  if (Array.from(answer.values as ArrayLike<number>).some((v) => !Number.isFinite(v)))
    return `${opts.what}: NaN or Infinity${position(d.at, answer.shape)}`;
  const k = fittedFactor(answer.values, expected.values);
  if (k !== undefined && size(answer.shape) > 0) {
    const known = [...(opts.factors ?? []), ...COMMON_FACTORS].find(
      (f) => Math.abs(k / f.factor - 1) < 0.01,
    );
    if (known) return `${opts.what}: ${known.say}`;
    if (size(answer.shape) > 1) return `${opts.what}: ${num(k)} times what it should be`;
  }
  if (size(answer.shape) === 1) {
    const side = answer.values[0] > expected.values[0] ? 'too high' : 'too low';
    return `${opts.what}: ${num(answer.values[0])} is ${side}`;
  }
  return (
    `${opts.what}: differs${position(d.at, answer.shape)}, yours ${num(answer.values[d.at])}, ` +
    `expected ${num(expected.values[d.at])} (largest difference ${num(d.worst)})`
  );
}

/** readAnswer, then compareValues: null when right, else what is wrong. */
export function compareAnswer(
  answer: unknown,
  expected: Values,
  opts: CompareOptions,
): string | null {
  const read = readAnswer(answer);
  return typeof read === 'string' ? read : compareValues(read, expected, opts);
}

/** A tensor's values, read once. */
export function valuesOf(t: tf.Tensor): Values {
  return { shape: t.shape, values: t.dataSync() as ArrayLike<number> };
}
