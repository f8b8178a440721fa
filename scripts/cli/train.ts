// `npm run train`: trains the MLP (or the CNN) from the command line, with a progress bar or JSON lines, and saves it.
import { parseCli, runMain } from '../shared/options.js';
import { TRAIN_OPTIONS, TRAIN_USAGE, trainModelKind } from './train-options.js';
import type { TrainCliOptions } from './train-args.js';
import type { Sequential } from '@tensorflow/tfjs';
import type { CnnConfig, CnnTrainOptions } from '../../lib/ml/cnn.js';
import type { MlpConfig } from '../../lib/ml/model.js';
import type { TrainResult } from '../../lib/ml/train.js';
import { formatPercent } from '../../lib/core/format.js';

const emit = (event: Record<string, unknown>) => process.stdout.write(JSON.stringify(event) + '\n');

/** First Ctrl-C (or SIGTERM): stop after the current batch. Second: leave at once. */
function interruptController(json: boolean): AbortController {
  const controller = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    if (controller.signal.aborted) {
      process.stderr.write(`\n${signal} again: exiting now\n`);
      process.exit(130);
    }
    if (!json)
      process.stderr.write(
        `\n${signal}: stopping after the current batch (press Ctrl-C again to quit now)\n`,
      );
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return controller;
}

async function run(opts: TrainCliOptions): Promise<number> {
  // Loaded only now: TensorFlow.js takes seconds to import, and --help or a typo should not wait for it.
  const tf = await import('@tensorflow/tfjs');
  const { loadDataset } = await import('../../lib/data/datasets.js');
  const { initEngine } = await import('../../lib/engine/engine.js');
  const { ConfigError } = await import('../../lib/core/errors.js');
  const { createMlp, summarize } = await import('../../lib/ml/model.js');
  const { createCnn, trainCnn } = await import('../../lib/ml/cnn.js');
  const { saveModel } = await import('../../lib/ml/persist.js');
  const { createProgress } = await import('../../lib/ml/progress.js');
  const { median, peakRssMiB } = await import('../../lib/core/stats.js');
  const { trainModel } = await import('../../lib/ml/train.js');
  const log = (line: string) => !opts.json && process.stdout.write(line + '\n');
  const data = await loadDataset({
    dataset: opts.dataset,
    dataDir: opts.dataDir,
    validationSize: opts.validationSize,
    limitTrain: opts.limitTrain,
  });
  if (opts.batchSize > data.train.count) {
    throw new ConfigError(
      '--batch-size',
      `expected an integer from 1 to the training set size (${data.train.count}), got ${opts.batchSize}`,
    );
  }
  const engine = await initEngine(opts.engine);
  const numClasses = data.classNames.length;
  // One architecture or the other; everything after this (progress, stop handling, saving) is shared.
  let model: Sequential;
  let config: MlpConfig | CnnConfig;
  let describe: string;
  let train: (options: CnnTrainOptions) => Promise<TrainResult>;
  if (opts.kind === 'cnn') {
    const cnn = createCnn({ ...opts.model, inputShape: [data.height, data.width, 1], numClasses });
    const c = cnn.config;
    const layers = [
      ...c.filters.map((f) => `conv ${c.kernelSize}×${c.kernelSize} ${f} → pool`),
      ...(c.denseUnits > 0 ? [`dense ${c.denseUnits}`] : []),
      c.numClasses,
    ];
    ({ model, config } = cnn);
    describe = `CNN ${c.inputShape.join('×')} → ${layers.join(' → ')}, ReLU, dropout ${c.dropout}, Adam ${c.learningRate}`;
    train = (options) => trainCnn(cnn.model, c, data, options);
  } else {
    const mlp = createMlp({ ...opts.model, inputSize: data.height * data.width, numClasses });
    const c = mlp.config;
    ({ model, config } = mlp);
    describe = `${c.inputSize} → ${[...c.hidden, c.numClasses].join(' → ')}, ${c.activation}, dropout ${c.dropout}, L2 ${c.l2}, Adam ${c.learningRate}`;
    train = (options) => trainModel(mlp.model, c, data, options);
  }
  const params = summarize(model).totalParams;
  log(`engine   ${engine.summary}`);
  log(
    `data     ${data.name}: ${data.train.count} train / ${data.validation.count} validation / ${data.test.count} test (${data.source})`,
  );
  log(`model    ${describe}; ${params.toLocaleString('en-US')} parameters`);
  if (opts.json)
    emit({
      event: 'start',
      model: opts.kind,
      engine: engine.engine,
      enginePackage: engine.packageName,
      engineSummary: engine.summary,
      dataset: data.name,
      trainSamples: data.train.count,
      validationSamples: data.validation.count,
      testSamples: data.test.count,
      parameters: params,
      config,
    });

  const progress = opts.json ? undefined : createProgress(opts.epochs);
  const controller = interruptController(opts.json);
  const result = await train({
    epochs: opts.epochs,
    batchSize: opts.batchSize,
    signal: controller.signal,
    onBatch: progress?.onBatch,
    onEpoch: (m) => {
      if (opts.json) emit({ event: 'epoch', ...m });
      else progress!.onEpoch(m);
    },
  });
  const last = result.history.at(-1);
  const steady = result.history.length > 1 ? result.history.slice(1) : result.history;
  const summary = {
    model: opts.kind,
    engine: engine.engine,
    epochs: result.history.length,
    testAccuracy: last?.testAccuracy ?? null,
    secondsPerEpoch: median(steady.map((m) => m.seconds)),
    samplesPerSecond: median(steady.map((m) => m.samplesPerSecond)),
    peakRssMiB: Math.round(peakRssMiB()),
    numTensors: tf.memory().numTensors,
  };
  if (result.stop) {
    if (opts.json) emit({ event: 'stopped', ...result.stop, ...summary });
    process.stderr.write(`error: ${result.stop.message}\n`);
    return result.stop.reason === 'interrupted' ? 130 : 1;
  }
  let savedTo: string | undefined;
  if (opts.save) {
    savedTo = await saveModel(
      model,
      {
        // Only a CNN says what it is: an MLP's meta.json stays as it always was (no kind = 'mlp').
        ...(opts.kind === 'cnn' ? { kind: 'cnn' as const } : {}),
        config,
        history: result.history,
        engine: engine.summary,
        dataset: {
          name: data.name,
          source: data.source,
          trainSamples: data.train.count,
          classNames: data.classNames,
        },
      },
      opts.save,
    );
  }
  if (opts.json) emit({ event: 'done', ...summary, savedTo: savedTo ?? null });
  else {
    log(
      `done     test accuracy ${last?.testAccuracy !== undefined ? formatPercent(last.testAccuracy, 2) : '–'}; ${summary.secondsPerEpoch.toFixed(2)} s/epoch (median); peak RSS ${summary.peakRssMiB} MiB`,
    );
    if (savedTo) log(`saved    ${savedTo}`);
  }
  return 0;
}

async function main(argv: string[]): Promise<number> {
  // The syntax check and --help need no TensorFlow.js; parseTrainArgs (which does) validates the values.
  const { values } = parseCli(argv, TRAIN_OPTIONS);
  if (values.help) {
    process.stdout.write(TRAIN_USAGE);
    return 0;
  }
  trainModelKind(values); // an option of the other architecture: one line before TensorFlow.js loads
  const { parseTrainArgs } = await import('./train-args.js');
  return run(parseTrainArgs(argv));
}

runMain(() => main(process.argv.slice(2)));
