// Picks the TensorFlow.js engine to run on (native TensorFlow → WebAssembly → plain JS) and says why.
import { createRequire } from 'node:module';
import os from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { ENGINE_CHOICES, type EngineChoice, type EngineName } from '../core/choices.js';
import { ConfigError, KitError } from '../core/errors.js';
import { setting } from '../core/settings.js';
import { ensureConvGradient } from './conv-gradient.js';
import { registerThreadedWasm, wantedWasmThreads, wasmThreadsInUse } from './wasm-threads.js';

/** One rung of the ladder that was tried: which package, and why it was or was not used. */
export interface EngineAttempt {
  readonly engine: EngineName;
  readonly packageName: string;
  readonly ok: boolean;
  readonly reason: string;
  /** wasm only: the threads XNNPACK computes with (MNIST_ENGINE_THREADS, else the cores available). */
  readonly threads?: number;
}

export interface EngineReport {
  /** The backend TensorFlow.js now runs on. */
  readonly engine: EngineName;
  /** The package that provides it, e.g. '@tensorflow/tfjs-node-gpu'. */
  readonly packageName: string;
  /** wasm only: the threads XNNPACK computes with. */
  readonly threads?: number;
  /** Every rung tried, best first, with the reason the better ones were skipped. */
  readonly attempts: readonly EngineAttempt[];
  /** One line for people: what runs and why, e.g. "wasm, 2 threads (@tensorflow/tfjs-backend-wasm): the first engine that loads; skipped …". */
  readonly summary: string;
}

/** Loads a package by name (CommonJS require); injectable so tests can simulate broken installs. */
export type PackageLoader = (packageName: string) => unknown; // may return a promise: it is awaited

const requireFromHere = createRequire(import.meta.url);
const defaultLoader: PackageLoader = (name) => requireFromHere(name);

// The ladder, best first. Both native packages register the same 'tensorflow' backend: the GPU
// build is tried first; the CPU build is the fallback when CUDA libraries are absent.
const NATIVE_CPU = '@tensorflow/tfjs-node';
const LADDER: ReadonlyArray<{ engine: EngineName; packageName: string }> = [
  { engine: 'tensorflow', packageName: '@tensorflow/tfjs-node-gpu' },
  { engine: 'tensorflow', packageName: NATIVE_CPU },
  { engine: 'wasm', packageName: '@tensorflow/tfjs-backend-wasm' },
  { engine: 'cpu', packageName: '@tensorflow/tfjs-backend-cpu' },
];

export function parseEngineChoice(value: string): EngineChoice {
  if ((ENGINE_CHOICES as readonly string[]).includes(value)) return value as EngineChoice;
  throw new ConfigError(
    '--engine',
    `unknown engine "${value}"; expected one of ${ENGINE_CHOICES.join(', ')}`,
  );
}

function describeFailure(error: unknown): string {
  const err = error as { code?: string; message?: string };
  if (err?.code === 'MODULE_NOT_FOUND' && String(err.message).includes("Cannot find module '")) {
    const firstLine = String(err.message).split('\n')[0];
    return firstLine.includes('tfjs-node') || firstLine.includes('tfjs-backend')
      ? 'not installed'
      : `failed to load: ${firstLine}`;
  }
  return `failed to load: ${String(err?.message ?? error).split('\n')[0]}`;
}

/**
 * Native TensorFlow reads its settings from the environment when its library loads: the threads of
 * its intra-op pool (MNIST_ENGINE_THREADS, as on wasm, unless TF_NUM_INTRAOP_THREADS is set) and the
 * log level (warnings and errors only; its start-up notes would land in every notebook's output).
 */
function prepareNativeEnvironment(): void {
  const threads = setting('MNIST_ENGINE_THREADS');
  if (threads !== undefined && process.env.TF_NUM_INTRAOP_THREADS === undefined) {
    process.env.TF_NUM_INTRAOP_THREADS = String(threads);
  }
  process.env.TF_CPP_MIN_LOG_LEVEL ??= '2';
}

/** The native rung: TensorFlow's version and CPU/GPU device, for the engine line. */
async function startNative(packageName: string): Promise<EngineAttempt> {
  if (!(await tf.setBackend('tensorflow'))) {
    return {
      engine: 'tensorflow',
      packageName,
      ok: false,
      reason: "the 'tensorflow' backend failed to initialise",
    };
  }
  // Not in tfjs-core's Backend type: the binding tfjs-node's backend carries (TF_Version, since 1.x).
  const binding = (tf.backend() as unknown as { binding?: { TF_Version?: string } }).binding;
  const device = packageName.endsWith('-gpu') ? 'GPU' : 'CPU';
  const threads = Number(process.env.TF_NUM_INTRAOP_THREADS) || os.availableParallelism();
  return {
    engine: 'tensorflow',
    packageName,
    ok: true,
    reason: `TensorFlow ${binding?.TF_Version ?? '(version unknown)'}, ${device}`,
    threads,
  };
}

