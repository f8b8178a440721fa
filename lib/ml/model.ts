// The model of record (784 → 256 ReLU → dropout → 128 ReLU → dropout → 10 softmax) and its variants.
import * as tf from '@tensorflow/tfjs';
import { ACTIVATIONS, type Activation } from '../core/choices.js';
import { ConfigError } from '../core/errors.js';

export const INITIALIZERS = ['glorotUniform', 'heNormal', 'zeros', 'randomNormal'] as const;
export type Initializer = (typeof INITIALIZERS)[number];

export interface MlpConfig {
  /** Pixels per image: 28 × 28 = 784 for MNIST. */
  readonly inputSize: number;
  /** Units of each hidden layer; [] gives a linear (softmax-regression) model. */
  readonly hidden: readonly number[];
  readonly activation: Activation;
  /** Fraction of hidden activations zeroed during training, in [0, 1). */
  readonly dropout: number;
  /** L2 penalty on every kernel (not on biases): loss += l2 · Σ w². */
  readonly l2: number;
  readonly initializer: Initializer;
  /** Standard deviation for 'randomNormal' (e.g. 10 for "huge initial weights"). */
  readonly initStddev: number;
  readonly learningRate: number;
  readonly numClasses: number;
  /** Fixes initial weights, shuffling and dropout masks. */
  readonly seed: number;
}

/** The model of record. Every field can be overridden. */
export const MODEL_OF_RECORD: MlpConfig = Object.freeze({
  inputSize: 784,
  hidden: Object.freeze([256, 128]),
  activation: 'relu',
  dropout: 0.2,
  l2: 1e-4,
  initializer: 'glorotUniform',
  initStddev: 0.05,
  learningRate: 1e-3,
  numClasses: 10,
  seed: 42,
});

/** Throws a ConfigError naming `option` when `ok` is false. */
export function check(ok: boolean, option: string, message: string): void {
  if (!ok) throw new ConfigError(option, message);
}

export const isPositiveInt = (n: number) => Number.isInteger(n) && n > 0;

/** The fields every classifier config shares (MLP and CNN): learning rate, number of classes, seed. */
export function checkTrainingFields(c: {
  readonly learningRate: number;
  readonly numClasses: number;
  readonly seed: number;
}): void {
  check(
    Number.isFinite(c.learningRate) && c.learningRate > 0,
    'learningRate',
    `must be > 0, got ${c.learningRate}`,
  );
  check(
    Number.isInteger(c.numClasses) && c.numClasses >= 2,
    'numClasses',
    `must be an integer ≥ 2, got ${c.numClasses}`,
  );
  check(Number.isSafeInteger(c.seed), 'seed', `must be an integer, got ${c.seed}`);
}

/** Fills defaults and rejects out-of-range values with the allowed range in the message. */
export function resolveConfig(overrides: Partial<MlpConfig> = {}): MlpConfig {
  const c: MlpConfig = { ...MODEL_OF_RECORD, ...overrides };
  check(isPositiveInt(c.inputSize), 'inputSize', `must be a positive integer, got ${c.inputSize}`);
  check(
    Array.isArray(c.hidden) && c.hidden.every(isPositiveInt),
    'hidden',
    `must be a list of positive integers (e.g. 256,128), got ${JSON.stringify(c.hidden)}`,
  );
  check(
    (ACTIVATIONS as readonly string[]).includes(c.activation),
    'activation',
    `unknown activation "${c.activation}"; expected one of ${ACTIVATIONS.join(', ')}`,
  );
  check(
    Number.isFinite(c.dropout) && c.dropout >= 0 && c.dropout < 1,
    'dropout',
    `must be in [0, 1), got ${c.dropout}`,
  );
  check(Number.isFinite(c.l2) && c.l2 >= 0, 'l2', `must be ≥ 0, got ${c.l2}`);
  check(
    (INITIALIZERS as readonly string[]).includes(c.initializer),
    'initializer',
    `unknown initializer "${c.initializer}"; expected one of ${INITIALIZERS.join(', ')}`,
  );
  check(
    Number.isFinite(c.initStddev) && c.initStddev > 0,
    'initStddev',
    `must be > 0, got ${c.initStddev}`,
  );
  checkTrainingFields(c);
  return Object.freeze({ ...c, hidden: Object.freeze([...c.hidden]) });
}

function initializerFor(config: MlpConfig, layerIndex: number) {
  const seed = config.seed * 1000 + layerIndex; // one distinct, reproducible stream per layer
  switch (config.initializer) {
    case 'glorotUniform':
      return tf.initializers.glorotUniform({ seed });
    case 'heNormal':
      return tf.initializers.heNormal({ seed });
    case 'zeros':
      return tf.initializers.zeros();
    case 'randomNormal':
      return tf.initializers.randomNormal({ mean: 0, stddev: config.initStddev, seed });
  }
}

