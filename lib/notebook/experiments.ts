// "Break it" experiments (notebook 05): train variants of the model of record on the same data and seed, and compare them.
import * as tf from '@tensorflow/tfjs';
import { loadDataset } from '../data/datasets.js';
import type { Split } from '../data/types.js';
import { ConfigError } from '../core/errors.js';
import { predict } from '../ml/evaluate.js';
import { weightImages } from './explore.js';
import { denseOpFor, forwardLogits, l2Penalty, standardDense } from '../ml/forward.js';
import { createMlp, denseVariables, type MlpConfig } from '../ml/model.js';
import { notebookSettings } from './settings.js';
import { PALETTE, lineChart, type Figure, type LineSeries } from '../viz/charts.js';
import { createRng, fillDropoutMask, permutation } from '../core/random.js';
import { trainModel, type EpochMetrics, type TrainStop } from '../ml/train.js';

// ---------------------------------------------------------------------------------------------
// Data: one fixed subset for every experiment, and the deliberate damage done to it.
// ---------------------------------------------------------------------------------------------

export interface ExperimentData {
  readonly train: Split;
  /** Scored after every epoch: the learning curves and "epochs to 95 %" use it. */
  readonly validation: Split;
  /** Scored once at the end, for the summary table. */
  readonly test: Split;
}

/** How big the experiments are: sized so notebook 05 runs in minutes on two CPU cores. */
export interface ExperimentScale {
  readonly dataset: 'mnist' | 'mnist-quick';
  readonly trainSize: number;
  readonly validationSize: number;
  readonly epochs: number;
  readonly batchSize: number;
  /** The small training set of the overfitting and memorisation experiments. */
  readonly smallTrainSize: number;
  readonly smallEpochs: number;
}

export const EXPERIMENT_SCALES: Readonly<Record<'normal' | 'quick', ExperimentScale>> = Object.freeze({
  normal: Object.freeze({ dataset: 'mnist', trainSize: 10_000, validationSize: 2000, epochs: 5, batchSize: 128, smallTrainSize: 1000, smallEpochs: 40 }),
  quick: Object.freeze({ dataset: 'mnist-quick', trainSize: 2000, validationSize: 1000, epochs: 3, batchSize: 128, smallTrainSize: 500, smallEpochs: 15 }),
});

/** The normal scale, or the quick one when the notebook runner was started with --quick (MNIST_NB_QUICK=1). */
export function experimentScale(quick = notebookSettings().quick): ExperimentScale {
  return quick ? EXPERIMENT_SCALES.quick : EXPERIMENT_SCALES.normal;
}

/** The first `trainSize` training digits, a validation split held out from the training files, and the whole test set. */
export async function loadExperimentData(scale: ExperimentScale = experimentScale()): Promise<ExperimentData> {
  const ds = await loadDataset({ dataset: scale.dataset, validationSize: scale.validationSize, limitTrain: scale.trainSize });
  return { train: ds.train, validation: ds.validation, test: ds.test };
}

function checkSplit(split: Split, what: string): number {
  if (split.count < 1 || split.images.length % split.count !== 0 || split.labels.length !== split.count) {
    throw new ConfigError(what, `expected a split with ${split.count} images and as many labels, got ${split.images.length} pixel values and ${split.labels.length} labels`);
  }
  return split.images.length / split.count;
}

/** The first `n` samples (views, no copy). */
export function headSplit(split: Split, n: number): Split {
  const d = checkSplit(split, 'split');
  if (!Number.isInteger(n) || n < 1 || n > split.count) {
    throw new ConfigError('n', `must be an integer from 1 to ${split.count}, got ${n}`);
  }
  return { images: split.images.subarray(0, n * d), labels: split.labels.subarray(0, n), count: n };
}

/** A copy with every pixel multiplied by `factor`: ×255 undoes the usual scaling to [0, 1]. */
export function scaleImages(split: Split, factor: number): Split {
  if (!Number.isFinite(factor)) throw new ConfigError('factor', `must be a finite number, got ${factor}`);
  return { images: split.images.map((v) => v * factor), labels: split.labels, count: split.count };
}

/** A copy whose labels are a seeded permutation of the originals: same class counts, no relation to the image. */
export function shuffleLabels(split: Split, seed: number): Split {
  const order = permutation(split.count, createRng(`labels-${seed}`));
  return { images: split.images, labels: Int32Array.from(order, (i) => split.labels[i]), count: split.count };
}

