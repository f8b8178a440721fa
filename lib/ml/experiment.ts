// One "break it" experiment: a variant of the model of record trained on the same data, seed and loop.
import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '../core/errors.js';
import type { Split } from '../data/types.js';
import { predictMlp } from './evaluate.js';
import { createMlp, denseVariables, type MlpConfig } from './model.js';
import { layerGradientNorms } from './probes.js';
import { trainModel, type EpochMetrics, type TrainStop } from './train.js';

export interface ExperimentData {
  readonly train: Split;
  /** Scored after every epoch: the learning curves and "epochs to 95 %" use it. */
  readonly validation: Split;
  /** Scored once at the end, for the summary table. */
  readonly test: Split;
}

export interface GradientSample {
  /** Updates applied so far (0 = the untrained model). */
  readonly step: number;
  /** One norm per layer's kernel, first layer first. */
  readonly norms: readonly number[];
}

export interface ExperimentOptions {
  readonly data: ExperimentData;
  /** Damage done to the data before training, e.g. `(d) => ({ ...d, train: shuffleLabels(d.train, 1) })`. */
  readonly transform?: (data: ExperimentData) => ExperimentData;
  /** In words, for the summary table: what this variant breaks. */
  readonly broke?: string;
  readonly epochs?: number;
  readonly batchSize?: number;
  /** false keeps the training set's order (default true: reshuffle every epoch). */
  readonly shuffle?: boolean;
  readonly divergenceFactor?: number;
  /** Rewrites the freshly initialised weights (e.g. set them all to one constant) before training. */
  readonly initWeights?: (vars: tf.Variable[]) => void;
  /** Records layerGradientNorms on this batch before training and every `probeEvery` updates. */
  readonly gradientProbe?: Split;
  readonly probeEvery?: number;
  /** Returns the trained model (call dispose() on it when done); otherwise it is disposed. */
  readonly keepModel?: boolean;
  readonly onEpoch?: (m: EpochMetrics) => void | Promise<void>;
}

export interface ExperimentResult {
  readonly name: string;
  readonly broke: string;
  readonly config: MlpConfig;
  readonly history: EpochMetrics[];
  readonly stop: TrainStop | null;
  /** Loss and accuracy of every training batch, in order (dropout active). */
  readonly batchLoss: number[];
  readonly batchAccuracy: number[];
  /** The trained model in inference mode, on the (possibly transformed) training labels it was given. */
  readonly trainAccuracy: number;
  readonly validationAccuracy: number;
  readonly testAccuracy: number;
  /** First epoch whose validation accuracy reached 95 %; null if none did. */
  readonly epochsTo95: number | null;
  /** Wall-clock seconds of the whole run, evaluation after each epoch included. */
  readonly seconds: number;
  /** Seconds spent in training steps only. */
  readonly trainSeconds: number;
  readonly trainSamples: number;
  readonly batchSize: number;
  readonly epochs: number;
  readonly gradientNorms: GradientSample[];
  readonly model?: tf.Sequential;
}

/**
 * Trains a variant of the model of record: `change` overrides its config (seed 42 unless changed),
 * `options.transform` damages the data. Every variant of one notebook uses the same data, seed,
 * epochs and batch size as the baseline (`runExperiment('baseline', {}, …)`), so the change is the only
 * difference. Never throws because training went wrong: a stop is reported in `stop`.
 */
export async function runExperiment(
  name: string,
  change: Partial<MlpConfig>,
  options: ExperimentOptions,
): Promise<ExperimentResult> {
  const data = options.transform ? options.transform(options.data) : options.data;
  const epochs = options.epochs ?? 5;
  const batchSize = options.batchSize ?? 128;
  const probeEvery = options.probeEvery ?? 20;
  if (!Number.isInteger(probeEvery) || probeEvery < 1) {
    throw new ConfigError('probeEvery', `must be a positive integer, got ${probeEvery}`);
  }
  const { model, config } = createMlp(change);
  options.initWeights?.(denseVariables(model));
  const batchLoss: number[] = [];
  const batchAccuracy: number[] = [];
  const gradientNorms: GradientSample[] = [];
  const probe = options.gradientProbe;
  const recordNorms = (step: number) =>
    probe && gradientNorms.push({ step, norms: layerGradientNorms(model, config, probe) });
  recordNorms(0);
  const started = performance.now();
  const { history, stop } = await trainModel(
    model,
    config,
    { train: data.train, validation: data.validation },
    {
      epochs,
      batchSize,
      shuffle: options.shuffle ?? true,
      divergenceFactor: options.divergenceFactor,
      onEpoch: options.onEpoch,
      onBatch: (m) => {
        batchLoss.push(m.loss);
        batchAccuracy.push(m.accuracy);
        if (batchLoss.length % probeEvery === 0) recordNorms(batchLoss.length);
      },
    },
  );
  const seconds = (performance.now() - started) / 1000;
  const reached = history.find((m) => (m.valAccuracy ?? 0) >= 0.95);
  const result: ExperimentResult = {
    name,
    broke: options.broke ?? '',
    config,
    history,
    stop,
    batchLoss,
    batchAccuracy,
    trainAccuracy: predictMlp(model, config, data.train).accuracy,
    validationAccuracy: predictMlp(model, config, data.validation).accuracy,
    testAccuracy: predictMlp(model, config, data.test).accuracy,
    epochsTo95: reached ? reached.epoch : null,
    seconds,
    trainSeconds: history.reduce((s, m) => s + m.seconds, 0),
    trainSamples: data.train.count,
    batchSize,
    epochs,
    gradientNorms,
    ...(options.keepModel ? { model } : {}),
  };
  if (!options.keepModel) model.dispose();
  return result;
}

/** Sets every weight and bias to `value`: perfectly symmetric units (use with dropout 0 to keep them so). */
export function constantWeights(value: number): (vars: tf.Variable[]) => void {
  return (vars) => tf.tidy(() => vars.forEach((v) => v.assign(tf.fill(v.shape, value))));
}
