// The project's pinned Python side: where .venv/ and its lock live, whether the environment is whole, and building it from the lock.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ToolMissingError } from '../../lib/core/errors.js';
import { projectRoot as findProjectRoot } from '../../lib/core/paths.js';
import { setting } from '../../lib/core/settings.js';

const projectRoot = findProjectRoot();

/** The hash-pinned lock (`uv pip compile --universal --generate-hashes`), installed by plain pip. */
export const lockFile = path.join(projectRoot, 'python', 'requirements.txt');

/** The modules the kit runs; importing all of them is the environment's health check. */
export const checkedModules = [
  'jupyterlab',
  'notebook',
  'jupyter_server',
  'nbclient',
  'nbformat',
  'ipykernel',
  'jupyter_client',
  'jupyterhub',
  'jupyterhub_idle_culler',
] as const;

const STAMP = 'mnist-notebooks-env.json';

export interface PythonEnv {
  /** The virtual environment's folder: MNIST_NB_VENV, else <root>/.venv (git-ignored). */
  dir: string;
  /** Its Python (bin/python, Scripts\python.exe on Windows). */
  python: string;
  /** Its scripts folder (jupyter-lab, jupyterhub, jupyterhub-singleuser, …). */
  bin: string;
  lock: string;
}

/** Paths of the project's environment; every script and test takes them from here. */
export function pythonEnv(env: NodeJS.ProcessEnv = process.env, lock = lockFile): PythonEnv {
  const dir = path.resolve(setting('MNIST_NB_VENV', env) ?? path.join(projectRoot, '.venv'));
  const bin = path.join(dir, process.platform === 'win32' ? 'Scripts' : 'bin');
  const exe = process.platform === 'win32' ? 'python.exe' : 'python';
  return { dir, bin, python: path.join(bin, exe), lock };
}

/** pip's download cache, inside the project so nothing is written to the user's home. */
export const pipCacheDir = path.join(projectRoot, '.cache', 'pip');

/** The oldest Python the lock was resolved for, read from the `--python-version X.Y` in its header. */
export function minimumPython(lock = lockFile): [number, number] {
  const header = fs.readFileSync(lock, 'utf8').slice(0, 2000);
  const m = /--python-version (\d+)\.(\d+)/.exec(header);
  if (!m)
    throw new Error(`${lock}: no "--python-version X.Y" in its header (made by uv pip compile)`);
  return [Number(m[1]), Number(m[2])];
}

function sha256(file: string): string {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

interface Stamp {
  lockSha256: string;
  basePython: string;
  pythonVersion: string;
  versions: Record<string, string>;
  seconds: number;
}

function readStamp(dir: string): Partial<Stamp> | undefined {
  try {
    return JSON.parse(fs.readFileSync(path.join(dir, STAMP), 'utf8')) as Partial<Stamp>;
  } catch {
    return undefined; // missing or cut short: either way the environment is not whole
  }
}

/** Imports `modules` in `python`; returns each one's version, or the first failure's last line. */
function importModules(
  python: string,
  modules: readonly string[],
): { versions: Record<string, string> } | { error: string } {
  const code =
    'import importlib, json, sys\n' +
    'out = {}\n' +
    'for m in sys.argv[1:]:\n' +
    '    out[m] = str(getattr(importlib.import_module(m), "__version__", "?"))\n' +
    'print(json.dumps(out))\n';
  const r = spawnSync(python, ['-c', code, ...modules], {
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, PYTHONNOUSERSITE: '1' },
  });
  if (r.error) return { error: `its Python cannot run (${r.error.message})` };
  if (r.status !== 0) {
    const lines = r.stderr.trim().split('\n');
    return { error: `its Python fails to import a package: ${lines[lines.length - 1]}` };
  }
  return { versions: JSON.parse(r.stdout) as Record<string, string> };
}

/**
 * Why the environment cannot be used as it is (then it must be rebuilt), or undefined when it is whole:
 * made to the end (the stamp is written last) from this very lock, and its packages import.
 */
export function envProblem(
  venv: PythonEnv,
  modules: readonly string[] = checkedModules,
): string | undefined {
  if (!fs.existsSync(venv.dir)) return 'is not set up yet';
  const stamp = readStamp(venv.dir);
  if (!stamp) return 'is incomplete (its set-up did not finish)';
  if (stamp.lockSha256 !== sha256(venv.lock))
    return `was made from another lock (${path.relative(projectRoot, venv.lock)} changed since)`;
  if (!fs.existsSync(venv.python)) return `has no Python (${venv.python} is missing)`;
  const probe = importModules(venv.python, modules);
  return 'error' in probe ? probe.error : undefined;
}

export interface BasePython {
  command: string;
  executable: string;
  version: [number, number, number];
}

