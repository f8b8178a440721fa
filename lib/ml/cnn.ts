// A small convolutional network beside the MLP: seeded construction and a seeded training loop.
import * as tf from '@tensorflow/tfjs';
import type { Split } from '../data/types.js';
import { createRng } from '../core/random.js';
import { ensureConvGradient } from '../engine/conv-gradient.js';
import { pixelsOf, predictLayers } from './evaluate.js';
import { check, checkTrainingFields, isPositiveInt } from './model.js';
import {
  runEpochs,
  validateOptions,
  type ModelTrainer,
  type TrainData,
  type TrainOptions,
  type TrainResult,
} from './train.js';

export interface CnnConfig {
  /** Image height, width and channels: [28, 28, 1] for MNIST. */
  readonly inputShape: readonly [number, number, number];
  /** Filters of each conv block (conv k×k ReLU, then 2×2 max pooling); [16, 32] gives two blocks. */
  readonly filters: readonly number[];
  readonly kernelSize: number;
  /** Units of the dense ReLU layer after flattening; 0 for none (flatten straight into the output). */
  readonly denseUnits: number;
  /** Fraction of the flattened and dense activations zeroed in training, in [0, 1); seeded. */
  readonly dropout: number;
  readonly learningRate: number;
  readonly numClasses: number;
  /** Fixes initial weights, shuffling and dropout masks. */
  readonly seed: number;
}

/** The kit's CNN: 28×28×1 → conv 16 → pool → conv 32 → pool → dense 64 → 10; 56,714 parameters. */
export const CNN_DEFAULTS: CnnConfig = Object.freeze({
  inputShape: Object.freeze([28, 28, 1]) as readonly [number, number, number],
  filters: Object.freeze([16, 32]),
  kernelSize: 3,
  denseUnits: 64,
  dropout: 0,
  learningRate: 1e-3,
  numClasses: 10,
  seed: 42,
});

/** Fills defaults and rejects out-of-range values, naming the field and the allowed range. */
export function resolveCnnConfig(overrides: Partial<CnnConfig> = {}): CnnConfig {
  const c: CnnConfig = { ...CNN_DEFAULTS, ...overrides };
  check(
    Array.isArray(c.inputShape) && c.inputShape.length === 3 && c.inputShape.every(isPositiveInt),
    'inputShape',
    `must be [height, width, channels] of positive integers, got ${JSON.stringify(c.inputShape)}`,
  );
  check(
    Array.isArray(c.filters) && c.filters.length > 0 && c.filters.every(isPositiveInt),
    'filters',
    `must be a non-empty list of positive integers (e.g. 16,32), got ${JSON.stringify(c.filters)}`,
  );
  check(
    isPositiveInt(c.kernelSize),
    'kernelSize',
    `must be a positive integer, got ${c.kernelSize}`,
  );
  check(
    Number.isInteger(c.denseUnits) && c.denseUnits >= 0,
    'denseUnits',
    `must be an integer ≥ 0, got ${c.denseUnits}`,
  );
  check(
    Number.isFinite(c.dropout) && c.dropout >= 0 && c.dropout < 1,
    'dropout',
    `must be in [0, 1), got ${c.dropout}`,
  );
  checkTrainingFields(c);
  // Each block shrinks the image by kernelSize − 1 ('valid' convolution), then halves it (pooling).
  let [h, w] = c.inputShape;
  for (const _ of c.filters) {
    h = Math.floor((h - c.kernelSize + 1) / 2);
    w = Math.floor((w - c.kernelSize + 1) / 2);
  }
  check(
    h >= 1 && w >= 1,
    'filters',
    `${c.filters.length} conv blocks with ${c.kernelSize}×${c.kernelSize} kernels shrink a ${c.inputShape[0]}×${c.inputShape[1]} image to nothing; use fewer blocks or a smaller kernel`,
  );
  return Object.freeze({
    ...c,
    inputShape: Object.freeze([...c.inputShape]) as CnnConfig['inputShape'],
    filters: Object.freeze([...c.filters]),
  });
}