/** A copy sorted by label (all 0s, then all 1s, …), keeping file order within a class. */
export function sortByLabel(split: Split): Split {
  const d = checkSplit(split, 'split');
  const order = Array.from({ length: split.count }, (_, i) => i).sort((a, b) => split.labels[a] - split.labels[b] || a - b);
  const images = new Float32Array(split.images.length);
  order.forEach((from, to) => images.set(split.images.subarray(from * d, (from + 1) * d), to * d));
  return { images, labels: Int32Array.from(order, (i) => split.labels[i]), count: split.count };
}

// ---------------------------------------------------------------------------------------------
// Looking inside a model: gradient size per layer, identical hidden units, first-layer weights.
// ---------------------------------------------------------------------------------------------

/** Kernel k of a dense model as a row-major Float32Array (inputs × units). */
export function kernelValues(model: tf.LayersModel, k: number): Float32Array {
  const vars = denseVariables(model);
  const kernel = vars[2 * k];
  if (!kernel) throw new ConfigError('layer', `the model has ${vars.length / 2} dense layers; there is no layer ${k + 1}`);
  return kernel.dataSync() as Float32Array;
}

/**
 * ‖∂loss/∂W‖ (Euclidean norm of the cross-entropy gradient) for each layer's kernel on one batch, in
 * inference mode (no dropout, no L2): how hard each layer is being pushed at this point of training.
 */
export function layerGradientNorms(model: tf.LayersModel, config: MlpConfig, batch: Split): number[] {
  const vars = denseVariables(model);
  const kernels = vars.filter((_, i) => i % 2 === 0);
  return tf.tidy(() => {
    const x = tf.tensor2d(batch.images, [batch.count, config.inputSize]);
    const y = tf.oneHot(tf.tensor1d(batch.labels, 'int32'), config.numClasses);
    const { grads } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(y, forwardLogits(vars, x, config, standardDense)) as tf.Scalar, kernels);
    return Array.from(tf.stack(kernels.map((k) => tf.norm(grads[k.name]))).dataSync());
  });
}

/**
 * For each hidden layer: the largest difference between any unit's incoming weights (a kernel column)
 * or bias and unit 0's. Zero means every unit of that layer is an exact copy of the others.
 */
export function hiddenUnitSpread(model: tf.LayersModel): number[] {
  const vars = denseVariables(model);
  const spreads: number[] = [];
  for (let k = 0; k < vars.length / 2 - 1; k++) {
    const [rows, cols] = vars[2 * k].shape;
    const w = vars[2 * k].dataSync();
    const b = vars[2 * k + 1].dataSync();
    let spread = 0;
    for (let j = 1; j < cols; j++) {
      spread = Math.max(spread, Math.abs(b[j] - b[0]));
      for (let i = 0; i < rows; i++) spread = Math.max(spread, Math.abs(w[i * cols + j] - w[i * cols]));
    }
    spreads.push(spread);
  }
  return spreads;
}

/**
 * The incoming weights of the chosen first-layer units as 28×28 images for showDigits, each unit on its
 * own scale (grey = 0, dark = positive, light = negative; see weightImages), so that a unit's pattern
 * shows whether its weights are 0.05 or 5. A unit whose weights are all 0 is flat grey.
 */
export function firstLayerImages(model: tf.LayersModel, units: readonly number[]): Float32Array {
  const kernel = denseVariables(model)[0];
  const [inputs, cols] = kernel.shape;
  const w = kernel.dataSync();
  const out = new Float32Array(units.length * inputs);
  units.forEach((u, n) => out.set(weightImages(w, inputs, cols, [u]), n * inputs));
  return out;
}

// ---------------------------------------------------------------------------------------------
// Running an experiment.
// ---------------------------------------------------------------------------------------------

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
  /**
   * Train with the small loop `trainWithLoss` and this loss instead of trainModel: 'softmax-twice' is the
   * classic from-logits mistake; run 'from-logits' through the same loop to compare like with like.
   */
  readonly loss?: LossKind;
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

export type LossKind = 'from-logits' | 'softmax-twice';

/**
 * Trains a variant of the model of record: `change` overrides its config (seed 42 unless changed),
 * `options.transform` damages the data. Every variant of one notebook uses the same data, seed,
 * epochs and batch size as the baseline (`runExperiment('baseline', {}, …)`), so the change is the only
 * difference. Never throws because training went wrong: a stop is reported in `stop`.
 */
