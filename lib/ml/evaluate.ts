// Evaluation of a trained model: predictions with probabilities, accuracy, loss, confusion matrix, per-class scores.
import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '../core/errors.js';
import type { Split } from '../data/types.js';
import { ensureConvGradient } from '../engine/conv-gradient.js';
import { forwardLogits } from './forward.js';
import { denseVariables, mlpShapeOf, type MlpShape } from './model.js';

export interface Predictions {
  /** n × numClasses probabilities, row-major. */
  readonly probabilities: Float32Array;
  /** The most probable class per sample. */
  readonly predicted: Int32Array;
  /** The probability of the predicted class. */
  readonly confidence: Float32Array;
  readonly labels: Int32Array;
  readonly numClasses: number;
  /** Mean cross-entropy of the true class (no regularisation term). */
  readonly loss: number;
  readonly accuracy: number;
}

/**
 * Runs a split through any trained softmax classifier in inference mode (no dropout), in batches: the
 * kit's MLP, its CNN, or a tf.layers model written in a notebook. A network built like the MLP (dense
 * layers, dropout, a softmax output) runs on its raw weights with its loss from the logits, as the
 * training loop scores it; any other model runs through model.predict.
 */
export function predict(model: tf.LayersModel, split: Split): Predictions {
  pixelsOf(model, split);
  const mlp = mlpShapeOf(model);
  return mlp ? predictMlp(model, mlp, split) : predictLayers(model, split);
}

const EVAL_BATCH = 2000;

/** The MLP's predictions from its raw dense weights, the loss computed stably from the logits. */
export function predictMlp(model: tf.LayersModel, config: MlpShape, split: Split): Predictions {
  const vars = denseVariables(model);
  const k = config.numClasses;
  const d = config.inputSize;
  const probabilities = new Float32Array(split.count * k);
  let lossSum = 0;
  for (let start = 0; start < split.count; start += EVAL_BATCH) {
    const n = Math.min(EVAL_BATCH, split.count - start);
    const [probs, losses] = tf.tidy(() => {
      const x = tf.tensor2d(split.images.subarray(start * d, (start + n) * d), [n, d]);
      const logits = forwardLogits(vars, x, config);
      const labels = tf.oneHot(tf.tensor1d(split.labels.subarray(start, start + n), 'int32'), k);
      const ce = tf.losses.softmaxCrossEntropy(
        labels,
        logits,
        undefined,
        undefined,
        tf.Reduction.NONE,
      );
      return [tf.softmax(logits).dataSync() as Float32Array, ce.dataSync() as Float32Array];
    });
    probabilities.set(probs, start * k);
    for (const l of losses) lossSum += l;
  }
  return predictionsFrom(probabilities, split, k, lossSum);
}

/** The model's input shape without the batch axis, e.g. [28, 28, 1]; its size must be the pixels per image. */
function inputShapeOf(model: tf.LayersModel): number[] {
  const shape = model.inputs[0].shape.slice(1);
  if (shape.some((d) => d === null))
    throw new ConfigError(
      'model',
      `input shape ${JSON.stringify(model.inputs[0].shape)} must be fixed apart from the batch axis`,
    );
  return shape as number[];
}

/** The model's input shape and its size, checked against the images of `split`. */
export function pixelsOf(model: tf.LayersModel, split: Split): { shape: number[]; d: number } {
  const shape = inputShapeOf(model);
  const d = shape.reduce((a, b) => a * b, 1);
  if (split.count > 0 && split.images.length !== split.count * d) {
    throw new ConfigError(
      'model',
      `takes ${shape.join('×')} = ${d} values per image, but the data has ${split.images.length / split.count}`,
    );
  }
  return { shape, d };
}

// The default CNN's first convolution holds 26 × 26 × 16 values per image, 14× its pixels: 43 MB a batch.
const LAYERS_EVAL_BATCH = 1000;

/**
 * Any tf.layers softmax classifier's predictions through model.predict, the loss from the
 * probabilities clipped as Keras clips them (a confident mistake costs at most −log 1e-7).
 */
export function predictLayers(model: tf.LayersModel, split: Split): Predictions {
  ensureConvGradient();
  const { shape, d } = pixelsOf(model, split);
  const k = model.outputs[0].shape[model.outputs[0].shape.length - 1] as number;
  const probabilities = new Float32Array(split.count * k);
  for (let start = 0; start < split.count; start += LAYERS_EVAL_BATCH) {
    const n = Math.min(LAYERS_EVAL_BATCH, split.count - start);
    const probs = tf.tidy(() => {
      const x = tf.tensor(split.images.subarray(start * d, (start + n) * d), [n, ...shape]);
      return (model.predict(x) as tf.Tensor).dataSync() as Float32Array;
    });
    probabilities.set(probs, start * k);
  }
  let lossSum = 0;
  for (let i = 0; i < split.count; i++) {
    const p = probabilities[i * k + split.labels[i]];
    lossSum -= Math.log(Math.min(Math.max(p, 1e-7), 1 - 1e-7));
  }
  return predictionsFrom(probabilities, split, k, lossSum);
}

