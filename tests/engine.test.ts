// Tests for the engine ladder: best available engine first, clear reasons, never a crash when native is missing.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { initEngine, parseEngineChoice, type PackageLoader } from '../lib/ml/engine.js';
import { ConfigError, KitError } from '../lib/core/errors.js';

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
      /^wasm \(@tensorflow\/tfjs-backend-wasm\); skipped @tensorflow\/tfjs-node-gpu: failed to load: libcudart/,
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

  it('on this machine, auto picks wasm (native engines cannot install offline)', async () => {
    const report = await initEngine('auto');
    assert.equal(report.engine, 'wasm');
    assert.ok(report.attempts.slice(0, 2).every((a) => !a.ok));
  });

  it('parses engine names and rejects unknown ones with the allowed list', () => {
    assert.equal(parseEngineChoice('cpu'), 'cpu');
    assert.throws(
      () => parseEngineChoice('gpu'),
      (e: unknown) => e instanceof ConfigError && /auto, tensorflow, wasm, cpu/.test(e.message),
    );
  });
});
