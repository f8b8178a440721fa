// The training loop: seeded, observable, stops cleanly on NaN or interruption, and fast on every engine.
import * as tf from '@tensorflow/tfjs';
import type { Split } from '../data/types.js';
import { ConfigError } from '../core/errors.js';
import { sigintWhileHandled } from '../core/interrupt.js';
import { predictMlp } from './evaluate.js';
import { leanAdam, stockAdam, type Updater } from './adam.js';
import { mlpGradients } from './backprop.js';
import { forwardLogits, l2Penalty } from './forward.js';
import { denseVariables, type MlpConfig } from './model.js';
import { createRng, fillDropoutMask, permutation, type Rng } from '../core/random.js';

export interface EpochMetrics {
  readonly epoch: number;
  /** Mean training loss over the epoch's batches (cross-entropy + L2, with dropout active). */
  readonly loss: number;
  /** Training accuracy over the epoch's batches (with dropout active, as Keras reports it). */
  readonly accuracy: number;
  readonly valLoss?: number;
  readonly valAccuracy?: number;
  readonly testLoss?: number;
  readonly testAccuracy?: number;
  /** Seconds spent training this epoch (evaluation excluded). */
  readonly seconds: number;
  readonly evalSeconds: number;
  readonly samplesPerSecond: number;
}

export interface BatchMetrics {
  readonly epoch: number;
  readonly batch: number;
  readonly batches: number;
  readonly loss: number;
  readonly accuracy: number;
}

export interface TrainStop {
  /** NaN/Infinity loss; a loss that exploded past `divergenceFactor` × its first value; or a stop signal. */
  readonly reason: 'non-finite-loss' | 'diverged' | 'interrupted';
  readonly epoch: number;
  readonly batch: number;
  readonly message: string;
}

export interface TrainResult {
  readonly history: EpochMetrics[];
  /** Null when every epoch ran; otherwise why and where training stopped. */
  readonly stop: TrainStop | null;
  readonly backend: string;
  /** How the gradients were computed: the option, or the engine's default. */
  readonly gradients: GradientMethod;
  readonly batchSize: number;
  readonly trainSamples: number;
}

/** The backward pass written out (lib/ml/backprop.ts), or TensorFlow.js's gradient tape. */
export type GradientMethod = 'backprop' | 'tape';

export interface TrainData {
  readonly train: Split;
  readonly validation?: Split;
  readonly test?: Split;
}

export interface TrainOptions {
  readonly epochs?: number;
  readonly batchSize?: number;
  /** Defaults to the model config's seed. */
  readonly seed?: number;
  /** Shuffle the training set each epoch (true); false keeps file order, e.g. to show why shuffling matters. */
  readonly shuffle?: boolean;
  readonly onEpoch?: (metrics: EpochMetrics) => void | Promise<void>;
  readonly onBatch?: (metrics: BatchMetrics) => void;
  /** Stop after the current batch when this fires (Ctrl-C in the CLI). */
  readonly signal?: AbortSignal;
  /**
   * How the gradients are computed, instead of the engine's default (see `gradientsFor`): 'tape' is
   * TensorFlow.js's own (`tf.variableGrads`), which `npm run bench` times against 'backprop'.
   */
  readonly gradients?: GradientMethod;
  /** Evaluate on validation/test after each epoch (default: both, when present). */
  readonly evaluate?: boolean;
  /**
   * Stop when a batch loss exceeds this many times the first batch's loss (default 1000; Infinity to let
   * it run). The loss here is computed stably from logits, so a far too high learning rate makes it
   * explode to huge finite values rather than NaN: this catches that too.
   */
  readonly divergenceFactor?: number;
}

export function validateOptions(epochs: number, batchSize: number, trainCount: number): void {
  if (!Number.isInteger(epochs) || epochs < 1 || epochs > 10_000) {
    throw new ConfigError('epochs', `must be an integer from 1 to 10000, got ${epochs}`);
  }
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > trainCount) {
    throw new ConfigError(
      'batchSize',
      `must be an integer from 1 to the training set size (${trainCount}), got ${batchSize}`,
    );
  }
}

/** One batch in buffers reused from batch to batch: n rows of inputs, one-hot targets, labels, dropout masks. */
interface Batch {
  readonly n: number;
  readonly x: Float32Array;
  readonly y: Float32Array;
  readonly labels: Int32Array;
  readonly masks: Float32Array[];
}

