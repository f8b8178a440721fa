// The system tools the browser, Jupyter and room tests need, and one rule for when they are missing.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import type { TestContext } from 'node:test';
import { setting } from '../../lib/core/settings.js';
import { envProblem, pythonEnv } from '../../scripts/jupyter/python-env.js';

export const browserPath = setting('MNIST_NB_BROWSER') ?? '/usr/bin/chromium';

/**
 * Why Chromium and the project's Jupyter (.venv/, or MNIST_NB_PYTHON with JupyterLab, Notebook 7 and
 * nbclient) cannot run here, or undefined. The tests never build .venv/ themselves: .ci/run does.
 */
export function missingJupyterTools(): string | undefined {
  const missing: string[] = [];
  if (!fs.existsSync(browserPath))
    missing.push(`chromium (${browserPath}; apt-get install chromium, or set MNIST_NB_BROWSER)`);
  const own = setting('MNIST_NB_PYTHON');
  if (own !== undefined) {
    const probe = spawnSync(own, ['-c', 'import jupyterlab, notebook, nbclient, nbformat'], {
      encoding: 'utf8',
    });
    if (probe.status !== 0)
      missing.push(`JupyterLab, Notebook 7 and nbclient for MNIST_NB_PYTHON=${own}`);
  } else {
    const problem = envProblem(pythonEnv());
    if (problem) missing.push(`the Jupyter environment .venv/ ${problem} (npm run python-env)`);
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
  if (setting('MNIST_NB_SKIP_BROWSER')) {
    t.skip(`MNIST_NB_SKIP_BROWSER=1 and ${missing}`);
    return false;
  }
  assert.fail(`${missing} (set MNIST_NB_SKIP_BROWSER=1 to skip this test outside CI)`);
}
