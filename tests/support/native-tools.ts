// Whether the native engine (tfjs-node on TensorFlow's library) is installed, and one rule for when it is not.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import type { TestContext } from 'node:test';
import { setting } from '../../lib/core/settings.js';

const require = createRequire(import.meta.url);

/** Why @tensorflow/tfjs-node cannot be loaded here, or undefined when it can. */
export function missingNativeEngine(): string | undefined {
  try {
    require.resolve('@tensorflow/tfjs-node');
    return undefined;
  } catch {
    return 'the native engine (@tensorflow/tfjs-node) is not installed; `npm run engine -- native` installs it';
  }
}

/**
 * Whether a native-engine test may go on. When the engine is missing it is skipped with
 * MNIST_SKIP_NATIVE=1 and fails without it, so that CI (.ci/run installs it) cannot pass by skipping.
 */
export function nativePresent(t: TestContext): boolean {
  const missing = missingNativeEngine();
  if (!missing) return true;
  if (setting('MNIST_SKIP_NATIVE')) {
    t.skip(`MNIST_SKIP_NATIVE=1 and ${missing}`);
    return false;
  }
  assert.fail(`${missing} (set MNIST_SKIP_NATIVE=1 to skip this test outside CI)`);
}
