// `npm run python-env`: makes the project's Jupyter environment .venv/ from the hash-pinned lock, or says it is ready.
import * as path from 'node:path';
import { parseCli, runMain, usage, type DescribedOptionTable } from '../shared/options.js';
import { buildEnv, describeVersions, envProblem, findBasePython, pythonEnv } from './python-env.js';

const OPTIONS = {
  check: {
    type: 'boolean',
    describe: 'only say whether .venv/ is ready (exit 0) or why not (exit 1)',
  },
  force: { type: 'boolean', describe: 'rebuild even when it is ready' },
  help: { type: 'boolean', short: 'h', describe: 'this help' },
} as const satisfies DescribedOptionTable;

const USAGE = usage(
  {
    synopsis: ['npm run python-env -- [--check] [--force]'],
    about: [
      `Creates .venv/ in the project (JupyterLab 4, Notebook 7, nbclient, ipykernel, JupyterHub 5 and
      its idle culler) from python/requirements.txt: exact versions, every file hash-checked by pip,
      nothing written to your home folder (pip's cache is .cache/pip). Does nothing when .venv/ is
      already whole; rebuilds it when it is half-made, from another lock, or broken.`,
    ],
    settings: ['MNIST_NB_BASE_PYTHON', 'MNIST_NB_VENV'],
    notes: ['Behind a proxy or with a mirror: PIP_INDEX_URL / HTTPS_PROXY (see environment.md).'],
  },
  OPTIONS,
);

async function main(argv: string[]): Promise<number> {
  const { values } = parseCli(argv, OPTIONS);
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const venv = pythonEnv();
  const rel = path.relative(process.cwd(), venv.dir) || venv.dir;
  const problem = envProblem(venv);
  if (values.check) {
    process.stdout.write(problem ? `${rel}/ ${problem}\n` : `${rel}/ is ready\n`);
    return problem ? 1 : 0;
  }
  if (!problem && !values.force) {
    process.stdout.write(`${rel}/ is ready (npm run python-env -- --force rebuilds it)\n`);
    return 0;
  }
  const base = findBasePython(process.env, venv.lock); // no Python: its one line, exit 2
  if (problem) process.stderr.write(`${rel}/ ${problem}: building it\n`);
  const stamp = await buildEnv(venv, { base });
  process.stdout.write(
    `ready: ${rel}/ (${describeVersions(stamp.versions)}) in ${stamp.seconds} s\n`,
  );
  return 0;
}

runMain(() => main(process.argv.slice(2)));