/** The Pythons tried to create the environment, in order: MNIST_NB_BASE_PYTHON, else the usual names. */
function candidates(env: NodeJS.ProcessEnv): string[][] {
  const chosen = setting('MNIST_NB_BASE_PYTHON', env);
  if (chosen !== undefined) return [[chosen]];
  const unix = [['python3'], ['python']];
  return process.platform === 'win32' ? [['py', '-3'], ...unix] : unix;
}

function probePython(command: string[], env: NodeJS.ProcessEnv): BasePython | undefined {
  const code = 'import sys; print(sys.executable); print(*sys.version_info[:3])';
  const r = spawnSync(command[0], [...command.slice(1), '-c', code], {
    encoding: 'utf8',
    timeout: 30_000,
    env,
  });
  if (r.status !== 0 || r.error) return undefined;
  const [executable, version] = r.stdout.trim().split('\n');
  const parts = (version ?? '').split(' ').map(Number);
  if (!executable || parts.length !== 3 || parts.some(Number.isNaN)) return undefined;
  return { command: command.join(' '), executable, version: parts as [number, number, number] };
}

/**
 * The Python that creates the environment: the first candidate at least as new as the lock needs and
 * with `venv`. Throws ToolMissingError (exit 2, one line saying what to install) otherwise.
 */
export function findBasePython(env: NodeJS.ProcessEnv = process.env, lock = lockFile): BasePython {
  const [major, minor] = minimumPython(lock);
  const need = `Python ${major}.${minor} or newer`;
  const install =
    'install it from python.org, or on Debian/Ubuntu: sudo apt-get install python3 python3-venv';
  const found = candidates(env)
    .map((c) => probePython(c, env))
    .filter((p): p is BasePython => p !== undefined);
  const fit = found.find((p) => p.version[0] === major && p.version[1] >= minor);
  if (!fit) {
    const seen = found.map((p) => `${p.version.join('.')} (${p.command})`).join(', ');
    const names = candidates(env)
      .map((c) => c.join(' '))
      .join(', ');
    throw new ToolMissingError(
      'python',
      `${need} is needed for Jupyter; ${seen ? `found only ${seen}` : `none found (tried ${names})`}: ${install}`,
    );
  }
  const hasVenv = spawnSync(fit.executable, ['-c', 'import venv, ensurepip'], { stdio: 'ignore' });
  if (hasVenv.status !== 0) {
    throw new ToolMissingError(
      'python-venv',
      `${fit.executable} has no venv/ensurepip module, so it cannot make .venv/: on Debian/Ubuntu sudo apt-get install python3-venv`,
    );
  }
  return fit;
}

/** Runs a command, its output into `log`; resolves with the exit status. `onLine` sees stdout lines. */
function runLogged(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  log: fs.WriteStream,
  onLine: (line: string) => void = () => {},
): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let partial = '';
    child.stdout.on('data', (d: Buffer) => {
      log.write(d);
      const lines = (partial + d.toString()).split('\n');
      partial = lines.pop() ?? '';
      lines.forEach(onLine);
    });
    child.stderr.on('data', (d: Buffer) => log.write(d));
    child.once('error', reject);
    child.once('close', (code) => resolve(code ?? 1));
  });
}