/** The buffers of the largest batch; each batch uses their first n rows. */
function batchBuffers(config: MlpConfig, batchSize: number) {
  return {
    x: new Float32Array(batchSize * config.inputSize),
    y: new Float32Array(batchSize * config.numClasses),
    labels: new Int32Array(batchSize),
    masks: config.hidden.map((units) => new Float32Array(batchSize * units)),
  };
}

/** Copies the rows `order[from..from+n)` of a split into the buffers and draws the batch's dropout masks. */
function fillBatch(
  bufs: ReturnType<typeof batchBuffers>,
  split: Split,
  config: MlpConfig,
  order: Int32Array,
  from: number,
  n: number,
  rng: Rng,
): Batch {
  const d = config.inputSize;
  const k = config.numClasses;
  bufs.y.fill(0, 0, n * k);
  for (let r = 0; r < n; r++) {
    const i = order[from + r];
    bufs.x.set(split.images.subarray(i * d, (i + 1) * d), r * d);
    bufs.labels[r] = split.labels[i];
    bufs.y[r * k + bufs.labels[r]] = 1;
  }
  const masks =
    config.dropout > 0
      ? bufs.masks.map((buf, i) =>
          fillDropoutMask(buf.subarray(0, n * config.hidden[i]), config.dropout, rng),
        )
      : [];
  return {
    n,
    x: bufs.x.subarray(0, n * d),
    y: bufs.y.subarray(0, n * k),
    labels: bufs.labels.subarray(0, n),
    masks,
  };
}

/** What training keeps between steps: the weights, how to compute the loss, Adam, the last good weights. */
interface Learner {
  readonly vars: tf.Variable[];
  readonly config: MlpConfig;
  readonly gradients: GradientMethod;
  /** Adam: the lean one with the written-out backward pass, TensorFlow.js's own with the tape. */
  readonly optimizer: Updater;
  /** The weights before the last update, restored if that update made the loss non-finite or explode. */
  lastGood: tf.Tensor[];
}

/** Loss, logits and gradients of one batch by the gradient tape (the L2 gradient added directly). */
function tapeGradients(
  vars: tf.Variable[],
  x: tf.Tensor2D,
  y: tf.Tensor2D,
  config: MlpConfig,
  masks: tf.Tensor2D[] | undefined,
): { loss: tf.Scalar; logits: tf.Tensor2D; grads: tf.Tensor[] } {
  let logits: tf.Tensor2D | undefined;
  const { value, grads } = tf.variableGrads(() => {
    logits = tf.keep(forwardLogits(vars, x, config, masks));
    return tf.losses.softmaxCrossEntropy(y, logits) as tf.Scalar;
  }, vars);
  // The L2 term (l2·Σw² on kernels, as Keras' kernelRegularizer) is added outside autodiff: its
  // gradient is simply 2·l2·w, two kernels per weight matrix instead of the ~8 of differentiating it.
  const loss = tf.add(value, l2Penalty(vars, config.l2) ?? 0);
  const withL2 = vars.map((v, i) =>
    config.l2 > 0 && i % 2 === 0 ? tf.add(grads[v.name], tf.mul(v, 2 * config.l2)) : grads[v.name],
  );
  // logits are kept out of variableGrads' scope for the accuracy count: the caller disposes them
  return { loss: loss as tf.Scalar, logits: logits!, grads: withL2 };
}

/**
 * One training step on one batch: forward pass with dropout, loss (cross-entropy + L2), gradients and,
 * when `isHealthy(loss)`, Adam's update. Returns the loss and how many of the batch it classified right.
 */
function trainStep(
  learner: Learner,
  batch: Batch,
  isHealthy: (loss: number) => boolean,
): { loss: number; correct: number } {
  const { vars, config, gradients, optimizer } = learner;
  const { n } = batch;
  return tf.tidy(() => {
    const x = tf.tensor2d(batch.x, [n, config.inputSize]);
    const y = tf.tensor2d(batch.y, [n, config.numClasses]);
    const masks = batch.masks.map((m, i) => tf.tensor2d(m, [n, config.hidden[i]]));
    const step =
      gradients === 'backprop'
        ? mlpGradients(vars, x, y, config, masks.length ? masks : undefined)
        : tapeGradients(vars, x, y, config, masks.length ? masks : undefined);
    const labels = tf.tensor1d(batch.labels, 'int32');
    const hits = tf.sum(tf.cast(tf.equal(tf.argMax(step.logits, 1), labels), 'float32'));
    // One read per batch: the loss must be checked before the update is applied.
    const [loss, correct] = tf.stack([step.loss, hits]).dataSync();
    if (gradients !== 'backprop') step.logits.dispose(); // kept out of variableGrads' scope, see above
    if (isHealthy(loss)) {
      tf.dispose(learner.lastGood);
      learner.lastGood = vars.map((v) => tf.keep(v.clone()));
      optimizer.apply(step.grads);
    }
    return { loss, correct };
  });
}

