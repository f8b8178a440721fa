// Checked exercises of notebook 03-train: steps per epoch, and accuracy on a split written with tensors.
import * as tf from '@tensorflow/tfjs';
import type { Split } from '../../data/types.js';
import { compareAnswer } from './compare.js';
import { Exercise } from './exercise.js';

/** Exercise 6 (first part): (images, batch size) → the number of optimiser steps in one epoch. */
const stepsPerEpoch = new Exercise(
  'exercise 6 (steps per epoch)',
  (steps: (images: number, batchSize: number) => number | undefined, split: Split) => {
    for (const batchSize of [32, 128, 1024]) {
      const n = split.count;
      const found = compareAnswer(
        steps(n, batchSize),
        { shape: [], values: [Math.ceil(n / batchSize)] },
        {
          what: `steps for ${n.toLocaleString('en-US')} images in batches of ${batchSize}`,
          tolerance: 0,
          mistakes: [
            ...(n % batchSize
              ? [
                  {
                    value: Math.floor(n / batchSize),
                    say: 'the last, smaller batch is a step too: round up (Math.ceil)',
                  },
                ]
              : []),
            {
              value: n / batchSize,
              say: 'a number of steps is a whole number: round up (Math.ceil)',
            },
            { value: n * batchSize, say: 'divide the number of images by the batch size' },
          ],
        },
      );
      if (found) return found;
    }
    return null;
  },
  [
    'Each step takes one batch; every image is used once per epoch.',
    'When the images do not divide evenly, the last batch is smaller, and it is still a step.',
  ],
);

/** Reference accuracy of `model` on `split`, computed here with the same tensor operations. */
function accuracyOf(model: tf.LayersModel, split: Split): number {
  const x = tf.tensor2d(split.images, [split.count, 784]);
  const p = model.predict(x, { batchSize: split.count }) as tf.Tensor2D;
  const right = tf.equal(tf.argMax(p, 1), tf.tensor1d(split.labels, 'int32'));
  return tf.mean(tf.cast(right, 'float32')).dataSync()[0];
}

/** Exercise 3: (model, split) → its accuracy on the split, a fraction, written with tf.argMax and tf.equal. */
const accuracy = new Exercise(
  'exercise 3 (validation accuracy)',
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

export const trainExercises = { stepsPerEpoch, accuracy };