function tail(file: string, lines = 15): string {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

/** How many requirements of the lock apply here is pip's business; this counts the pinned lines. */
function pinnedCount(lock: string): number {
  return fs
    .readFileSync(lock, 'utf8')
    .split('\n')
    .filter((l) => /^[A-Za-z0-9].*==/.test(l)).length;
}

export interface BuildOptions {
  /** Where progress lines go (default stderr). */
  say?: (line: string) => void;
  /** The Python that creates it (default: findBasePython()). */
  base?: BasePython;
  modules?: readonly string[];
  env?: NodeJS.ProcessEnv;
}

/**
 * Builds the environment from scratch: removes what is there, `python -m venv`, `pip install
 * --require-hashes -r <lock>` (pip refuses any file whose hash differs), imports every checked module,
 * and writes the stamp last, so an interrupted or failed build is never taken for a whole one.
 */
export async function buildEnv(venv: PythonEnv, options: BuildOptions = {}): Promise<Stamp> {
  const say = options.say ?? ((line: string) => process.stderr.write(line + '\n'));
  const env = options.env ?? process.env;
  const modules = options.modules ?? checkedModules;
  const started = Date.now();
  const rel = path.relative(process.cwd(), venv.dir) || venv.dir;
  const base = options.base ?? findBasePython(env, venv.lock);
  say(`[1/4] Python ${base.version.join('.')} (${base.executable})`);

  say(`[2/4] creating ${rel}/`);
  fs.rmSync(venv.dir, { recursive: true, force: true });
  fs.mkdirSync(path.dirname(venv.dir), { recursive: true });
  const logFile = `${venv.dir}.log`;
  const log = fs.createWriteStream(logFile);
  const pipEnv: NodeJS.ProcessEnv = {
    ...env,
    PIP_CACHE_DIR: pipCacheDir,
    PIP_DISABLE_PIP_VERSION_CHECK: '1',
    PIP_NO_INPUT: '1',
    PYTHONNOUSERSITE: '1',
  };
  try {
    if ((await runLogged(base.executable, ['-m', 'venv', venv.dir], pipEnv, log)) !== 0)
      throw new ToolMissingError('python-venv', `python -m venv failed:\n${tail(logFile)}`);
    // JupyterLab runs `node …/jupyterlab/node-version-check.js` (CommonJS) on start; inside this project
    // the root package.json's "type": "module" would make it fail with a stack trace in the log.
    fs.writeFileSync(path.join(venv.dir, 'package.json'), '{ "type": "commonjs" }\n');

    const total = pinnedCount(venv.lock);
    say(
      `[3/4] installing the ${total} pinned packages of ${path.relative(projectRoot, venv.lock)} (hash-checked)`,
    );
    let collected = 0;
    let reported = 0;
    const onLine = (line: string) => {
      if (!line.startsWith('Collecting ')) return;
      collected += 1;
      // One line per quarter: a slow link shows it is moving without one line per package.
      if (collected - reported >= Math.ceil(total / 4)) {
        reported = collected;
        say(`      ${collected} packages fetched …`);
      }
    };
    const pipArgs = ['-m', 'pip', 'install', '--require-hashes', '--progress-bar', 'off'];
    const status = await runLogged(venv.python, [...pipArgs, '-r', venv.lock], pipEnv, log, onLine);
    if (status !== 0)
      throw new ToolMissingError(
        'pip',
        `pip could not install ${venv.lock} (behind a proxy? see environment.md):\n${tail(logFile)}`,
      );
  } finally {
    await new Promise((r) => log.end(r));
  }

  say(`[4/4] checking that ${modules.length} packages import`);
  const probe = importModules(venv.python, modules);
  if ('error' in probe)
    throw new ToolMissingError('python-env', `the new environment ${rel}/ ${probe.error}`);
  const stamp: Stamp = {
    lockSha256: sha256(venv.lock),
    basePython: base.executable,
    pythonVersion: base.version.join('.'),
    versions: probe.versions,
    seconds: Math.round((Date.now() - started) / 100) / 10,
  };
  const file = path.join(venv.dir, STAMP);
  fs.writeFileSync(`${file}.tmp`, JSON.stringify(stamp, null, 1) + '\n');
  fs.renameSync(`${file}.tmp`, file);
  fs.rmSync(logFile, { force: true });
  return stamp;
}

/** A one-line summary of a stamp's versions, e.g. "jupyterlab 4.6.6, notebook 7.6.5, jupyterhub 5.5.4". */
export function describeVersions(versions: Record<string, string>): string {
  return ['jupyterlab', 'notebook', 'jupyterhub']
    .filter((m) => versions[m])
    .map((m) => `${m} ${versions[m]}`)
    .join(', ');
}

export interface EnsureOptions extends BuildOptions {
  /** Asked before building; false stops with a ToolMissingError naming the command. Default: build. */
  confirm?: (problem: string) => Promise<boolean>;
}

/**
 * The Python that runs Jupyter: MNIST_NB_PYTHON when set (the user's own, used as it is), else the
 * project's .venv/, (re)built first when it is missing, half-made, from another lock or broken.
 */
export async function ensurePython(options: EnsureOptions = {}): Promise<string> {
  const env = options.env ?? process.env;
  const own = setting('MNIST_NB_PYTHON', env);
  if (own !== undefined) return own;
  const venv = pythonEnv(env);
  const problem = envProblem(venv, options.modules);
  if (!problem) return venv.python;
  const say = options.say ?? ((line: string) => process.stderr.write(line + '\n'));
  const rel = path.relative(process.cwd(), venv.dir) || venv.dir;
  if (options.confirm && !(await options.confirm(`the Jupyter environment ${rel}/ ${problem}`)))
    throw new ToolMissingError(
      'python-env',
      `the Jupyter environment ${rel}/ ${problem}: run npm run python-env`,
    );
  const base = findBasePython(env, venv.lock); // no Python: its one line, before any other
  say(`the Jupyter environment ${rel}/ ${problem}: building it from the lock`);
  const stamp = await buildEnv(venv, { ...options, base });
  say(`ready: ${rel}/ (${describeVersions(stamp.versions)}) in ${stamp.seconds} s`);
  return venv.python;
}
