// Checked exercises of notebook 05 (break it): the cross-entropy by hand, and clipping a gradient by its norm.
import * as tf from '@tensorflow/tfjs';
import type { Split } from '../../data/types.js';
import { createMlp } from '../../ml/model.js';
import { compareAnswer, compareValues, readAnswer, valuesOf } from './compare.js';
import { Exercise } from './exercise.js';

type Loss = (labels: tf.Tensor2D, probabilities: tf.Tensor2D) => tf.Scalar | undefined;

/** The first `n` images of `split`, their one-hot labels, and an untrained model's probabilities. */
function batchOf(split: Split, n: number) {
  const rows = Math.min(n, split.count);
  const x = tf.tensor2d(split.images.subarray(0, rows * 784), [rows, 784]);
  const y = tf.oneHot(tf.tensor1d(split.labels.subarray(0, rows), 'int32'), 10) as tf.Tensor2D;
  return { x, y, rows };
}

/** Exercise 10: −Σ y · log p per image, averaged over the batch; finite when a probability is 0. */
const crossEntropy = new Exercise(
  'exercise 10 (the cross-entropy by hand)',
  (loss: Loss, split: Split) => {
    const { model } = createMlp();
    try {
      const { x, y, rows } = batchOf(split, 128);
      const p = model.predict(x) as tf.Tensor2D;
      const expected = tf.neg(tf.mean(tf.sum(tf.mul(y, tf.log(p)), 1)));
      const found = compareAnswer(loss(y, p), valuesOf(expected), {
        what: 'your loss on the batch',
        factors: [
          {
            factor: rows,
            say: `${rows} times too large: average over the images (tf.mean), do not sum`,
          },
        ],
        mistakes: [
          {
            value: -expected.dataSync()[0],
            say: 'the sign is flipped: the loss is −Σ y · log p, a positive number',
          },
        ],
      });
      if (found) return found;
      // A confident mistake: the true class got probability exactly 0.
      const zero = readAnswer(loss(tf.tensor2d([[1, 0]]), tf.tensor2d([[0, 1]])));
      if (typeof zero === 'string') return `on a probability of 0: ${zero}`;
      const v = zero.values[0];
      if (!Number.isFinite(v))
        return `right on the batch, but ${v} when the true class has probability 0: clip p first (tf.clipByValue(p, 1e-7, 1))`;
      return v > 0
        ? null
        : `right on the batch, but ${v} when the true class has probability 0: expected a large positive loss`;
    } finally {
      model.dispose();
    }
  },
  [
    'y is one-hot, so tf.sum(tf.mul(y, tf.log(p)), 1) picks log p of the true class, one number per image.',
    'Negate, then tf.mean over the images. For a probability of 0, log gives −Infinity: clip p away from 0 first.',
  ],
);

type Clip = (g: tf.Tensor, maxNorm: number) => tf.Tensor | undefined;

/** Exercise 9: g · min(1, maxNorm / ‖g‖), on a real gradient of the model of record. */
const clipByNorm = new Exercise(
  'exercise 9 (clip a gradient by its norm)',
  (clip: Clip, split: Split) => {
    const { model } = createMlp();
    try {
      const { x, y } = batchOf(split, 128);
      const kernel = model.layers[
        model.layers.length - 1
      ].trainableWeights[0].read() as tf.Variable;
      const { grads } = tf.variableGrads(() => {
        const p = model.apply(x, { training: false }) as tf.Tensor2D;
        return tf.mean(tf.metrics.categoricalCrossentropy(y, p)) as tf.Scalar;
      }, [kernel]);
      const g = grads[kernel.name];
      const norm = tf.norm(g).dataSync()[0];
      for (const [limit, case_] of [
        [norm / 4, 'a gradient longer than the limit'],
        [norm * 4, 'a gradient shorter than the limit'],
      ] as const) {
        const read = readAnswer(clip(g, limit));
        if (typeof read === 'string') return read;
        const expected = valuesOf(tf.mul(g, Math.min(1, limit / norm)));
        const found = compareValues(read, expected, {
          what: `on ${case_}, your result`,
          mistakes: [
            ...(limit < norm
              ? [
                  {
                    values: valuesOf(g),
                    say: 'it is unchanged: scale it down to a norm of exactly the limit',
                  },
                ]
              : [
                  {
                    values: valuesOf(tf.mul(g, limit / norm)),
                    say: 'it was stretched up to the limit: a gradient already within the limit stays as it is (the min in g · min(1, limit / ‖g‖))',
                  },
                ]),
          ],
        });
        if (found) return found;
      }
      return null;
    } finally {
      model.dispose();
    }
  },
  [
    '‖g‖ is tf.norm(g): the square root of the sum of the squared entries. The scale factor is min(1, limit / ‖g‖).',
    'tf.minimum(1, tf.div(limit, tf.norm(g))) is that factor as a tensor; tf.mul(g, factor) applies it.',
  ],
);

export const breakExercises = { crossEntropy, clipByNorm };