async function tryRung(
  rung: { engine: EngineName; packageName: string },
  load: PackageLoader,
): Promise<EngineAttempt> {
  const { engine, packageName } = rung;
  // A malformed MNIST_ENGINE_THREADS is the user's error to fix, not a reason to fall back to cpu.
  const threads = engine === 'wasm' ? wantedWasmThreads() : undefined;
  if (engine === 'tensorflow') prepareNativeEnvironment();
  try {
    await load(packageName);
    // A package that loads but registers nothing (e.g. a stand-in under the same name) is no engine.
    if (tf.findBackendFactory(engine) === null) {
      return {
        engine,
        packageName,
        ok: false,
        reason: `loaded, but registered no '${engine}' backend`,
      };
    }
    if (engine === 'wasm' && threads !== undefined && threads > 1) return await startWasm(threads);
    if (engine === 'tensorflow') return await startNative(packageName);
    if (!(await tf.setBackend(engine))) {
      return {
        engine,
        packageName,
        ok: false,
        reason: `the '${engine}' backend failed to initialise`,
      };
    }
    // wasm 4.22 lacks the convolution filter gradient: without it no CNN can train there.
    if (engine === 'wasm') ensureConvGradient();
    return {
      engine,
      packageName,
      ok: true,
      reason: 'loaded',
      ...(engine === 'wasm' ? { threads: wasmThreadsInUse() } : {}),
    };
  } catch (error) {
    return { engine, packageName, ok: false, reason: describeFailure(error) };
  }
}

/** wasm with XNNPACK's threaded build; the single-threaded build when that one cannot start. */
async function startWasm(threads: number): Promise<EngineAttempt> {
  const packageName = '@tensorflow/tfjs-backend-wasm';
  const threaded = registerThreadedWasm(threads);
  let reason = 'loaded';
  if (!(await tf.setBackend('wasm'))) {
    threaded.restore();
    reason = `the ${threads}-thread build failed to start (${threaded.failure() ?? 'no reason given'}), so 1 thread`;
    if (!(await tf.setBackend('wasm'))) {
      return {
        engine: 'wasm',
        packageName,
        ok: false,
        reason: "the 'wasm' backend failed to initialise",
      };
    }
  }
  ensureConvGradient();
  return { engine: 'wasm', packageName, ok: true, reason, threads: wasmThreadsInUse() };
}

function summarise(chosen: EngineAttempt, attempts: readonly EngineAttempt[]): string {
  const skipped = attempts.filter((a) => !a.ok).map((a) => `${a.packageName}: ${a.reason}`);
  const threads =
    chosen.threads === undefined
      ? ''
      : `, ${chosen.threads} thread${chosen.threads === 1 ? '' : 's'}`;
  const note = chosen.reason === 'loaded' ? '' : `, ${chosen.reason}`;
  const why = chosen.engine === 'tensorflow' ? 'native TensorFlow' : 'the first engine that loads';
  const hint = attempts.some((a) => a.packageName === NATIVE_CPU && a.reason === 'not installed')
    ? ' (`npm run engine -- native` installs it)'
    : '';
  return (
    `${chosen.engine}${threads} (${chosen.packageName}${note}): ${why}` +
    (skipped.length ? `; skipped ${skipped.join('; ')}${hint}` : '')
  );
}

/**
 * Chooses and activates a backend. 'auto' walks the ladder and takes the first that works; a forced
 * engine fails with a clear error when it cannot run. Never throws because a native engine is missing
 * under 'auto'.
 */
export async function initEngine(
  choice: EngineChoice = 'auto',
  load: PackageLoader = defaultLoader,
): Promise<EngineReport> {
  const rungs = choice === 'auto' ? LADDER : LADDER.filter((r) => r.engine === choice);
  if (rungs.length === 0) parseEngineChoice(choice);
  const attempts: EngineAttempt[] = [];
  for (const rung of rungs) {
    const attempt = await tryRung(rung, load);
    attempts.push(attempt);
    if (attempt.ok) {
      return {
        engine: attempt.engine,
        packageName: attempt.packageName,
        ...(attempt.threads !== undefined ? { threads: attempt.threads } : {}),
        attempts,
        summary: summarise(attempt, attempts),
      };
    }
  }
  const reasons = attempts.map((a) => `${a.packageName}: ${a.reason}`).join('; ');
  throw new KitError(
    'engine',
    `engine "${choice}" is not available (${reasons}); see environment.md for installing native engines`,
  );
}
