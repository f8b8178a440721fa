// Checked exercises of notebook 03-gradient-descent: one step downhill, backprop by hand, accuracy with tensors.
import * as tf from '@tensorflow/tfjs';
import type { Split } from '../../data/types.js';
import { createMlp } from '../../ml/model.js';
import { compareAnswer, compareValues, differences, num, readAnswer, valuesOf } from './compare.js';
import type { Values } from './compare.js';
import { Exercise } from './exercise.js';

/** f(w) = (w − 3)² + 1, the notebook's function, and its slope. */
const slope = (w: number) => 2 * (w - 3);

/** Exercise 1: one gradient-descent step on f: (w, learningRate) → the next w. */
const step = new Exercise(
  'exercise 1 (one step downhill)',
  (next: (w: number, learningRate: number) => number | undefined) => {
    for (const [w, rate] of [
      [0, 0.1],
      [5, 0.5],
      [2.5, 0.9],
    ]) {
      const found = compareAnswer(
        next(w, rate),
        { shape: [], values: [w - rate * slope(w)] },
        {
          what: `the step from w = ${w} with learning rate ${rate}`,
          tolerance: 1e-6,
          mistakes: [
            { value: w + rate * slope(w), say: 'it goes uphill: subtract η·f′(w), do not add it' },
            { value: w - slope(w), say: 'the learning rate is missing: the step is η·f′(w)' },
            { value: w - rate * (w - 3), say: 'f′(w) = 2(w − 3): the 2 is missing' },
          ],
        },
      );
      if (found) return found;
    }
    return null;
  },
  [
    'The slope of f at w is f′(w) = 2(w − 3); the step goes against it.',
    'The next w is w minus the learning rate times the slope.',
  ],
);

const NAMES = ['dW1', 'db1', 'dW2', 'db2', 'dW3', 'db3'];

/** The model of record's loss on one batch, dropout off: mean cross-entropy + the kernels' L2 terms. */
function modelLoss(model: tf.LayersModel, x: tf.Tensor2D, y: tf.Tensor2D): tf.Scalar {
  const p = model.apply(x, { training: false }) as tf.Tensor2D;
  const crossEntropy = tf.mean(tf.metrics.categoricalCrossentropy(y, p));
  return tf.addN([crossEntropy, ...model.layers.flatMap((l) => l.calculateLosses())]) as tf.Scalar;
}

/** The gradients written out as in the notebook, but with the ReLU derivative left out: a common slip. */
function withoutReluGate(v: tf.Tensor[], x: tf.Tensor2D, y: tf.Tensor2D, l2: number): tf.Tensor[] {
  const w = v as tf.Tensor2D[]; // biases are 1-D, but add broadcasts them the same
  const h1 = tf.relu(tf.add(tf.matMul(x, w[0]), w[1])) as tf.Tensor2D;
  const h2 = tf.relu(tf.add(tf.matMul(h1, w[2]), w[3])) as tf.Tensor2D;
  const p = tf.softmax(tf.add(tf.matMul(h2, w[4]), w[5]));
  const d3 = tf.div(tf.sub(p, y), x.shape[0]) as tf.Tensor2D;
  const d2 = tf.matMul(d3, tf.transpose(w[4])) as tf.Tensor2D;
  const d1 = tf.matMul(d2, tf.transpose(w[2])) as tf.Tensor2D;
  const dW = (h: tf.Tensor2D, d: tf.Tensor2D, k: tf.Tensor) =>
    tf.add(tf.matMul(tf.transpose(h), d), tf.mul(k, 2 * l2));
  return [dW(x, d1, w[0]), tf.sum(d1, 0), dW(h1, d2, w[2]), tf.sum(d2, 0)];
}

