// The system tools the browser, Jupyter and room tests need, and one rule for when they are missing.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import type { TestContext } from 'node:test';

export const browserPath = process.env.MNIST_NB_BROWSER || '/usr/bin/chromium';

/** Why Chromium and Jupyter Notebook (with nbclient and nbformat) cannot run here, or undefined. */
export function missingJupyterTools(python: string): string | undefined {
  const missing: string[] = [];
  if (!fs.existsSync(browserPath))
    missing.push(`chromium (${browserPath}; apt-get install chromium, or set MNIST_NB_BROWSER)`);
  const probe = spawnSync(python, ['-c', 'import notebook, nbclient, nbformat'], {
    encoding: 'utf8',
  });
  if (probe.status !== 0) {
    missing.push(
      `Jupyter Notebook for ${python} (apt-get install jupyter-notebook jupyter-nbconvert python3-nbclient python3-ipykernel jupyter-client; see environment.md)`,
    );
  }
  return missing.length > 0 ? `missing: ${missing.join('; ')}` : undefined;
}

/**
 * Whether a test that needs system tools may go on: yes when nothing is `missing`. Otherwise it is
 * skipped with MNIST_NB_SKIP_BROWSER=1 and fails without it, so that CI cannot pass by skipping what
 * .ci/run forgot to install.
 */
export function toolsPresent(t: TestContext, missing: string | undefined): boolean {
  if (!missing) return true;
  if (process.env.MNIST_NB_SKIP_BROWSER === '1') {
    t.skip(`MNIST_NB_SKIP_BROWSER=1 and ${missing}`);
    return false;
  }
  assert.fail(`${missing} (set MNIST_NB_SKIP_BROWSER=1 to skip this test outside CI)`);
}
