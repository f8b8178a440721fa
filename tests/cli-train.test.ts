// Tests for `npm run train`: argument validation (incl. a fuzz), JSON output, one-line errors, exit codes.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { parseTrainArgs, type TrainCliOptions } from '../lib/cli/train-args.js';
import { ConfigError } from '../lib/core/errors.js';
import { createRng } from '../lib/core/random.js';

const root = path.resolve(import.meta.dirname, '..');

function train(args: string[], env: NodeJS.ProcessEnv = {}) {
  const result = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/train.ts', ...args], {
    cwd: root,
    encoding: 'utf8',
    timeout: 300_000,
    env: { ...process.env, ...env },
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** parseTrainArgs for an MLP command line: checks the kind, and types `model` as the MLP's config. */
function parseMlpArgs(argv: string[]): Extract<TrainCliOptions, { kind: 'mlp' }> {
  const o = parseTrainArgs(argv);
  assert.equal(o.kind, 'mlp', argv.join(' '));
  return o as Extract<TrainCliOptions, { kind: 'mlp' }>;
}

describe('parseTrainArgs', () => {
  it('defaults to the model of record on full MNIST', () => {
    const o = parseMlpArgs([]);
    assert.equal(o.dataset, 'mnist');
    assert.equal(o.epochs, 10);
    assert.equal(o.batchSize, 128);
    assert.deepEqual(o.model.hidden, [256, 128]);
    assert.equal(o.engine, 'auto');
  });

  it('reads every option', () => {
    const o = parseMlpArgs([
      '--dataset',
      'mnist-quick',
      '--epochs',
      '3',
      '--batch-size',
      '64',
      '--learning-rate',
      '0.01',
      '--hidden',
      '32,16',
      '--dropout',
      '0',
      '--l2',
      '0',
      '--seed',
      '9',
      '--limit-train',
      '500',
      '--engine',
      'cpu',
      '--save',
      'x',
      '--json',
      '--activation',
      'tanh',
    ]);
    assert.deepEqual(
      [
        o.dataset,
        o.epochs,
        o.batchSize,
        o.model.learningRate,
        o.model.hidden,
        o.model.dropout,
        o.model.l2,
        o.model.seed,
        o.limitTrain,
        o.engine,
        o.save,
        o.json,
        o.model.activation,
      ],
      ['mnist-quick', 3, 64, 0.01, [32, 16], 0, 0, 9, 500, 'cpu', 'x', true, 'tanh'],
    );
    assert.equal(parseTrainArgs(['--data-dir', '/tmp/x']).dataset, 'idx-dir');
    assert.deepEqual(parseMlpArgs(['--hidden', 'none']).model.hidden, []);
  });

  it('rejects bad values before any work, naming the option and the allowed range', () => {
    const cases: Array<[string[], RegExp]> = [
      [['--epochs', '-1'], /--epochs: expected an integer from 1 to 10000, got "-1"/],
      [['--epochs', 'ten'], /--epochs: expected an integer/],
      [['--batch-size', '0'], /--batch-size: expected an integer from 1/],
      [['--dropout', '1'], /--dropout: expected a number in \[0, 1\), got "1"/],
      [['--learning-rate', 'abc'], /--learning-rate: expected a number > 0/],
      [['--hidden', '256,,128'], /--hidden: expected comma-separated layer sizes/],
      [
        ['--dataset', 'cifar'],
        /--dataset: unknown value "cifar"; expected one of mnist, mnist-quick, fashion-mnist, idx-dir/,
      ],
      [['--engine', 'gpu'], /--engine: unknown engine "gpu"/],
      [['--activation', 'swish'], /--activation: unknown value "swish"/],
      [['--dataset', 'idx-dir'], /--data-dir: is required/],
      [['--save', '../evil'], /--save: expected a model name/],
      [['--bogus'], /^--bogus: unknown option; expected one of --dataset, --data-dir, --epochs/],
      [['--lr', '0.1'], /^--lr: unknown option; did you mean --learning-rate\?/],
      [['--epochs'], /^--epochs: expects an integer from 1 to 10000$/],
      [['--seed', '--json'], /^--seed: expects an integer, but is followed by the option --json$/],
    ];
    for (const [args, pattern] of cases) {
      assert.throws(
        () => parseTrainArgs(args),
        (e: unknown) => e instanceof ConfigError && pattern.test(e.message),
        args.join(' '),
      );
    }
  });

  it('fuzz: random argument lists either parse or fail with a ConfigError, never anything else', () => {
    const rng = createRng('cli-fuzz');
    const words = [
      '--epochs',
      '--batch-size',
      '--hidden',
      '--dropout',
      '--l2',
      '--seed',
      '--dataset',
      '--engine',
      '--json',
      '--save',
      '--learning-rate',
      '--limit-train',
      '--activation',
      '-h',
      '--',
      '-',
      '=',
      '1',
      '0',
      '-3',
      '1e400',
      'NaN',
      '0x10',
      '256,128',
      ',',
      'mnist',
      'wasm',
      '',
      ' ',
      'ü',
      '--epochs=2',
      '--hidden=1,2,3',
    ];
    for (let round = 0; round < 3000; round++) {
      const args = Array.from(
        { length: Math.floor(rng.next() * 7) },
        () => words[Math.floor(rng.next() * words.length)],
      );
      try {
        parseTrainArgs(args);
      } catch (error) {
        assert.ok(error instanceof ConfigError, `${JSON.stringify(args)} threw ${String(error)}`);
        assert.ok(error.message.length > 10 && !error.message.includes('\n'), JSON.stringify(args));
      }
    }
  });
});

describe('npm run train (process)', () => {
  it('prints JSON lines: start, one per epoch, done; saves the model', () => {
    const name = `test-cli-${process.pid}`;
    const ok = train([
      '--dataset',
      'mnist-quick',
      '--epochs',
      '2',
      '--limit-train',
      '2000',
      '--validation-size',
      '500',
      '--json',
      '--save',
      name,
    ]);
    const saved = path.join(root, 'data', 'models', name);
    after(() => rmSync(saved, { recursive: true, force: true }));
    assert.equal(ok.code, 0, ok.stderr);
    const events = ok.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.deepEqual(
      events.map((e) => e.event),
      ['start', 'epoch', 'epoch', 'done'],
    );
    assert.equal(events[0].engine, 'wasm');
    assert.equal(events[0].trainSamples, 2000);
    for (const key of ['loss', 'accuracy', 'testLoss', 'testAccuracy', 'valAccuracy', 'seconds'])
      assert.equal(typeof events[1][key], 'number', key);
    const done = events[3];
    assert.equal(done.epochs, 2);
    assert.ok(done.testAccuracy > 0.8, `test accuracy ${done.testAccuracy}`);
    assert.ok(done.peakRssMiB > 50 && done.secondsPerEpoch > 0);
    assert.equal(done.savedTo, saved);
    assert.deepEqual(readdirSync(saved).sort(), ['meta.json', 'model.json', 'weights.bin']);
  });

  it('errors are one line on stderr with a non-zero exit, no stack trace unless --verbose', () => {
    const bad = train(['--epochs', '0']);
    assert.equal(bad.code, 2);
    assert.equal(
      bad.stderr.trim(),
      'error: --epochs: expected an integer from 1 to 10000, got "0"',
    );
    const big = train(['--dataset', 'mnist-quick', '--batch-size', '999999']);
    assert.equal(big.code, 2);
    assert.match(
      big.stderr.trim(),
      /^error: --batch-size: expected an integer from 1 to the training set size \(8000\), got 999999$/,
    );
    const missing = train(['--data-dir', '/nonexistent/folder']);
    assert.equal(missing.code, 1);
    assert.equal(missing.stderr.trim().split('\n').length, 1, missing.stderr);
    assert.match(missing.stderr, /^error: .*\/nonexistent\/folder/);
    const verbose = train(['--data-dir', '/nonexistent/folder', '--verbose']);
    assert.match(verbose.stderr, /\n\s+at /);
  });

  it('a learning rate of 7 stops cleanly with the epoch and batch where the loss exploded', () => {
    const r = train(['--dataset', 'mnist-quick', '--epochs', '2', '--learning-rate', '7']);
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /error: training stopped: the loss exploded to .* at epoch 1, batch \d+ of 63/,
    );
  });
});