/** Why training stops at a batch whose loss is not healthy. */
function lossStop(
  loss: number,
  epoch: number,
  batch: number,
  batches: number,
  factor: number,
  firstLoss?: number,
): TrainStop {
  const where = `at epoch ${epoch}, batch ${batch} of ${batches}`;
  const kept = 'the weights from the last good batch were kept (try a smaller learning rate)';
  return Number.isFinite(loss)
    ? {
        reason: 'diverged',
        epoch,
        batch,
        message: `training stopped: the loss exploded to ${loss.toExponential(2)} ${where}, over ${factor}× its first value ${firstLoss!.toPrecision(3)}; ${kept}`,
      }
    : {
        reason: 'non-finite-loss',
        epoch,
        batch,
        message: `training stopped: the loss became ${loss} ${where}; ${kept}`,
      };
}

/** Loss and accuracy of the validation and test splits, where present and asked for. */
function evaluateSplits(model: tf.LayersModel, config: MlpConfig, data: TrainData) {
  const score = (split?: Split) =>
    split && split.count > 0 ? predictMlp(model, config, split) : undefined;
  const val = score(data.validation);
  const test = score(data.test);
  return {
    ...(val ? { valLoss: val.loss, valAccuracy: val.accuracy } : {}),
    ...(test ? { testLoss: test.loss, testAccuracy: test.accuracy } : {}),
  };
}

/** One model's side of the shared epoch loop: how a batch is assembled, one step, and its scores. */
export interface ModelTrainer<B extends { readonly n: number }> {
  /** Copies rows `order[from..from+n)` of the training split into a batch (drawing masks from the rng). */
  fill(order: Int32Array, from: number, n: number): B;
  /** Forward, loss, gradients and, when `isHealthy(loss)`, the update; the weights before it are kept. */
  step(batch: B, isHealthy: (loss: number) => boolean): { loss: number; correct: number };
  /** Puts back the weights from before the last update. */
  restoreLastGood(): void;
  /** Loss and accuracy on the validation and test splits, where present. */
  evaluate(): Partial<Pick<EpochMetrics, 'valLoss' | 'valAccuracy' | 'testLoss' | 'testAccuracy'>>;
  dispose(): void;
}

/** The loop's own options: everything in TrainOptions but what picks a model's internals. */
export type LoopOptions = Omit<TrainOptions, 'gradients' | 'seed'>;

/**
 * The epoch loop every model trains with: seeded shuffles, one step per batch, a stop on a NaN,
 * Infinity or exploding loss (restoring the last good weights) or on `signal`, and per-epoch metrics.
 * `rng` is the generator the trainer also draws from, so the order of draws is fixed by the seed.
 */
