// `npm run engine -- [status|native|gpu]`: which engine runs here, and the commands that install the native ones.
import * as path from 'node:path';
import { parseCli, runMain, usage, type DescribedOptionTable } from '../shared/options.js';

const ACTIONS = ['status', 'native', 'gpu'] as const;

const OPTIONS = {
  help: { type: 'boolean', short: 'h', describe: 'this help' },
} as const satisfies DescribedOptionTable;

const USAGE = usage(
  {
    synopsis: [`npm run engine -- [${ACTIONS.join('|')}]`],
    about: [],
    arguments: [
      ['status', '(default) which engine the kit picks here, and why the better ones are skipped'],
      [
        'native',
        `installs the native CPU engine: @tensorflow/tfjs-node 4.22.0 on TensorFlow 2.21.0's own
        library, taken from PyPI (the tensorflow-cpu wheel, sha256-pinned, cached in
        .cache/native-engine/), its binding built here by node-gyp. Needs Linux x86-64, a C++
        compiler, make and python3; reaches only PyPI and the npm registry. About 1 min, ~1 GB.`,
      ],
      [
        'gpu',
        `installs @tensorflow/tfjs-node-gpu 4.22.0 (CUDA). Needs an NVIDIA GPU and driver, the CUDA
        11 runtime (11.2) and cuDNN 8 (8.1) on the library path, and access to storage.googleapis.com
        (its install script downloads libtensorflow 2.9.1 GPU from there).`,
      ],
    ],
    settings: ['MNIST_ENGINE_THREADS'],
    notes: [
      `Both install without changing package.json or package-lock.json; npm ci removes them again
      (run the command after it). See environment.md, "Engines".`,
    ],
  },
  OPTIONS,
);

async function main(): Promise<number> {
  const { values, positionals } = parseCli(process.argv.slice(2), OPTIONS, {
    min: 0,
    max: 1,
    describe: `one action (${ACTIONS.join(', ')})`,
    choices: ACTIONS,
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const root = path.resolve(import.meta.dirname, '../..');
  const log = (line: string) => console.error(`engine: ${line}`);
  const action = (positionals[0] ?? 'status') as (typeof ACTIONS)[number];
  if (action === 'status') {
    const { initEngine } = await import('../../lib/engine/engine.js');
    console.log((await initEngine('auto')).summary);
    return 0;
  }
  const { installGpu, installNative } = await import('./native.js');
  await (action === 'native' ? installNative : installGpu)({ root, log });
  return 0;
}

runMain(main);
