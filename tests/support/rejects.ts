// One assertion for the kit's errors: the promise rejects with this KitError class and code, and its
// message holds every snippet; the error comes back for any further check.
import assert from 'node:assert/strict';
import type { KitError } from '../../lib/core/errors.js';

/** Awaits `fn` and asserts it fails with a `type` error whose code is `code` and message has each snippet. */
export async function rejectsWithCode<E extends KitError>(
  fn: () => unknown,
  // The error classes take different constructor arguments; only `instanceof` is used here.
  type: abstract new (...args: never[]) => E,
  code: string,
  ...snippets: string[]
): Promise<E> {
  let caught: E | undefined;
  await assert.rejects(
    async () => fn(),
    (err: unknown) => {
      assert.ok(err instanceof type, `expected ${type.name}, got ${String(err)}`);
      assert.equal(err.code, code, err.message);
      for (const s of snippets) assert.ok(err.message.includes(s), `"${err.message}" lacks "${s}"`);
      caught = err;
      return true;
    },
  );
  return caught!;
}
