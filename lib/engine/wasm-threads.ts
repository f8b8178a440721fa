// XNNPACK's threaded WebAssembly build in Node: as many threads as cores used, workers that never hold the process open.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { KitError } from '../core/errors.js';
import { SETTINGS, setting } from '../core/settings.js';

// tfjs-backend-wasm 4.22 caps its pool at 8 threads (it pre-creates 8 workers): the setting's maximum.
const MAX_THREADS = SETTINGS.MNIST_ENGINE_THREADS.max;

/**
 * How many threads the wasm engine should compute with: MNIST_ENGINE_THREADS when set (1 = the
 * single-threaded build), otherwise the cores this process may use (`os.availableParallelism()`).
 */
export function wantedWasmThreads(env: NodeJS.ProcessEnv = process.env): number {
  return setting('MNIST_ENGINE_THREADS', env) ?? Math.min(MAX_THREADS, os.availableParallelism());
}

/** The parts of the Emscripten module of the threaded build that this file and BackendWasm use. */
interface ThreadedModule {
  cwrap(
    name: string,
    returnType: string | null,
    argTypes: string[],
  ): (...args: number[]) => unknown;
  tfjs?: Record<string, unknown>;
  PThread: {
    unusedWorkers: import('node:worker_threads').Worker[];
    runningWorkers: import('node:worker_threads').Worker[];
  };
}

/** Emscripten's import object: `env` holds the JavaScript functions the wasm code calls. */
type WasmImports = WebAssembly.Imports & { env: Record<string, WebAssembly.ImportValue> };

interface FactoryConfig {
  locateFile(file: string): string | URL;
  mainScriptUrlOrBlob: string;
  instantiateWasm(
    imports: WasmImports,
    receive: (instance: WebAssembly.Instance, module: WebAssembly.Module) => void,
  ): object;
  onAbort(what: unknown): void;
}

interface WasmPackage {
  BackendWasm: new (module: ThreadedModule) => tf.KernelBackend;
  setThreadsCount(n: number): void;
}

const requireHere = createRequire(import.meta.url);
const PACKAGE = '@tensorflow/tfjs-backend-wasm';
// Same priority as the package's own registration, so 'auto' backends order as before.
const WASM_PRIORITY = 2;
const START_TIMEOUT_MS = 60_000;

function packageDir(): string {
  return path.dirname(requireHere.resolve(`${PACKAGE}/package.json`));
}

/**
 * The pthread worker's main script, as a data: URL. The package hands Emscripten a blob: URL, which
 * Node's Worker rejects (ERR_WORKER_PATH); its worker code ships in wasm-out/ as a string, so this tiny
 * ES module loads that string and runs it with the `require` and `__filename` it expects.
 */
function workerUrl(dir: string, glue: string): URL {
  const source = [
    "import { createRequire } from 'node:module';",
    "import vm from 'node:vm';",
    `const require = createRequire(${JSON.stringify(path.join(dir, 'package.json'))});`,
    "const { wasmWorkerContents } = require('./wasm-out/tfjs-backend-wasm-threaded-simd.worker.js');",
    // The string holds literal newlines inside quoted strings (the package escapes them the same way).
    "const code = wasmWorkerContents.replace(/\\n/g, '\\\\n');",
    "vm.runInThisContext('(function (require, __filename) {' + code + '\\n})')(",
    `  require, ${JSON.stringify(glue)});`,
  ].join('\n');
  return new URL(`data:text/javascript,${encodeURIComponent(source)}`);
}

/**
 * Starts the threaded build's Emscripten module with `threads` XNNPACK threads. tfjs-backend-wasm
 * caps its pool at half the logical cores (it assumes two hyper-threads per core: 1 on a 2-vCPU
 * machine), so the wasm code is told there are 2 × threads cores: the pool then gets `threads`.
 */
