// Tests for the engine ladder: best available engine first, clear reasons, never a crash when native is missing.
import assert from 'node:assert/strict';
import os from 'node:os';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { initEngine, parseEngineChoice, type PackageLoader } from '../../lib/engine/engine.js';
import { wantedWasmThreads } from '../../lib/engine/wasm-threads.js';
import { ConfigError, KitError } from '../../lib/core/errors.js';
import { missingNativeEngine } from '../support/native-tools.js';
import { withEnv } from '../support/with-env.js';

/** Simulates a user machine: native packages present but failing, the rest loading for real. */
function loaderWith(broken: Record<string, Error>): PackageLoader {
  return (name) => {
    if (broken[name]) throw broken[name];
    return import(name);
  };
}

function notFound(name: string): Error {
  return Object.assign(new Error(`Cannot find module '${name}'\nRequire stack:\n- x`), {
    code: 'MODULE_NOT_FOUND',
  });
}

describe('initEngine', () => {
  it('falls back to wasm when the native engines are missing or fail to load, and says why', async () => {
    const report = await initEngine(
      'auto',
      loaderWith({
        '@tensorflow/tfjs-node-gpu': Object.assign(
          new Error('libcudart.so.11.0: cannot open shared object file'),
          { code: 'ERR_DLOPEN_FAILED' },
        ),
        '@tensorflow/tfjs-node': notFound('@tensorflow/tfjs-node'),
      }),
    );
    assert.equal(report.engine, 'wasm');
    assert.equal(tf.getBackend(), 'wasm');
    assert.equal(report.attempts.length, 3);
    assert.match(report.attempts[0].reason, /failed to load: libcudart/);
    assert.equal(report.attempts[1].reason, 'not installed');
    assert.match(
      report.summary,
      /^wasm, \d+ threads? \(@tensorflow\/tfjs-backend-wasm\): the first engine that loads; skipped @tensorflow\/tfjs-node-gpu: failed to load: libcudart.*@tensorflow\/tfjs-node: not installed \(`npm run engine -- native` installs it\)$/,
    );
  });

  it('rejects a package that loads but registers no backend (a stand-in under the native name)', async () => {
    const report = await initEngine('auto', (name) =>
      name.includes('tfjs-node') ? {} : import(name),
    );
    assert.equal(report.attempts[0].ok, false);
    assert.match(report.attempts[0].reason, /registered no 'tensorflow' backend/);
    assert.equal(report.engine, 'wasm');
  });

  it('falls through to cpu when wasm fails too', async () => {
    const report = await initEngine(
      'auto',
      loaderWith({
        '@tensorflow/tfjs-node-gpu': notFound('@tensorflow/tfjs-node-gpu'),
        '@tensorflow/tfjs-node': notFound('@tensorflow/tfjs-node'),
        '@tensorflow/tfjs-backend-wasm': new Error('WebAssembly.instantiate(): out of memory'),
      }),
    );
    assert.equal(report.engine, 'cpu');
    assert.equal(tf.getBackend(), 'cpu');
    await initEngine('wasm');
  });

  it('a forced engine that cannot run is a clear error, not a silent fallback', async () => {
    await assert.rejects(
      initEngine(
        'tensorflow',
        loaderWith({
          '@tensorflow/tfjs-node-gpu': notFound('@tensorflow/tfjs-node-gpu'),
          '@tensorflow/tfjs-node': notFound('@tensorflow/tfjs-node'),
        }),
      ),
      (err: unknown) =>
        err instanceof KitError &&
        /engine "tensorflow" is not available .*not installed.*environment\.md/.test(err.message),
    );
  });

  it('on this machine, auto picks the native engine when it is installed, else wasm', async () => {
    const report = await initEngine('auto');
    assert.equal(report.engine, missingNativeEngine() ? 'wasm' : 'tensorflow', report.summary);
    assert.equal(report.attempts.at(-1)?.ok, true);
    await initEngine('wasm');
  });

  it('computes on the threads MNIST_ENGINE_THREADS asks for (else the cores), and says so', async () => {
    const report = await initEngine('wasm');
    const wanted = wantedWasmThreads();
    assert.equal(report.threads, wanted, report.summary);
    assert.match(report.summary, new RegExp(`^wasm, ${wanted} threads? \\(`));
  });

  it('a malformed MNIST_ENGINE_THREADS is a clear error, not a fall back to cpu', async () => {
    await withEnv({ MNIST_ENGINE_THREADS: 'two' }, () =>
      assert.rejects(
        initEngine('auto'),
        (e: unknown) => e instanceof ConfigError && /MNIST_ENGINE_THREADS.*"two"/.test(e.message),
      ),
    );
    assert.equal(tf.getBackend(), 'wasm');
  });

  it('parses engine names and rejects unknown ones with the allowed list', () => {
    assert.equal(parseEngineChoice('cpu'), 'cpu');
    assert.throws(
      () => parseEngineChoice('gpu'),
      (e: unknown) => e instanceof ConfigError && /auto, tensorflow, wasm, cpu/.test(e.message),
    );
  });
});

describe('wantedWasmThreads', () => {
  it('defaults to the cores this process may use, at most 8', () => {
    assert.equal(wantedWasmThreads({}), Math.min(8, os.availableParallelism()));
    assert.equal(wantedWasmThreads({ MNIST_ENGINE_THREADS: '' }), wantedWasmThreads({}));
  });

  it('takes MNIST_ENGINE_THREADS from 1 (the single-threaded build) to 8', () => {
    assert.equal(wantedWasmThreads({ MNIST_ENGINE_THREADS: '1' }), 1);
    assert.equal(wantedWasmThreads({ MNIST_ENGINE_THREADS: ' 2 ' }), 2);
    assert.equal(wantedWasmThreads({ MNIST_ENGINE_THREADS: '8' }), 8);
  });

  it('rejects anything else with one line naming the variable, the range and the value', () => {
    for (const bad of ['0', '9', '1.5', '-1', 'two', '2x']) {
      assert.throws(
        () => wantedWasmThreads({ MNIST_ENGINE_THREADS: bad }),
        (e: unknown) =>
          e instanceof ConfigError &&
          e.message ===
            `MNIST_ENGINE_THREADS: expected an integer from 1 to 8 (threads for the engine), got "${bad}"`,
        bad,
      );
    }
  });
});