/**
 * Dropout whose masks come from a seeded stream: TF.js's own Dropout layer either draws from
 * Math.random (unreproducible) or, given a seed, draws the SAME mask on every batch. Registered for
 * serialisation, so a saved CNN loads back.
 */
export class SeededDropout extends tf.layers.Layer {
  static className = 'SeededDropout';
  readonly rate: number;
  readonly seed: number;
  private calls = 0;

  constructor(args: { rate: number; seed: number; name?: string }) {
    super({ name: args.name });
    this.rate = args.rate;
    this.seed = args.seed;
  }

  call(inputs: tf.Tensor | tf.Tensor[], kwargs: { training?: boolean }): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    if (!kwargs.training || this.rate === 0) return x;
    // A distinct, reproducible mask per training call: seed, then seed + 1, …
    return tf.dropout(x, this.rate, undefined, this.seed * 100_003 + this.calls++);
  }

  getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), rate: this.rate, seed: this.seed };
  }
}
tf.serialization.registerClass(SeededDropout);

/**
 * Builds the CNN as a tf.layers Sequential model (summary, save and load work as for the MLP), every
 * initialiser seeded from `config.seed`, one stream per layer.
 */
export function createCnn(overrides: Partial<CnnConfig> = {}): {
  model: tf.Sequential;
  config: CnnConfig;
} {
  const config = resolveCnnConfig(overrides);
  let layer = 0;
  const init = () => tf.initializers.glorotUniform({ seed: config.seed * 1000 + layer++ });
  const model = tf.sequential({ name: 'cnn' });
  config.filters.forEach((filters, i) => {
    model.add(
      tf.layers.conv2d({
        name: `conv${i + 1}`,
        filters,
        kernelSize: config.kernelSize,
        activation: 'relu',
        ...(i === 0 ? { inputShape: [...config.inputShape] } : {}),
        kernelInitializer: init(),
      }),
    );
    model.add(tf.layers.maxPooling2d({ name: `pool${i + 1}`, poolSize: 2 }));
  });
  model.add(tf.layers.flatten({ name: 'flatten' }));
  if (config.dropout > 0)
    model.add(
      new SeededDropout({ name: 'dropout1', rate: config.dropout, seed: config.seed * 1000 + 101 }),
    );
  if (config.denseUnits > 0) {
    model.add(
      tf.layers.dense({
        name: 'dense',
        units: config.denseUnits,
        activation: 'relu',
        kernelInitializer: init(),
      }),
    );
    if (config.dropout > 0)
      model.add(
        new SeededDropout({
          name: 'dropout2',
          rate: config.dropout,
          seed: config.seed * 1000 + 102,
        }),
      );
  }
  model.add(
    tf.layers.dense({
      name: 'output',
      units: config.numClasses,
      activation: 'softmax',
      kernelInitializer: init(),
    }),
  );
  return { model, config };
}

/** What the training loop needs to know about any image classifier, CNN or not. */
export interface ClassifierTrainConfig {
  readonly learningRate: number;
  readonly seed: number;
}

/** Everything the MLP's trainModel takes but its choice of gradient method. */
export type CnnTrainOptions = Omit<TrainOptions, 'gradients'>;

/** Mean cross-entropy of softmax outputs, clipped as Keras clips it so a confident mistake stays finite. */
function crossEntropy(labels: tf.Tensor, probabilities: tf.Tensor): tf.Scalar {
  const p = tf.clipByValue(probabilities, 1e-7, 1 - 1e-7);
  return tf.neg(tf.mean(tf.sum(tf.mul(labels, tf.log(p)), -1))) as tf.Scalar;
}

/** A batch of the layers trainer: its rows live in the trainer's buffers. */
interface LayersBatch {
  readonly n: number;
}

