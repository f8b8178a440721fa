// A checked exercise: check() runs the learner's answer against a reference and prints one line; hint() helps.
import * as tf from '@tensorflow/tfjs';

/** What a check found: right or not, and the one line it prints. */
export interface Verdict {
  readonly ok: boolean;
  readonly message: string;
}

/**
 * Returns null when the answer is right (or a sentence saying what is right, prefixed with 'ok:'), else a
 * sentence saying what is wrong.
 */
export type Judge<A extends unknown[]> = (...args: A) => string | null;

export class Exercise<A extends unknown[]> {
  private hintsGiven = 0;

  constructor(
    /** Which exercise, as the notebook numbers it: 'exercise 5 (the mean image)'. */
    readonly title: string,
    private readonly judge: Judge<A>,
    private readonly hints: readonly string[],
  ) {}

  /** The verdict without printing it (the tests use this). */
  verdict(...args: A): Verdict {
    let found: string | null;
    try {
      // Whatever tensors the learner's code and the reference make are freed here, except the learner's
      // own inputs, which tidy does not touch.
      found = tf.tidy(() => this.judge(...args) ?? '') || null; // '' carries null through tidy
    } catch (err) {
      found = `your code threw an error: ${(err as Error).message.split('\n')[0]}`;
    }
    if (found === null) return { ok: true, message: `✓ ${this.title}: correct` };
    if (found.startsWith('ok:'))
      return { ok: true, message: `✓ ${this.title}: ${found.slice(3).trim()}` };
    return { ok: false, message: `✗ ${this.title}: ${found}` };
  }

  /** Runs the check and prints its one line. */
  check(...args: A): void {
    console.log(this.verdict(...args).message);
  }

  /** Prints the next hint (the last one again once all are given). Hints guide; they hold no solution code. */
  hint(): void {
    const i = Math.min(this.hintsGiven, this.hints.length - 1);
    this.hintsGiven++;
    console.log(`hint ${i + 1} of ${this.hints.length}, ${this.title}: ${this.hints[i]}`);
  }
}