export async function runExperiment(name: string, change: Partial<MlpConfig>, options: ExperimentOptions): Promise<ExperimentResult> {
  const data = options.transform ? options.transform(options.data) : options.data;
  const epochs = options.epochs ?? 5;
  const batchSize = options.batchSize ?? 128;
  const probeEvery = options.probeEvery ?? 20;
  if (!Number.isInteger(probeEvery) || probeEvery < 1) throw new ConfigError('probeEvery', `must be a positive integer, got ${probeEvery}`);
  const { model, config } = createMlp(change);
  options.initWeights?.(denseVariables(model));
  const batchLoss: number[] = [];
  const batchAccuracy: number[] = [];
  const gradientNorms: GradientSample[] = [];
  const probe = options.gradientProbe;
  if (probe) gradientNorms.push({ step: 0, norms: layerGradientNorms(model, config, probe) });
  const onBatch = (loss: number, accuracy: number) => {
    batchLoss.push(loss);
    batchAccuracy.push(accuracy);
    if (probe && batchLoss.length % probeEvery === 0) gradientNorms.push({ step: batchLoss.length, norms: layerGradientNorms(model, config, probe) });
  };
  const started = performance.now();
  const trainData = { train: data.train, validation: data.validation };
  const loopOptions = { epochs, batchSize, shuffle: options.shuffle ?? true, onEpoch: options.onEpoch };
  const { history, stop } =
    options.loss === undefined
      ? await trainModel(model, config, trainData, { ...loopOptions, divergenceFactor: options.divergenceFactor, onBatch: (m) => onBatch(m.loss, m.accuracy) })
      : await trainWithLoss(model, config, trainData, { ...loopOptions, loss: options.loss, onBatch });
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
    trainAccuracy: predict(model, config, data.train).accuracy,
    validationAccuracy: predict(model, config, data.validation).accuracy,
    testAccuracy: predict(model, config, data.test).accuracy,
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

interface LossLoopOptions {
  readonly epochs: number;
  readonly batchSize: number;
  readonly shuffle: boolean;
  readonly loss: LossKind;
  readonly onEpoch?: (m: EpochMetrics) => void | Promise<void>;
  readonly onBatch: (loss: number, accuracy: number) => void;
}

/**
 * A minimal version of trainModel's loop (Adam, seeded shuffles and dropout masks, L2) whose loss can be
 * the wrong one. 'softmax-twice' turns the logits into probabilities and hands THOSE to
 * softmaxCrossEntropy, which applies softmax again: the mistake of putting a softmax layer in front of a
 * loss that expects logits. Run the correct loss through this same loop to compare like with like.
 */
export async function trainWithLoss(model: tf.LayersModel, config: MlpConfig, data: { train: Split; validation?: Split }, options: LossLoopOptions): Promise<{ history: EpochMetrics[]; stop: TrainStop | null }> {
  const { train } = data;
  const { epochs, batchSize } = options;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > train.count) {
    throw new ConfigError('batchSize', `must be an integer from 1 to the training set size (${train.count}), got ${batchSize}`);
  }
  const vars = denseVariables(model);
  const dense = denseOpFor(tf.getBackend());
  const d = config.inputSize;
  const rng = createRng(config.seed);
  const optimizer = tf.train.adam(config.learningRate);
  const history: EpochMetrics[] = [];
  try {
    for (let epoch = 1; epoch <= epochs; epoch++) {
      const started = performance.now();
      const order = options.shuffle ? permutation(train.count, rng) : Int32Array.from({ length: train.count }, (_, i) => i);
      let lossSum = 0;
      let correct = 0;
      for (let from = 0; from < train.count; from += batchSize) {
        const n = Math.min(batchSize, train.count - from);
        const rows = order.subarray(from, from + n);
        const xBuf = new Float32Array(n * d);
        rows.forEach((i, r) => xBuf.set(train.images.subarray(i * d, (i + 1) * d), r * d));
        const labels = Int32Array.from(rows, (i) => train.labels[i]);
        const masks = config.dropout > 0 ? config.hidden.map((units) => fillDropoutMask(new Float32Array(n * units), config.dropout, rng)) : [];
        const [loss, hits] = tf.tidy(() => {
          const x = tf.tensor2d(xBuf, [n, d]);
          const y = tf.oneHot(tf.tensor1d(labels, 'int32'), config.numClasses);
          const maskTensors = masks.map((m, i) => tf.tensor2d(m, [n, config.hidden[i]]));
          let logits: tf.Tensor2D | undefined;
          const { value, grads } = tf.variableGrads(() => {
            logits = tf.keep(forwardLogits(vars, x, config, dense, maskTensors.length ? maskTensors : undefined));
            const scores = options.loss === 'softmax-twice' ? tf.softmax(logits) : logits;
            const ce = tf.losses.softmaxCrossEntropy(y, scores);
            const penalty = l2Penalty(vars, config.l2);
            return (penalty ? tf.add(ce, penalty) : ce) as tf.Scalar;
          }, vars);
          optimizer.applyGradients(Object.entries(grads).map(([name, tensor]) => ({ name, tensor })));
          const hit = tf.sum(tf.cast(tf.equal(tf.argMax(logits!, 1), tf.tensor1d(labels, 'int32')), 'float32'));
          const out = tf.stack([value, hit]).dataSync();
          logits!.dispose();
          return [out[0], out[1]];
        });
        lossSum += loss * n;
        correct += hits;
        options.onBatch(loss, hits / n);
      }
      const seconds = (performance.now() - started) / 1000;
      const evalStarted = performance.now();
      const val = data.validation ? predict(model, config, data.validation) : undefined;
      const metrics: EpochMetrics = {
        epoch,
        loss: lossSum / train.count,
        accuracy: correct / train.count,
        ...(val ? { valLoss: val.loss, valAccuracy: val.accuracy } : {}),
        seconds,
        evalSeconds: (performance.now() - evalStarted) / 1000,
        samplesPerSecond: train.count / seconds,
      };
      history.push(metrics);
      await options.onEpoch?.(metrics);
      await new Promise((resolve) => setImmediate(resolve)); // let notebook output through between epochs
    }
  } finally {
    optimizer.dispose();
  }
  return { history, stop: null };
}

