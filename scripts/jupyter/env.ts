// Project-local Jupyter setup shared by the notebook runner and its tests: folders, environment, tslab kernel spec.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { ToolMissingError } from '../../lib/core/errors.js';
import { projectRoot as findProjectRoot } from '../../lib/core/paths.js';
import { ensurePython, pythonEnv, type EnsureOptions } from './python-env.js';
import { setting } from '../../lib/core/settings.js';

/** Repository root, found the one way lib/ finds it. */
export const projectRoot = findProjectRoot();

/** The kernel spec name tslab installs for TypeScript; notebooks' metadata.kernelspec.name. */
export const kernelName = 'tslab';

const installHint =
  "npm run python-env sets up the project's own Jupyter in .venv/ (see environment.md)";

export interface JupyterSetup {
  /** Python that runs Jupyter: MNIST_NB_PYTHON, else the project's .venv/ (scripts/jupyter/python-env.ts). */
  python: string;
  /** Project-local Jupyter folder (MNIST_NB_JUPYTER_DIR, else <root>/.jupyter, git-ignored). */
  jupyterDir: string;
  /** tslab binary the kernel spec runs (MNIST_NB_TSLAB, else node_modules/.bin/tslab). */
  tslab: string;
}

export function resolveSetup(env: NodeJS.ProcessEnv = process.env): JupyterSetup {
  return {
    python: setting('MNIST_NB_PYTHON', env) ?? pythonEnv(env).python,
    jupyterDir: path.resolve(
      setting('MNIST_NB_JUPYTER_DIR', env) ?? path.join(projectRoot, '.jupyter'),
    ),
    tslab: path.resolve(
      setting('MNIST_NB_TSLAB', env) ?? path.join(projectRoot, 'node_modules', '.bin', 'tslab'),
    ),
  };
}

/** Data folder holding kernels/; both JUPYTER_PATH and JUPYTER_DATA_DIR point here. */
export function dataDir(setup: JupyterSetup): string {
  return path.join(setup.jupyterDir, 'share', 'jupyter');
}

/**
 * Environment for Jupyter processes: every Jupyter folder inside the project so the user's home is
 * untouched, and the project-local kernel spec found first.
 */
export function jupyterEnv(
  setup: JupyterSetup,
  base: NodeJS.ProcessEnv = process.env,
): NodeJS.ProcessEnv {
  return {
    ...base,
    JUPYTER_PATH: dataDir(setup),
    JUPYTER_DATA_DIR: dataDir(setup),
    JUPYTER_CONFIG_DIR: path.join(setup.jupyterDir, 'config'),
    JUPYTER_RUNTIME_DIR: path.join(setup.jupyterDir, 'runtime'),
    // Debian's ipykernel/debugpy warn about frozen modules on every start otherwise.
    PYDEVD_DISABLE_FILE_VALIDATION: '1',
  };
}

/**
 * The kernel.json tslab's own installer (node_modules/tslab/python/install.py) would write for the tslab
 * binary `tslab`: the project-local spec here, the room's hub-wide one (scripts/room/hub.ts).
 */
export function tslabKernelSpec(tslab: string): object {
  return {
    argv: [tslab, 'kernel', '--config-path', '{connection_file}'],
    display_name: 'TypeScript',
    language: 'typescript',
  };
}

/**
 * Makes sure the project-local tslab kernel spec exists and runs this checkout's tslab; rewrites it when
 * missing or pointing elsewhere (the checkout moved). Written directly instead of via `tslab install`
 * because that needs IPython and takes a second; the content is identical. Returns what it did.
 */
export function ensureKernelSpec(setup: JupyterSetup): 'ok' | 'written' {
  if (!fs.existsSync(setup.tslab)) {
    throw new ToolMissingError(
      'tslab',
      `the tslab kernel is not installed: ${setup.tslab} does not exist; run npm install (see environment.md)`,
    );
  }
  const file = path.join(dataDir(setup), 'kernels', kernelName, 'kernel.json');
  const wanted = JSON.stringify(tslabKernelSpec(setup.tslab));
  if (readJson(file) === wanted) return 'ok';
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, wanted + '\n');
  fs.renameSync(tmp, file);
  return 'written';
}

function readJson(file: string): string | undefined {
  try {
    return JSON.stringify(JSON.parse(fs.readFileSync(file, 'utf8')));
  } catch {
    return undefined; // missing or corrupt: either way it gets rewritten
  }
}

/** Throws ToolMissingError unless `setup.python` runs and can import nbclient, nbformat and jupyter_client. */
export function checkPython(setup: JupyterSetup, env: NodeJS.ProcessEnv = process.env): void {
  const probe = 'import nbformat, jupyter_client, nbclient';
  const result = spawnSync(setup.python, ['-c', probe], { env, encoding: 'utf8', timeout: 60_000 });
  if (result.error) {
    const why =
      (result.error as NodeJS.ErrnoException).code === 'ENOENT'
        ? 'does not exist'
        : result.error.message;
    throw new ToolMissingError(
      'python',
      `Python for Jupyter not found: ${setup.python} ${why} (set MNIST_NB_PYTHON to another Python with nbclient; ${installHint})`,
    );
  }
  if (result.status !== 0) {
    const missing = /No module named '([^']+)'/.exec(result.stderr)?.[1] ?? 'nbclient';
    throw new ToolMissingError(
      'nbclient',
      `Jupyter's ${missing} is not installed for ${setup.python}, so notebooks cannot run (${installHint}; ` +
        'or set MNIST_NB_PYTHON to a Python that has it)',
    );
  }
}

export { installHint };

/**
 * The setup with a Python that works: the project's .venv/, built or rebuilt first when it is not whole
 * (ensurePython), or MNIST_NB_PYTHON, checked for nbclient.
 */
export async function readySetup(options: EnsureOptions = {}): Promise<JupyterSetup> {
  const env = options.env ?? process.env;
  const setup = resolveSetup(env);
  await ensurePython(options);
  if (setting('MNIST_NB_PYTHON', env) !== undefined) checkPython(setup, env);
  return setup;
}

/** A port on 127.0.0.1 that was free a moment ago (Jupyter itself takes --port 0 literally on some versions). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
