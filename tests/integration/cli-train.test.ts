// Tests for `npm run train`: argument validation (incl. a fuzz), JSON output, one-line errors, exit codes.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { parseTrainArgs, type TrainCliOptions } from '../../scripts/cli/train-args.js';
import { ConfigError } from '../../lib/core/errors.js';
import { createRng } from '../../lib/core/random.js';
import { loadDataset } from '../../lib/data/datasets.js';
import { resolveCnnConfig } from '../../lib/ml/cnn.js';
import { predict } from '../../lib/ml/evaluate.js';
import { loadModel } from '../../lib/ml/persist.js';
import { useWasm } from '../support/helpers.js';
import { root, runScriptSync } from '../support/run-script.js';
import { missingNativeEngine } from '../support/native-tools.js';

/** What `--engine auto` picks here: native TensorFlow once `npm run engine -- native` has run (CI), else wasm. */
const autoEngine = missingNativeEngine() ? 'wasm' : 'tensorflow';

function train(args: string[], env: NodeJS.ProcessEnv = {}) {
  return runScriptSync('train', args, { env, killAfterMs: 300_000 });
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

  it('--model cnn: the CNN defaults, its own options, and the shared ones', () => {
    const d = parseTrainArgs(['--model', 'cnn']);
    assert.equal(d.kind, 'cnn');
    assert.deepEqual(d.model, resolveCnnConfig());
    const o = parseTrainArgs([
      '--model',
      'cnn',
      '--filters',
      '32,64',
      '--kernel-size',
      '5',
      '--dense-units',
      '0',
      '--dropout',
      '0.25',
      '--learning-rate',
      '0.002',
      '--seed',
      '7',
      '--epochs',
      '4',
      '--batch-size',
      '64',
      '--save',
      'wide-cnn',
    ]);
    assert.equal(o.kind, 'cnn');
    if (o.kind !== 'cnn') return;
    assert.deepEqual(
      [o.model.filters, o.model.kernelSize, o.model.denseUnits, o.model.dropout],
      [[32, 64], 5, 0, 0.25],
    );
    assert.deepEqual([o.model.learningRate, o.model.seed], [0.002, 7]);
    assert.deepEqual([o.epochs, o.batchSize, o.save], [4, 64, 'wide-cnn']);
    // --dropout keeps each model's own default when not given: 0.2 for the MLP, 0 for the CNN.
    assert.equal(parseMlpArgs([]).model.dropout, 0.2);
    assert.equal(parseMlpArgs(['--model', 'mlp']).model.dropout, 0.2);
  });

  it('an option of the other model is an error naming it, not silently ignored', () => {
    const cases: Array<[string[], RegExp]> = [
      [
        ['--model', 'cnn', '--hidden', '64'],
        /^--hidden: shapes the MLP only; the CNN takes --filters/,
      ],
      [['--model', 'cnn', '--activation', 'tanh'], /^--activation: shapes the MLP only/],
      [['--model', 'cnn', '--l2', '0'], /^--l2: shapes the MLP only/],
      [['--filters', '8'], /^--filters: shapes the CNN only; add --model cnn/],
      [['--model', 'mlp', '--kernel-size', '5'], /^--kernel-size: shapes the CNN only/],
      [['--dense-units', '0'], /^--dense-units: shapes the CNN only/],
      [
        ['--model', 'cnn', '--filters', '16,x'],
        /^--filters: expected comma-separated filter counts/,
      ],
      [
        ['--model', 'cnn', '--kernel-size', '29'],
        /^--kernel-size: expected an integer from 1 to 28/,
      ],
      [
        ['--model', 'cnn', '--filters', '8,8,8,8'],
        /^--filters: 4 conv blocks with 3×3 kernels shrink a 28×28 image to nothing/,
      ],
      [
        ['--model', 'rnn'],
        /^--model: unknown value "rnn" \(did you mean cnn\?\); expected one of mlp, cnn$/,
      ],
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
      '--model',
      'cnn',
      '--model=cnn',
      '--filters',
      '--kernel-size',
      '--dense-units',
      '16,32',
      '5',
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
    assert.equal(events[0].engine, autoEngine);
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

  it('--model cnn: JSON events as for the MLP, saved as a CNN that loads back with the same test results; seeded, so a rerun gives the same numbers', async () => {
    const names = [`test-cli-cnn-${process.pid}-a`, `test-cli-cnn-${process.pid}-b`];
    const dirs = names.map((n) => path.join(root, 'data', 'models', n));
    after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
    // wasm: bit-for-bit reruns and the exact rescoring below are promises of one engine.
    const args = [
      '--model',
      'cnn',
      '--epochs',
      '1',
      '--limit-train',
      '2000',
      '--json',
      '--engine',
      'wasm',
    ];
    const runs = names.map((name) => train([...args, '--save', name]));
    const events = runs.map((r) => {
      assert.equal(r.code, 0, r.stderr);
      return r.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
    });
    const [start, epoch, done] = events[0];
    assert.deepEqual(
      events[0].map((e) => e.event),
      ['start', 'epoch', 'done'],
    );
    assert.equal(start.model, 'cnn');
    assert.equal(start.trainSamples, 2000);
    assert.equal(start.parameters, 56_714);
    assert.deepEqual(start.config, resolveCnnConfig());
    for (const key of ['loss', 'accuracy', 'testLoss', 'testAccuracy', 'seconds'])
      assert.equal(typeof epoch[key], 'number', key);
    assert.equal(done.model, 'cnn');
    assert.equal(done.engine, 'wasm');
    assert.equal(done.epochs, 1);
    assert.equal(done.testAccuracy, epoch.testAccuracy);
    assert.ok(done.testAccuracy > 0.5, `test accuracy ${done.testAccuracy}`);
    assert.ok(done.peakRssMiB > 50 && done.secondsPerEpoch > 0);
    assert.equal(done.savedTo, dirs[0]);

    // Seeded: the second run learned exactly the same weights and measured the same numbers.
    const [, epochB, doneB] = events[1];
    for (const key of ['loss', 'accuracy', 'testLoss', 'testAccuracy'])
      assert.equal(epochB[key], epoch[key], key);
    assert.equal(doneB.testAccuracy, done.testAccuracy);
    assert.deepEqual(
      readFileSync(path.join(dirs[1], 'weights.bin')),
      readFileSync(path.join(dirs[0], 'weights.bin')),
    );

    // Saved as a CNN: loadModel rebuilds it, and it scores the test set exactly as training reported.
    await useWasm();
    const meta = JSON.parse(readFileSync(path.join(dirs[0], 'meta.json'), 'utf8'));
    assert.equal(meta.kind, 'cnn');
    const loaded = await loadModel(names[0]);
    assert.equal(loaded.kind, 'cnn');
    const { test } = await loadDataset({ dataset: 'mnist' });
    const scored = predict(loaded.model, test);
    assert.equal(scored.accuracy, epoch.testAccuracy);
    assert.ok(Math.abs(scored.loss - epoch.testLoss) < 1e-9, `${scored.loss} vs ${epoch.testLoss}`);
    loaded.model.dispose();
  });

  it('--model cnn with an MLP-only option: exit 2, one line, before any training', () => {
    const r = train(['--model', 'cnn', '--hidden', '64,32']);
    assert.equal(r.code, 2);
    assert.equal(r.stdout, '');
    assert.equal(
      r.stderr.trim(),
      'error: --hidden: shapes the MLP only; the CNN takes --filters, --kernel-size, --dense-units and --dropout (see --help)',
    );
  });
});
