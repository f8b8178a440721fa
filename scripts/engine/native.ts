// Installs @tensorflow/tfjs-node through its own install script, fed TensorFlow's library from PyPI over 127.0.0.1.
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { KitError, ToolMissingError } from '../../lib/core/errors.js';
import { ensureWheel, stageLibtensorflow, TF_WHEEL } from './native-wheel.js';

export const TFJS_NODE = '@tensorflow/tfjs-node';
export const TFJS_NODE_GPU = '@tensorflow/tfjs-node-gpu';
export const TFJS_NODE_VERSION = '4.22.0';

export interface Project {
  readonly root: string;
  readonly log: (line: string) => void;
}

/** The project-local cache (git-ignored) for the wheel; nothing is written outside the project. */
export const cacheDir = (root: string) => path.join(root, '.cache', 'native-engine');
const packageDir = (root: string, name: string) => path.join(root, 'node_modules', name);

/** Node's own headers when this Node ships them (distro packages, nodejs.org tarballs): node-gyp needs no download. */
function nodeHeadersDir(): string | undefined {
  const prefix = path.resolve(path.dirname(process.execPath), '..');
  return fs.existsSync(path.join(prefix, 'include', 'node', 'node_api.h')) ? prefix : undefined;
}

/** What building the binding from source needs and is not here, in words; empty when all is there. */
export function missingBuildTools(): string[] {
  const missing: string[] = [];
  if (process.platform !== 'linux' || process.arch !== 'x64')
    missing.push(
      `Linux x86-64 (this is ${process.platform} ${process.arch}; TensorFlow's CPU wheel route is Linux-only: elsewhere use \`npm install ${TFJS_NODE}\` with access to storage.googleapis.com)`,
    );
  for (const [tool, hint] of [
    ['c++', 'a C++ compiler (apt-get install g++)'],
    ['make', 'make (apt-get install make)'],
    ['python3', 'Python 3 for node-gyp (apt-get install python3)'],
  ]) {
    if (spawnSync(tool, ['--version'], { stdio: 'ignore' }).status !== 0) missing.push(hint);
  }
  return missing;
}

/** Serves the staged library as a tar stream at every path (install.js asks for libtensorflow-cpu-linux-x86_64-2.9.1.tar.gz). */
async function serveLibrary(staged: string, log: (line: string) => void): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    log(`local server: ${req.method} ${req.url}`);
    // node-tar (what install.js unpacks with) reads a plain tar as well as a gzipped one.
    const tar = spawn('tar', ['-cf', '-', '-C', staged, 'lib', 'include'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    res.writeHead(200, { 'content-type': 'application/x-tar' });
    tar.stdout.pipe(res);
    tar.on('close', (code) => {
      if (code !== 0) res.destroy(new Error(`tar exited ${code}`));
    });
  });
  server.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  return server;
}

/** Throws a ToolMissingError (`code`) listing what is missing, when anything is. */
function requireAll(missing: readonly string[], code: string, what: string): void {
  if (missing.length) throw new ToolMissingError(code, `${what}; missing: ${missing.join('; ')}`);
}

/**
 * `npm install --no-save` of one engine package at TFJS_NODE_VERSION, its install script's output shown
 * (it downloads or builds for minutes); throws when npm fails.
 */
async function npmInstall(name: string, root: string, env: NodeJS.ProcessEnv): Promise<void> {
  const args = ['install', '--no-save', '--no-audit', '--no-fund', '--foreground-scripts'];
  const child = spawn('npm', [...args, `${name}@${TFJS_NODE_VERSION}`], {
    cwd: root,
    env,
    stdio: 'inherit',
  });
  const code = await new Promise<number>((resolve) =>
    child.on('close', (status) => resolve(status ?? 1)),
  );
  if (code !== 0) throw new KitError('native-engine', `npm install exited ${code}`);
}

/** Loads the installed package in a fresh process and returns TensorFlow's version, or throws why not. */
export function probeNative(root: string, name = TFJS_NODE): string {
  const script =
    `const tf = require(${JSON.stringify(name)});` +
    `const y = tf.matMul(tf.tensor2d([[1, 2], [3, 4]]), tf.tensor2d([[5], [6]])).dataSync();` +
    `if (y[0] !== 17 || y[1] !== 39) throw new Error('wrong product ' + y);` +
    `process.stdout.write(tf.backend().binding.TF_Version);`;
  const probe = spawnSync(process.execPath, ['-e', script], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '2' },
  });
  if (probe.status !== 0) {
    const why = probe.stderr.split('\n').find((l) => /Error|error:/.test(l)) ?? probe.stderr;
    throw new KitError('native-engine', `${name} does not load: ${why.trim()}`);
  }
  return probe.stdout.trim();
}

function sizeMiB(dir: string): number {
  const du = spawnSync('du', ['-sb', dir], { encoding: 'utf8' });
  return du.status === 0 ? Number(du.stdout.split('\t')[0]) / 2 ** 20 : NaN;
}

/**
 * `npm run engine -- native`: the wheel (cached), unpacked to a staging folder, served from 127.0.0.1
 * to tfjs-node's own install script (TFJS_NODE_BASE_URI), which unpacks it and builds the binding
 * from source with node-gyp. A failed run puts the previous installation back.
 */