/** Sets every weight and bias to `value`: perfectly symmetric units (use with dropout 0 to keep them so). */
export function constantWeights(value: number): (vars: tf.Variable[]) => void {
  return (vars) => vars.forEach((v) => v.assign(tf.fill(v.shape, value)));
}

// ---------------------------------------------------------------------------------------------
// Reporting.
// ---------------------------------------------------------------------------------------------

const pct = (v: number) => `${(v * 100).toFixed(1)} %`;

/** One row of the summary table. */
export function summaryRow(r: ExperimentResult): Record<string, string | number> {
  return {
    variant: r.name,
    'train acc': pct(r.trainAccuracy),
    'test acc': pct(r.testAccuracy),
    'epochs to 95 %': r.epochsTo95 === null ? '—' : String(r.epochsTo95),
    seconds: Number(r.seconds.toFixed(1)),
    stopped: r.stop ? `${r.stop.reason} (epoch ${r.stop.epoch}, batch ${r.stop.batch})` : '—',
    'what broke': r.broke,
  };
}

/** One line for a notebook cell: the facts of one run. */
export function describeResult(r: ExperimentResult): string {
  const reached = r.epochsTo95 === null ? 'never reached 95 % validation accuracy' : `95 % validation accuracy after epoch ${r.epochsTo95}`;
  const stop = r.stop ? `; ${r.stop.message}` : '';
  return `${r.name}: train ${pct(r.trainAccuracy)}, validation ${pct(r.validationAccuracy)}, test ${pct(r.testAccuracy)}; ${reached}; ${r.seconds.toFixed(1)} s${stop}`;
}

// Black is the baseline's; the other seven colours cycle, with a new dash style on each round.
const VARIANT_COLORS = PALETTE.filter((c) => c !== '#000000');
const VARIANT_DASHES = ['solid', 'dot', 'dashdot'] as const;

/** Line style of the i-th result in a comparison: the first (the baseline) black and dashed, the others distinct. */
function variantStyle(i: number): Pick<LineSeries, 'dash' | 'color'> {
  if (i === 0) return { dash: 'dash', color: '#000000' };
  const k = i - 1;
  return { color: VARIANT_COLORS[k % VARIANT_COLORS.length], dash: VARIANT_DASHES[Math.floor(k / VARIANT_COLORS.length) % VARIANT_DASHES.length] };
}

export type CurveMetric = 'valAccuracy' | 'accuracy' | 'loss' | 'valLoss';

const METRIC_LABELS: Record<CurveMetric, string> = {
  valAccuracy: 'validation accuracy',
  accuracy: 'training accuracy',
  loss: 'training loss',
  valLoss: 'validation loss',
};

