// `npm run test:unit`: the fast tests, for the edit-test loop. No notebooks, no browser, no full
// training; `npm test` still runs every file and is what CI runs.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../lib/core/paths.js';

/** Test files left out, and why. A new test file is a unit test unless it is named here. */
const SLOW: Readonly<Record<string, string>> = {
  'notebooks.test.ts': 'executes the notebooks',
  'notebooks-runner.test.ts': 'runs Jupyter on fixture notebooks',
  'fashion-notebook.test.ts': 'executes notebook 06',
  'student-copies.test.ts': 'executes notebook copies',
  'beyond-the-mlp-notebook.test.ts': 'executes notebook 07 and its solutions',
  'jupyter-browser.test.ts': 'Jupyter in a browser',
  'jupyter-live.test.ts': 'Jupyter in a browser',
  'render.test.ts': 'renders figures in Chromium',
  'display.test.ts': 'renders figures in Chromium',
  'demo.test.ts': 'the demo page in Chromium',
  'e2e-mnist.test.ts': 'trains on all of MNIST',
  'reliability.test.ts': 'training runs through the CLI, 30-epoch memory check',
  'cli-train.test.ts': 'training runs through the CLI',
  'room.test.ts': 'a JupyterHub room, four learners running a notebook',
};

const testsDir = path.join(projectRoot(), 'tests');
const files = readdirSync(testsDir)
  .filter((f) => f.endsWith('.test.ts') && !(f in SLOW))
  .sort()
  .map((f) => path.join('tests', f));
const args = [
  '--import',
  'tsx',
  '--test',
  '--test-concurrency=1',
  ...process.argv.slice(2),
  ...files,
];
const run = spawnSync(process.execPath, args, { cwd: projectRoot(), stdio: 'inherit' });
process.exitCode = run.status ?? 1;