/** What is wrong with one gradient tensor, or null. */
function judgeTensor(
  answer: unknown,
  expected: Values,
  weight: Values | undefined,
  name: string,
  l2: number,
  batch: number,
  ungated?: Values,
): string | null {
  const read = readAnswer(answer);
  if (typeof read === 'string') return `${name}: ${read}`;
  const shifted = (times: number): Values | undefined =>
    weight && {
      shape: expected.shape,
      values: Float32Array.from(expected.values, (e, i) => e - times * l2 * weight.values[i]),
    };
  const l2Missing = shifted(2);
  const l2Once = shifted(1);
  return compareValues(read, expected, {
    what: name,
    tolerance: 1e-4,
    shapes: name.startsWith('db')
      ? [
          {
            shape: [batch, expected.shape[0]],
            say: 'one row per image: sum d over the rows (axis 0)',
          },
        ]
      : [
          {
            shape: [expected.shape[1], expected.shape[0]],
            say: 'transposed: dW = hᵀ·d (the layer’s input transposed, times d)',
          },
        ],
    factors: [
      { factor: batch, say: `${batch} times too large (the batch size): d = (p − y) / n` },
      { factor: 1 / batch, say: `${batch} times too small (the batch size): divide by n once` },
    ],
    mistakes: [
      ...(l2Missing
        ? [{ values: l2Missing, say: 'the L2 term’s gradient 2·l2·W is missing' }]
        : []),
      ...(l2Once ? [{ values: l2Once, say: 'the L2 term’s gradient is 2·l2·W, not l2·W' }] : []),
      ...(ungated
        ? [
            {
              values: ungated,
              say: 'the ReLU derivative is missing: multiply d·Wᵀ by relu′, 1 where the unit’s output h is above 0 (tf.step(h))',
            },
          ]
        : []),
    ],
  });
}

/**
 * Exercise 2: the gradients of the model of record on one batch, by hand: (weights [W1, b1, W2, b2, W3, b3],
 * x [n, 784], y one-hot [n, 10], l2) → [dW1, db1, dW2, db2, dW3, db3], compared layer by layer with
 * tf.variableGrads of the model's own loss (dropout off).
 */
const backprop = new Exercise(
  'exercise 2 (backpropagation by hand)',
  (
    gradients: (
      weights: tf.Tensor[],
      x: tf.Tensor2D,
      y: tf.Tensor2D,
      l2: number,
    ) => unknown[] | undefined,
    split: Split,
  ) => {
    const { model, config } = createMlp();
    try {
      const n = Math.min(128, split.count);
      const x = tf.tensor2d(split.images.subarray(0, n * 784), [n, 784]);
      const y = tf.oneHot(tf.tensor1d(split.labels.subarray(0, n), 'int32'), 10) as tf.Tensor2D;
      const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
      const tape = tf.variableGrads(() => modelLoss(model, x, y), variables);
      const expected = variables.map((v) => valuesOf(tape.grads[v.name]));
      const answer = gradients(
        variables.map((v) => tf.clone(v)),
        x,
        y,
        config.l2,
      );
      if (answer === undefined)
        return 'no answer yet: write your code where the cell says // your code, then run the cell';
      if (!Array.isArray(answer) || answer.length !== 6)
        return `expected a list of 6 gradients [${NAMES.join(', ')}], got ${Array.isArray(answer) ? answer.length : typeof answer}`;
      const weights = variables.map((v) => valuesOf(v));
      const ungated = withoutReluGate(variables, x, y, config.l2).map(valuesOf);
      const found = answer.map((a, i) =>
        judgeTensor(
          a,
          expected[i],
          i % 2 ? undefined : weights[i],
          NAMES[i],
          config.l2,
          n,
          ungated[i],
        ),
      );
      return describeLayers(found, answer, expected);
    } finally {
      model.dispose();
    }
  },
  [
    'Start at the output: d3 = (p − y) / n with p = softmax(logits). Then dW3 = h2ᵀ·d3 + 2·l2·W3 and db3 = the sum of d3 over the rows.',
    'One layer back: d2 = (d3·W3ᵀ) ⊙ relu′(z2), where relu′ is 1 where the unit was active (h2 > 0) and 0 elsewhere (tf.step). Then as for layer 3, with h1.',
    'The forward pass must keep h1 and h2 (after ReLU); the first layer’s input is x.',
  ],
);