/** Learning curves of several experiments on one chart, the baseline (first result) drawn dashed in black. */
export function compareCurves(results: readonly ExperimentResult[], metric: CurveMetric, title: string, options: { logY?: boolean } = {}): Figure {
  const series: LineSeries[] = results.map((r, i) => ({
    name: r.name + (r.stop ? ` (stopped: ${r.stop.reason})` : ''),
    x: r.history.map((m) => m.epoch),
    y: r.history.map((m) => m[metric] ?? NaN),
    ...variantStyle(i),
  }));
  const fig = lineChart(series, { title, yLabel: METRIC_LABELS[metric], percent: metric.toLowerCase().includes('accuracy') });
  legendRight(fig);
  if (options.logY) setLogY(fig);
  return fig;
}

/** Training accuracy (solid) against validation accuracy (dotted) per epoch, one colour per experiment: the gap is overfitting. */
export function trainVsValidation(results: readonly ExperimentResult[], title: string): Figure {
  const series: LineSeries[] = results.flatMap((r, i) => {
    const x = r.history.map((m) => m.epoch);
    const color = PALETTE[i % PALETTE.length];
    return [
      { name: `${r.name}: training`, x, y: r.history.map((m) => m.accuracy), color },
      { name: `${r.name}: validation`, x, y: r.history.map((m) => m.valAccuracy ?? NaN), color, dash: 'dot' as const },
    ];
  });
  const fig = lineChart(series, { title, yLabel: 'accuracy', percent: true });
  legendRight(fig);
  return fig;
}

/** Per-batch values (e.g. batchLoss) of several experiments against the update step, optionally only the first `steps`. */
export function compareBatches(results: readonly ExperimentResult[], which: 'batchLoss' | 'batchAccuracy', title: string, options: { steps?: number; logY?: boolean } = {}): Figure {
  const series: LineSeries[] = results.map((r, i) => {
    const values = options.steps ? r[which].slice(0, options.steps) : r[which];
    return {
      name: r.name + (r.stop ? ` (stopped: ${r.stop.reason})` : ''),
      x: values.map((_, k) => k + 1),
      y: values,
      ...variantStyle(i),
    };
  });
  const fig = lineChart(series, { title, xLabel: 'update step (batch)', yLabel: which === 'batchLoss' ? 'training loss per batch' : 'training accuracy per batch', percent: which === 'batchAccuracy' });
  for (const t of fig.data) t.mode = 'lines';
  if (options.logY) setLogY(fig);
  return fig;
}

/**
 * Gradient norm per layer against the update step, one colour per experiment and one dash style per
 * layer, on a log axis (zero gradients cannot be drawn on it: they are left out, so say so in the text).
 */
export function gradientNormFigure(results: readonly ExperimentResult[], title: string): Figure {
  const dashes = ['solid', 'dash', 'dot', 'dashdot'] as const;
  const series: LineSeries[] = [];
  results.forEach((r, i) => {
    const layers = r.gradientNorms[0]?.norms.length ?? 0;
    for (let l = 0; l < layers; l++) {
      series.push({
        name: `${r.name}: layer ${l + 1}`,
        x: r.gradientNorms.map((g) => g.step),
        y: r.gradientNorms.map((g) => (g.norms[l] > 0 ? g.norms[l] : NaN)),
        dash: dashes[l % dashes.length],
        color: PALETTE[i % PALETTE.length],
      });
    }
  });
  if (series.length === 0) throw new ConfigError('results', 'no experiment recorded gradient norms (pass gradientProbe)');
  const fig = lineChart(series, { title, xLabel: 'update step (batch)', yLabel: '‖∂loss/∂W‖ per layer (log scale)' });
  legendRight(fig);
  setLogY(fig);
  return fig;
}

/** Many series: a legend in a column on the right, where it cannot run into the x-axis title. */
function legendRight(fig: Figure): void {
  if (fig.data.length <= 4) return;
  fig.layout.width += 260;
  fig.layout.legend = { orientation: 'v', x: 1.02, xanchor: 'left', y: 1, yanchor: 'top' };
  fig.layout.margin = { l: 70, r: 30, t: 60, b: 60 };
}

function setLogY(fig: Figure): void {
  // exponentformat 'power' writes 10⁻⁶ where plotly's default would write "1µ".
  fig.layout.yaxis = { ...(fig.layout.yaxis as Record<string, unknown>), type: 'log', tickformat: undefined, exponentformat: 'power' };
  // Points that cannot be drawn (NaN, ≤ 0) leave gaps instead of joining across them.
  for (const t of fig.data) t.connectgaps = false;
}