export async function runEpochs<B extends { readonly n: number }>(
  trainer: ModelTrainer<B>,
  train: Split,
  rng: Rng,
  options: LoopOptions,
): Promise<{ history: EpochMetrics[]; stop: TrainStop | null }> {
  const {
    epochs = 10,
    batchSize = 128,
    shuffle = true,
    evaluate = true,
    divergenceFactor = 1000,
  } = options;
  validateOptions(epochs, batchSize, train.count);
  const batches = Math.ceil(train.count / batchSize);
  const history: EpochMetrics[] = [];
  // Without a signal of its own, a kernel interrupt (the notebook toolbar's stop button) stops the loop.
  const interrupt = options.signal
    ? undefined
    : await sigintWhileHandled(
        'Interrupted: training stops after the current batch; the model keeps the weights it has ' +
          'reached. The kernel stays usable: run the cell again to train afresh.',
      );
  const signal = options.signal ?? interrupt?.signal;
  let stop: TrainStop | null = null;
  let firstLoss: number | undefined;
  const isHealthy = (loss: number) =>
    Number.isFinite(loss) &&
    (firstLoss === undefined || loss <= divergenceFactor * Math.max(firstLoss, 1e-3));

  try {
    for (let epoch = 1; epoch <= epochs && !stop; epoch++) {
      const started = performance.now();
      const order = shuffle ? permutation(train.count, rng) : identity(train.count);
      let lossSum = 0;
      let correct = 0;
      let seen = 0;
      for (let b = 0; b < batches; b++) {
        const from = b * batchSize;
        const batch = trainer.fill(order, from, Math.min(batchSize, train.count - from));
        const step = trainer.step(batch, isHealthy);
        if (!isHealthy(step.loss)) {
          trainer.restoreLastGood();
          stop = lossStop(step.loss, epoch, b + 1, batches, divergenceFactor, firstLoss);
          break;
        }
        firstLoss ??= step.loss;
        lossSum += step.loss * batch.n;
        correct += step.correct;
        seen += batch.n;
        options.onBatch?.({
          epoch,
          batch: b + 1,
          batches,
          loss: step.loss,
          accuracy: step.correct / batch.n,
        });
        // Let signal handlers (a kernel interrupt), timers and notebook output in after every batch, so
        // an interrupt stops training right after the batch it arrived during: a round trip through the
        // event loop takes 1–6 µs, a batch of 128 for the MLP about 9 ms on wasm.
        await new Promise((resolve) => setImmediate(resolve));
        if (signal?.aborted) {
          const message = `training interrupted at epoch ${epoch}, batch ${b + 1} of ${batches}`;
          stop = { reason: 'interrupted', epoch, batch: b + 1, message };
          break;
        }
      }
      if (stop) break;
      const seconds = (performance.now() - started) / 1000;
      const evalStarted = performance.now();
      const scores = evaluate ? trainer.evaluate() : {};
      const metrics: EpochMetrics = {
        epoch,
        loss: lossSum / seen,
        accuracy: correct / seen,
        ...scores,
        seconds,
        evalSeconds: (performance.now() - evalStarted) / 1000,
        samplesPerSecond: seen / seconds,
      };
      history.push(metrics);
      await options.onEpoch?.(metrics);
    }
  } finally {
    interrupt?.dispose();
    trainer.dispose();
  }
  return { history, stop };
}

/** The MLP's side of the loop: its raw dense weights, dropout masks drawn per batch, trainStep. */
function mlpTrainer(
  model: tf.LayersModel,
  config: MlpConfig,
  data: TrainData,
  gradients: Learner['gradients'],
  rng: Rng,
  batchSize: number,
): ModelTrainer<Batch> {
  const vars = denseVariables(model);
  const learner: Learner = {
    vars,
    config,
    gradients,
    optimizer: (gradients === 'backprop' ? leanAdam : stockAdam)(vars, config.learningRate),
    lastGood: [],
  };
  const bufs = batchBuffers(config, batchSize);
  return {
    fill: (order, from, n) => fillBatch(bufs, data.train, config, order, from, n, rng),
    step: (batch, isHealthy) => trainStep(learner, batch, isHealthy),
    restoreLastGood: () => {
      if (learner.lastGood.length) learner.vars.forEach((v, i) => v.assign(learner.lastGood[i]));
    },
    evaluate: () => evaluateSplits(model, config, data),
    dispose: () => {
      learner.optimizer.dispose();
      tf.dispose(learner.lastGood);
    },
  };
}

/**
 * Trains `model` in place with Adam on cross-entropy + L2, one seeded epoch after another. The same
 * seed on the same engine gives the same numbers: shuffles and dropout masks come from our own seeded
 * generator, never Math.random.
 */
export async function trainModel(
  model: tf.LayersModel,
  config: MlpConfig,
  data: TrainData,
  options: TrainOptions = {},
): Promise<TrainResult> {
  const { epochs = 10, batchSize = 128 } = options;
  validateOptions(epochs, batchSize, data.train.count);
  const backend = tf.getBackend();
  const rng = createRng(options.seed ?? config.seed);
  const gradients = options.gradients ?? gradientsFor(backend);
  const trainer = mlpTrainer(model, config, data, gradients, rng, batchSize);
  const { history, stop } = await runEpochs(trainer, data.train, rng, options);
  return { history, stop, backend, gradients, batchSize, trainSamples: data.train.count };
}

/**
 * The written-out backward pass on wasm and native TensorFlow, where it is the fastest
 * (docs/performance.md: on native, each kernel costs a call through the binding, and the written-out
 * pass and lean Adam run fewer of them than the tape and tf.train.adam); TensorFlow.js's tape on the
 * plain-JS cpu engine, where the two take the same time.
 */
function gradientsFor(backend: string): GradientMethod {
  return backend === 'wasm' || backend === 'tensorflow' ? 'backprop' : 'tape';
}

const identity = (n: number) => Int32Array.from({ length: n }, (_, i) => i);