async function startModule(threads: number): Promise<ThreadedModule> {
  const dir = packageDir();
  const out = path.join(dir, 'wasm-out');
  const glue = path.join(out, 'tfjs-backend-wasm-threaded-simd.js');
  const binary = fs.readFileSync(path.join(out, 'tfjs-backend-wasm-threaded-simd.wasm'));
  const factory = requireHere(glue) as (config: FactoryConfig) => Promise<ThreadedModule>;
  let fail: (error: Error) => void = () => {};
  const failed = new Promise<never>((_, reject) => (fail = reject));
  const config: FactoryConfig = {
    locateFile: (file) =>
      file.endsWith('.worker.js') ? workerUrl(dir, glue) : path.join(out, file),
    mainScriptUrlOrBlob: glue,
    instantiateWasm(imports, receive) {
      imports.env.emscripten_num_logical_cores = () => 2 * threads;
      WebAssembly.instantiate(binary, imports).then(
        ({ instance, module }) => receive(instance, module),
        (error: unknown) => fail(error instanceof Error ? error : new Error(String(error))),
      );
      return {};
    },
    onAbort: (what) => fail(new Error(`the threaded wasm module aborted: ${String(what)}`)),
  };
  // Workers load in the background; this timer keeps the process alive (and bounded) meanwhile.
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`its ${MAX_THREADS} workers did not start within 60 s`)),
      START_TIMEOUT_MS,
    );
  });
  try {
    return await Promise.race([factory(config), failed, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * After the pool is made: the workers XNNPACK did not take are terminated (memory), and the ones it
 * runs on are unref'd, so that they never keep Node alive: a script exits when its work is done, while
 * a notebook kernel, alive for its own reasons, keeps its threads for the next cell.
 */
function releaseIdleWorkers(module: ThreadedModule): void {
  const { PThread } = module;
  for (const worker of PThread.unusedWorkers) void worker.terminate();
  PThread.unusedWorkers.length = 0;
  for (const worker of PThread.runningWorkers) worker.unref();
}

/** The package's cwrap table, which BackendWasm expects on the module (its own init() builds it). */
function addTfjsApi(module: ThreadedModule): void {
  module.tfjs = {
    init: module.cwrap('init', null, []),
    initWithThreadsCount: module.cwrap('init_with_threads_count', null, ['number']),
    getThreadsCount: module.cwrap('get_threads_count', 'number', []),
    registerTensor: module.cwrap('register_tensor', null, ['number', 'number', 'number']),
    disposeData: module.cwrap('dispose_data', null, ['number']),
    dispose: module.cwrap('dispose', null, []),
  };
}

/** What registerThreadedWasm leaves the caller: a way back, and why the threaded build failed. */
export interface ThreadedWasmRegistration {
  /** Puts the package's own (single-threaded) factory back, unless the wasm backend already runs. */
  restore(): void;
  /** Why the threaded build could not start, once TensorFlow.js has tried it and it failed. */
  failure(): string | undefined;
}

/**
 * Makes the 'wasm' backend, when TensorFlow.js next initialises it, the threaded build with `threads`
 * threads. Call after the package is loaded and before `tf.setBackend('wasm')`. Does nothing once the
 * wasm backend runs (its thread count is fixed then).
 */
export function registerThreadedWasm(threads: number): ThreadedWasmRegistration {
  const original = tf.findBackendFactory('wasm');
  let failure: string | undefined;
  if (tf.findBackend('wasm') !== null || original === null)
    return { restore: () => {}, failure: () => failure };
  const wasm = requireHere(PACKAGE) as WasmPackage;
  tf.removeBackend('wasm');
  tf.registerBackend(
    'wasm',
    async () => {
      try {
        const module = await startModule(threads);
        addTfjsApi(module);
        wasm.setThreadsCount(threads);
        const backend = new wasm.BackendWasm(module);
        releaseIdleWorkers(module);
        return backend;
      } catch (error) {
        failure = (error as Error).message.split('\n')[0];
        throw new KitError(
          'engine',
          `the ${threads}-thread wasm build could not start: ${failure}`,
        );
      }
    },
    WASM_PRIORITY,
  );
  return {
    restore() {
      if (tf.findBackend('wasm') !== null) return;
      tf.removeBackend('wasm');
      tf.registerBackend('wasm', original, WASM_PRIORITY);
    },
    failure: () => failure,
  };
}

/** The threads the wasm backend computes with (XNNPACK's pool, as the package reports it). */
export function wasmThreadsInUse(): number {
  return (requireHere(PACKAGE) as { getThreadsCount(): number }).getThreadsCount();
}