export async function installNative({ root, log }: Project): Promise<void> {
  requireAll(missingBuildTools(), 'native-engine', 'cannot build the native engine here');
  const started = Date.now();
  const cache = cacheDir(root);
  const wheel = await ensureWheel(cache, log);
  const staged = path.join(cache, `libtensorflow-${TF_WHEEL.version}.staging`);
  await fsp.rm(staged, { recursive: true, force: true });
  log(`unpacking TensorFlow ${TF_WHEEL.version}'s libraries and C API headers`);
  await stageLibtensorflow(wheel, staged);
  const target = packageDir(root, TFJS_NODE);
  const previous = `${target}.previous`;
  await fsp.rm(previous, { recursive: true, force: true });
  // Moved aside so npm installs the package afresh and runs its install script; restored on failure.
  if (fs.existsSync(target)) await fsp.rename(target, previous);
  const server = await serveLibrary(staged, log);
  const port = (server.address() as AddressInfo).port;
  const headers = nodeHeadersDir();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    TFJS_NODE_BASE_URI: `http://127.0.0.1:${port}/libtensorflow-`,
    // No prebuilt addon for this library: build it, and do not ask Google's storage host for one.
    npm_config_build_from_source: 'true',
    ...(headers ? { npm_config_nodedir: headers } : {}),
  };
  try {
    log(
      `npm install ${TFJS_NODE}@${TFJS_NODE_VERSION} (its install script builds the binding; about a minute)`,
    );
    await npmInstall(TFJS_NODE, root, env);
    // An optional dependency whose script fails is dropped by npm without an error: check it loads.
    const version = probeNative(root);
    await fsp.rm(previous, { recursive: true, force: true });
    log(
      `native engine ready: ${TFJS_NODE} ${TFJS_NODE_VERSION} on TensorFlow ${version} (CPU) in ` +
        `${((Date.now() - started) / 1000).toFixed(0)} s; ${sizeMiB(target).toFixed(0)} MiB in ` +
        `node_modules/${TFJS_NODE}, the wheel (${(TF_WHEEL.bytes / 2 ** 20).toFixed(0)} MiB) kept in ${path.relative(root, cache)}/`,
    );
  } catch (error) {
    if (fs.existsSync(previous)) {
      await fsp.rm(target, { recursive: true, force: true });
      await fsp.rename(previous, target);
      log(`restored the previous ${TFJS_NODE}`);
    }
    throw error;
  } finally {
    server.close();
    await fsp.rm(staged, { recursive: true, force: true });
  }
}

/** Whether a shared library is known to the dynamic loader (ldconfig's cache or LD_LIBRARY_PATH). */
function hasLibrary(name: string): boolean {
  const cache = spawnSync('/sbin/ldconfig', ['-p'], { encoding: 'utf8' });
  if (cache.status === 0 && cache.stdout.includes(name)) return true;
  return (process.env.LD_LIBRARY_PATH ?? '')
    .split(':')
    .some((dir) => dir && fs.existsSync(path.join(dir, name)));
}

/** What tfjs-node-gpu 4.22 (libtensorflow 2.9.1 GPU) needs and is not here; empty when all is there. */
export function missingGpuRequirements(): string[] {
  const missing: string[] = [];
  if (process.platform !== 'linux' || process.arch !== 'x64')
    missing.push(`Linux x86-64 (this is ${process.platform} ${process.arch})`);
  if (spawnSync('nvidia-smi', [], { stdio: 'ignore' }).status !== 0)
    missing.push('an NVIDIA GPU with its driver (nvidia-smi does not run)');
  if (!hasLibrary('libcudart.so.11.0'))
    missing.push('CUDA 11 runtime (libcudart.so.11.0; CUDA 11.2 is what 2.9.1 was built with)');
  if (!hasLibrary('libcudnn.so.8'))
    missing.push('cuDNN 8 (libcudnn.so.8; 8.1 is what 2.9.1 was built with)');
  return missing;
}

/**
 * `npm run engine -- gpu`: the GPU build, explicitly. Its install script downloads libtensorflow 2.9.1
 * (GPU) and a prebuilt binding from Google's storage host (PyPI has no CUDA 11 libtensorflow for it).
 */
export async function installGpu({ root, log }: Project): Promise<void> {
  requireAll(missingGpuRequirements(), 'gpu-engine', 'the GPU engine cannot run here');
  const started = Date.now();
  log(
    `npm install ${TFJS_NODE_GPU}@${TFJS_NODE_VERSION} (downloads libtensorflow 2.9.1 GPU from storage.googleapis.com)`,
  );
  await npmInstall(TFJS_NODE_GPU, root, process.env);
  const version = probeNative(root, TFJS_NODE_GPU);
  log(
    `GPU engine ready: ${TFJS_NODE_GPU} on TensorFlow ${version} in ${((Date.now() - started) / 1000).toFixed(0)} s; ` +
      `${sizeMiB(packageDir(root, TFJS_NODE_GPU)).toFixed(0)} MiB`,
  );
}