/**
 * The kit's Predictions from softmax outputs (row-major, `numClasses` per sample): each sample's
 * arg-max class and its probability, accuracy, and the mean of `lossSum` over the samples.
 */
export function predictionsFrom(
  probabilities: Float32Array,
  split: Pick<Split, 'labels' | 'count'>,
  numClasses: number,
  lossSum: number,
): Predictions {
  const { labels, count: n } = split;
  const k = numClasses;
  const predicted = new Int32Array(n);
  const confidence = new Float32Array(n);
  let correct = 0;
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let c = 1; c < k; c++)
      if (probabilities[i * k + c] > probabilities[i * k + best]) best = c;
    predicted[i] = best;
    confidence[i] = probabilities[i * k + best];
    if (best === labels[i]) correct++;
  }
  const count = Math.max(n, 1);
  return {
    probabilities,
    predicted,
    confidence,
    labels,
    numClasses: k,
    loss: lossSum / count,
    accuracy: correct / count,
  };
}

/** matrix[true][predicted] = count. */
export function confusionMatrix(
  p: Pick<Predictions, 'labels' | 'predicted' | 'numClasses'>,
): number[][] {
  const m = Array.from({ length: p.numClasses }, () => new Array<number>(p.numClasses).fill(0));
  for (let i = 0; i < p.labels.length; i++) m[p.labels[i]][p.predicted[i]]++;
  return m;
}

export interface ClassScores {
  readonly label: string;
  readonly precision: number;
  readonly recall: number;
  readonly f1: number;
  /** How many test samples truly belong to this class. */
  readonly support: number;
}

/** Precision, recall and F1 per class from a confusion matrix (0 where undefined). */
export function perClassScores(matrix: number[][], classNames: readonly string[]): ClassScores[] {
  return matrix.map((row, c) => {
    const tp = row[c];
    const support = row.reduce((a, b) => a + b, 0);
    const predictedAs = matrix.reduce((sum, r) => sum + r[c], 0);
    const precision = predictedAs ? tp / predictedAs : 0;
    const recall = support ? tp / support : 0;
    const f1 = precision + recall ? (2 * precision * recall) / (precision + recall) : 0;
    return { label: classNames[c] ?? String(c), precision, recall, f1, support };
  });
}

export interface ConfusedPair {
  /** The two classes, a < b. */
  readonly a: number;
  readonly b: number;
  /** Samples of a predicted as b, and of b predicted as a. */
  readonly aAsB: number;
  readonly bAsA: number;
  readonly total: number;
}

/** Unordered class pairs ranked by how often they are mistaken for each other, both directions summed. */
export function mostConfusedPairs(matrix: number[][], top = 10): ConfusedPair[] {
  const pairs: ConfusedPair[] = [];
  for (let a = 0; a < matrix.length; a++) {
    for (let b = a + 1; b < matrix.length; b++) {
      const total = matrix[a][b] + matrix[b][a];
      if (total > 0) pairs.push({ a, b, aAsB: matrix[a][b], bAsA: matrix[b][a], total });
    }
  }
  return pairs.sort((x, y) => y.total - x.total || x.a - y.a || x.b - y.b).slice(0, top);
}

type Ranked = Pick<Predictions, 'labels' | 'predicted' | 'confidence'>;

/** Indices of the samples `keep` accepts, ordered by the model's confidence (ties: lower index first). */
function byConfidence(p: Ranked, keep: (i: number) => boolean, order: 'most' | 'least'): number[] {
  const out: number[] = [];
  for (let i = 0; i < p.labels.length; i++) if (keep(i)) out.push(i);
  const sign = order === 'most' ? -1 : 1;
  return out.sort((i, j) => sign * (p.confidence[i] - p.confidence[j]) || i - j);
}

/** Samples of class `trueClass` predicted as `predictedClass`, most confident first. */
export function mistakes(p: Ranked, trueClass: number, predictedClass: number): number[] {
  return byConfidence(
    p,
    (i) => p.labels[i] === trueClass && p.predicted[i] === predictedClass,
    'most',
  );
}

/** Misclassified samples the model was surest about, most confident first: often ambiguous or mislabelled digits. */
export function confidentMistakes(p: Ranked, count = 16): number[] {
  return byConfidence(p, (i) => p.labels[i] !== p.predicted[i], 'most').slice(0, count);
}

/** Correct predictions the model was least sure about: the borderline cases. */
export function leastConfidentCorrect(p: Ranked, count = 16): number[] {
  return byConfidence(p, (i) => p.labels[i] === p.predicted[i], 'least').slice(0, count);
}