/**
 * Builds the network as a Keras-style Sequential model: the layers hold the weights, so the model can
 * be summarised, saved in the TensorFlow.js format and loaded in a browser. Training runs our own loop
 * (lib/ml/train.ts) on these same weights.
 */
export function createMlp(overrides: Partial<MlpConfig> = {}): {
  model: tf.Sequential;
  config: MlpConfig;
} {
  const config = resolveConfig(overrides);
  const model = tf.sequential({ name: 'mlp' });
  config.hidden.forEach((units, i) => {
    model.add(
      tf.layers.dense({
        name: `hidden${i + 1}`,
        units,
        activation: config.activation,
        // Every input pixel feeds every unit: 784 × 256 weights for the first layer.
        ...(i === 0 ? { inputShape: [config.inputSize] } : {}),
        kernelInitializer: initializerFor(config, i),
        kernelRegularizer: config.l2 > 0 ? tf.regularizers.l2({ l2: config.l2 }) : undefined,
      }),
    );
    // Dropout zeroes a random 20 % of activations in training so no unit can rely on another.
    model.add(tf.layers.dropout({ name: `dropout${i + 1}`, rate: config.dropout }));
  });
  model.add(
    tf.layers.dense({
      name: 'output',
      units: config.numClasses,
      // Softmax turns 10 scores into probabilities that sum to 1.
      activation: 'softmax',
      ...(config.hidden.length === 0 ? { inputShape: [config.inputSize] } : {}),
      kernelInitializer: initializerFor(config, config.hidden.length),
      kernelRegularizer: config.l2 > 0 ? tf.regularizers.l2({ l2: config.l2 }) : undefined,
    }),
  );
  return { model, config };
}

export interface LayerSummary {
  readonly name: string;
  readonly type: string;
  readonly outputShape: string;
  readonly params: number;
}

/** Layers, output shapes and parameter counts (235,146 for the model of record). */
export function summarize(model: tf.LayersModel): { layers: LayerSummary[]; totalParams: number } {
  const layers = model.layers.map((layer) => ({
    name: layer.name,
    type: layer.getClassName(),
    outputShape: JSON.stringify(layer.outputShape).replace('null', 'batch'),
    params: layer.countParams(),
  }));
  return { layers, totalParams: layers.reduce((sum, l) => sum + l.params, 0) };
}

/** What predicting with an MLP's raw weights needs to know of it. */
export type MlpShape = Pick<MlpConfig, 'inputSize' | 'activation' | 'numClasses'>;

/**
 * The shape of a network built as createMlp builds it (dense layers with biases, optional dropout
 * between them, a softmax output, one hidden activation), read from its layers; null for any other
 * model, such as a CNN.
 */
export function mlpShapeOf(model: tf.LayersModel): MlpShape | null {
  const dense = model.layers.filter((l) => l.getClassName() === 'Dense');
  const last = model.layers[model.layers.length - 1];
  const inputShape = model.inputs[0].shape;
  if (
    dense.length === 0 ||
    last !== dense[dense.length - 1] ||
    inputShape.length !== 2 ||
    model.layers.some((l) => !['Dense', 'Dropout'].includes(l.getClassName()))
  )
    return null;
  const configs = dense.map((l) => l.getConfig());
  if (
    configs.some((c) => c.useBias === false) ||
    configs[configs.length - 1].activation !== 'softmax'
  )
    return null;
  const hidden = new Set(configs.slice(0, -1).map((c) => c.activation));
  const [activation = 'linear'] = hidden;
  if (hidden.size > 1 || !(ACTIVATIONS as readonly unknown[]).includes(activation)) return null;
  return {
    inputSize: inputShape[1] as number,
    activation: activation as Activation,
    numClasses: configs[configs.length - 1].units as number,
  };
}

/** The trainable variables, in order: [kernel1, bias1, kernel2, bias2, …]. */
export function denseVariables(model: tf.LayersModel): tf.Variable[] {
  return model.layers.flatMap((layer) =>
    layer.trainableWeights.map((w) => w.read() as tf.Variable),
  );
}

/** Test accuracy of the model of record after 1, 5 and 10 epochs, as the project documents it. */
export const REFERENCE_ACCURACY: readonly { readonly epoch: number; readonly accuracy: number }[] =
  Object.freeze([
    Object.freeze({ epoch: 1, accuracy: 0.923 }),
    Object.freeze({ epoch: 5, accuracy: 0.971 }),
    Object.freeze({ epoch: 10, accuracy: 0.982 }),
  ]);
