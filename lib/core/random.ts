// Seeded randomness for everything training draws: shuffles and dropout masks (TensorFlow.js has no global seed).
import seedrandom from 'seedrandom';

/** A seeded generator; the same seed gives the same sequence on every machine. */
export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform 32-bit signed integer. */
  int32(): number;
}

export function createRng(seed: number | string): Rng {
  // alea: fast and well-distributed; the same algorithm TensorFlow.js uses for its seeded ops.
  const prng = seedrandom.alea(String(seed));
  return { next: () => prng(), int32: () => prng.int32() };
}

/** A Fisher–Yates permutation of 0..n-1. */
export function permutation(n: number, rng: Rng): Int32Array {
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng.next() * (i + 1));
    const t = order[i];
    order[i] = order[j];
    order[j] = t;
  }
  return order;
}

/**
 * Fills `out` with an inverted-dropout mask: each entry is 0 with probability `rate`, else 1/(1-rate),
 * so activations keep their expected value and inference needs no rescaling.
 */
export function fillDropoutMask(out: Float32Array, rate: number, rng: Rng): Float32Array {
  const keep = 1 / (1 - rate);
  // Compare raw 32-bit draws against a threshold: one generator call per entry, no float division.
  const threshold = Math.floor(rate * 2 ** 32) - 2 ** 31;
  for (let i = 0; i < out.length; i++) out[i] = rng.int32() < threshold ? 0 : keep;
  return out;
}
