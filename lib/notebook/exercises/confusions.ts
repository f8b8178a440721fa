// Checked exercises of notebook 04 (analyse the confusions): accuracy and the confusion matrix with tensors.
import * as tf from '@tensorflow/tfjs';
import type { Predictions } from '../../ml/evaluate.js';
import { compareAnswer, valuesOf } from './compare.js';
import { Exercise } from './exercise.js';

/** Exercise 5: accuracy from kit.predict's Predictions, written with tf.argMax, tf.equal and tf.mean. */
const accuracy = new Exercise(
  'exercise 5 (accuracy in TensorFlow.js)',
  (accuracyOf: (p: Predictions) => number | tf.Tensor | undefined, p: Predictions) =>
    compareAnswer(
      accuracyOf(p),
      { shape: [], values: [p.accuracy] },
      {
        what: 'your accuracy',
        tolerance: 1e-5,
        mistakes: [
          { value: 1 - p.accuracy, say: 'that is the error rate, the share of wrong predictions' },
          { value: 100 * p.accuracy, say: 'that is a percentage: return a fraction in [0, 1]' },
        ],
      },
    ),
  [
    'p.probabilities holds one row of 10 per digit: tf.tensor2d(p.probabilities, [p.labels.length, 10]).',
    'tf.argMax(…, 1) gives the predicted class per row (axis 1: across the classes); compare with tf.equal, cast to float32, then tf.mean.',
  ],
);

/** The reference matrix: rows the true digit, columns the prediction. */
function countPairs(labels: Int32Array, predicted: Int32Array): tf.Tensor2D {
  const counts = new Float32Array(100);
  labels.forEach((t, i) => counts[t * 10 + predicted[i]]++);
  return tf.tensor2d(counts, [10, 10]);
}

/** Exercise 6: the confusion matrix in float32: (labels, predicted) int32 tensors → [10, 10] counts. */
const confusionMatrix = new Exercise(
  'exercise 6 (the confusion matrix in TensorFlow.js)',
  (
    matrixOf: (labels: tf.Tensor1D, predicted: tf.Tensor1D) => tf.Tensor | undefined,
    p: Predictions,
  ) => {
    const labels = tf.tensor1d(p.labels, 'int32');
    const predicted = tf.tensor1d(p.predicted, 'int32');
    const expected = countPairs(p.labels, p.predicted);
    return compareAnswer(matrixOf(labels, predicted), valuesOf(expected), {
      what: 'your matrix',
      tolerance: 0,
      mistakes: [
        {
          values: valuesOf(tf.transpose(expected)),
          say: 'rows and columns are swapped: rows are the true digit, columns the prediction (which one-hot matrix is transposed?)',
        },
      ],
    });
  },
  [
    'One-hot both: row i of tf.oneHot(labels, 10) marks image i’s true digit, of the other its prediction.',
    'tf.matMul(A, B) with A = one-hot labels transposed ([10, n]) and B = one-hot predictions ([n, 10]) adds 1 at [true, predicted] for each image; cast to float32 first.',
  ],
);

export const confusionExercises = { accuracy, confusionMatrix };