/** One line for all three layers, the output layer first: which are right, the first thing wrong. */
function describeLayers(found: (string | null)[], answer: unknown[], expected: Values[]): string {
  const layers = [3, 2, 1].map((l) => ({ l, problems: [found[2 * l - 2], found[2 * l - 1]] }));
  const relative = (i: number) => {
    const read = readAnswer(answer[i]);
    return typeof read === 'string' ? NaN : differences(read.values, expected[i].values).relative;
  };
  const worst = Math.max(...NAMES.map((_, i) => relative(i)));
  if (found.every((f) => f === null))
    return `ok: all six gradients match tf.variableGrads, layer by layer; largest relative difference ${num(worst)} (float32 rounding)`;
  const firstWrong = layers.find(({ problems }) => problems.some((p) => p !== null));
  const parts = layers.map(({ l, problems }) => {
    const rel = num(Math.max(relative(2 * l - 2), relative(2 * l - 1)));
    const wrong = problems.filter((p): p is string => p !== null);
    if (wrong.length === 0) return `layer ${l} right (largest relative difference ${rel})`;
    // The first wrong layer, counted from the output, in detail; the ones below it depend on it.
    if (l !== firstWrong?.l) return `layer ${l} wrong too (largest relative difference ${rel})`;
    // dW and db wrong the same way: say it once.
    const [w, b] = problems;
    const same = w && b && w.slice(w.indexOf(':')) === b.slice(b.indexOf(':'));
    const said = same ? `dW${l} and ${b}` : wrong.join('; ');
    return `layer ${l} wrong: ${said} (largest relative difference ${rel})`;
  });
  const advice =
    firstWrong &&
    firstWrong.l > 1 &&
    layers.some(({ l, problems }) => l < firstWrong.l && problems.some(Boolean))
      ? `; fix layer ${firstWrong.l} first: the layers below get their d from it`
      : '';
  return parts.join('; ') + advice;
}

/** Reference accuracy of `model` on `split`, computed here with the same tensor operations. */
function accuracyOf(model: tf.LayersModel, split: Split): number {
  const x = tf.tensor2d(split.images, [split.count, 784]);
  const p = model.predict(x, { batchSize: split.count }) as tf.Tensor2D;
  const right = tf.equal(tf.argMax(p, 1), tf.tensor1d(split.labels, 'int32'));
  return tf.mean(tf.cast(right, 'float32')).dataSync()[0];
}

/** Exercise 5: (model, split) → its accuracy on the split, a fraction, written with tf.argMax and tf.equal. */
const accuracy = new Exercise(
  'exercise 5 (a validation pass)',
  (
    accuracyFn: (model: tf.LayersModel, split: Split) => number | tf.Tensor | undefined,
    model: tf.LayersModel,
    split: Split,
  ) => {
    const expected = accuracyOf(model, split);
    return compareAnswer(
      accuracyFn(model, split),
      { shape: [], values: [expected] },
      {
        what: 'your accuracy',
        tolerance: 1e-5,
        mistakes: [
          { value: 1 - expected, say: 'that is the error rate, the share of wrong predictions' },
          { value: 100 * expected, say: 'that is a percentage: return a fraction in [0, 1]' },
        ],
      },
    );
  },
  [
    'The predicted class of an image is the index of its largest probability: tf.argMax(probabilities, 1).',
    'tf.equal with the labels (tf.tensor1d(split.labels, "int32")) marks the right ones; tf.mean of those marks, cast to float32, is the accuracy.',
  ],
);

export const gradientExercises = { step, backprop, accuracy };