/** The loop's side for any tf.layers classifier: input reshaped to the model's, Adam, layer losses. */
function layersTrainer(
  model: tf.LayersModel,
  config: ClassifierTrainConfig,
  data: TrainData,
  batchSize: number,
): ModelTrainer<LayersBatch> {
  const train = data.train;
  const { shape, d } = pixelsOf(model, train);
  const k = model.outputs[0].shape[model.outputs[0].shape.length - 1] as number;
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const optimizer = tf.train.adam(config.learningRate);
  const xBuf = new Float32Array(batchSize * d);
  const yBuf = new Float32Array(batchSize * k);
  const labelBuf = new Int32Array(batchSize);
  let lastGood: tf.Tensor[] = [];
  return {
    fill(order, from, n) {
      yBuf.fill(0, 0, n * k);
      for (let r = 0; r < n; r++) {
        const i = order[from + r];
        xBuf.set(train.images.subarray(i * d, (i + 1) * d), r * d);
        labelBuf[r] = train.labels[i];
        yBuf[r * k + labelBuf[r]] = 1;
      }
      return { n };
    },
    step({ n }, isHealthy) {
      return tf.tidy(() => {
        const x = tf.tensor(xBuf.subarray(0, n * d), [n, ...shape]);
        const y = tf.tensor2d(yBuf.subarray(0, n * k), [n, k]);
        let probs: tf.Tensor | undefined;
        const { value, grads } = tf.variableGrads(() => {
          probs = tf.keep(model.apply(x, { training: true }) as tf.Tensor);
          const regularisation = model.calculateLosses();
          const ce = crossEntropy(y, probs);
          return (regularisation.length ? tf.addN([ce, ...regularisation]) : ce) as tf.Scalar;
        }, vars);
        const labels = tf.tensor1d(labelBuf.subarray(0, n), 'int32');
        const hit = tf.sum(tf.cast(tf.equal(tf.argMax(probs!, 1), labels), 'float32'));
        // The clipped loss stays finite even when the outputs are NaN (clipping maps NaN into range):
        // the outputs' sum, n when healthy, is what reveals a broken network.
        const [clipped, correct, outputSum] = tf.stack([value, hit, tf.sum(probs!)]).dataSync();
        const loss = Number.isFinite(outputSum) ? clipped : Number.NaN;
        probs!.dispose();
        if (isHealthy(loss)) {
          tf.dispose(lastGood);
          lastGood = vars.map((v) => tf.keep(v.clone()));
          optimizer.applyGradients(
            Object.entries(grads).map(([name, tensor]) => ({ name, tensor })),
          );
        }
        return { loss, correct };
      });
    },
    restoreLastGood() {
      if (lastGood.length) vars.forEach((v, i) => v.assign(lastGood[i]));
    },
    evaluate() {
      const score = (split?: Split) =>
        split && split.count > 0 ? predictLayers(model, split) : undefined;
      const val = score(data.validation);
      const test = score(data.test);
      return {
        ...(val ? { valLoss: val.loss, valAccuracy: val.accuracy } : {}),
        ...(test ? { testLoss: test.loss, testAccuracy: test.accuracy } : {}),
      };
    },
    dispose() {
      optimizer.dispose();
      tf.dispose(lastGood);
    },
  };
}

/**
 * Trains any softmax image classifier built with tf.layers (the CNN from createCnn, or one written in
 * a notebook) with Adam on cross-entropy plus the layers' own regularisation losses, in the kit's one
 * epoch loop (runEpochs in lib/ml/train.ts): seeded shuffles, the NaN/explosion stop that keeps the
 * last good weights, `signal`, and the MLP's epoch metrics, so the same charts and tables apply.
 */
export async function trainCnn(
  model: tf.LayersModel,
  config: ClassifierTrainConfig,
  data: TrainData,
  options: CnnTrainOptions = {},
): Promise<TrainResult> {
  ensureConvGradient();
  const { epochs = 10, batchSize = 128 } = options;
  validateOptions(epochs, batchSize, data.train.count);
  const rng = createRng(options.seed ?? config.seed);
  const trainer = layersTrainer(model, config, data, batchSize);
  const { history, stop } = await runEpochs(trainer, data.train, rng, options);
  const backend = tf.getBackend();
  // tf.variableGrads on the layers model: a written-out backward pass exists only for the MLP.
  return { history, stop, backend, gradients: 'tape', batchSize, trainSamples: data.train.count };
}
