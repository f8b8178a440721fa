// Checked exercises of notebook 07 (beyond the MLP): feature maps, and parameter counts of CNN variants.
import * as tf from '@tensorflow/tfjs';
import type { Split } from '../../data/types.js';
import { compareAnswer, valuesOf } from './compare.js';
import { Exercise } from './exercise.js';

/** Exercise 1: (cnn, images [n, 28, 28, 1]) → the first convolution's feature maps [n, 26, 26, 16]. */
const featureMaps = new Exercise(
  'exercise 1 (feature maps)',
  (
    mapsOf: (cnn: tf.LayersModel, images: tf.Tensor4D) => tf.Tensor | undefined,
    cnn: tf.LayersModel,
    split: Split,
  ) => {
    const images = tf.tensor4d(split.images.subarray(0, 2 * 784), [2, 28, 28, 1]);
    const conv1 = tf.model({ inputs: cnn.inputs, outputs: cnn.getLayer('conv1').output });
    const expected = conv1.predict(images) as tf.Tensor4D;
    const [n, h, w, c] = expected.shape;
    return compareAnswer(mapsOf(cnn, images), valuesOf(expected), {
      what: 'your feature maps',
      shapes: [
        { shape: [n, h / 2, w / 2, c], say: 'that is after pooling (pool1): take conv1’s output' },
        {
          shape: [n, 10],
          say: 'that is the whole network’s output: build a model whose output is conv1’s',
        },
      ],
    });
  },
  [
    "tf.model({ inputs: cnn.inputs, outputs: cnn.getLayer('conv1').output }) is a model that stops after conv1.",
    'Its predict on images of shape [n, 28, 28, 1] gives [n, 26, 26, 16]: 16 maps of 26 × 26 per image.',
  ],
);

/** The parameter count of the notebook's CNN with its convolutions changed by `conv` and pooling kept or not. */
function countCnn(conv: { padding?: 'same' | 'valid'; strides?: number }, pool: boolean): number {
  const model = tf.sequential();
  model.add(tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 16, kernelSize: 3, ...conv }));
  if (pool) model.add(tf.layers.maxPooling2d({ poolSize: 2 }));
  model.add(tf.layers.conv2d({ filters: 32, kernelSize: 3, ...conv }));
  if (pool) model.add(tf.layers.maxPooling2d({ poolSize: 2 }));
  model.add(tf.layers.flatten());
  model.add(tf.layers.dense({ units: 64 }));
  model.add(tf.layers.dense({ units: 10 }));
  const count = model.countParams();
  model.dispose();
  return count;
}

const countHints = (change: string) => [
  `Only the dense layer after flatten changes: its inputs are height × width × 32 of the last map. ${change}`,
  'A dense layer from n inputs to 64 units has n·64 weights and 64 biases; the convolutions keep 160 and 4,640.',
];

/** Exercise 2: the parameter count with strides 2 in place of each max pooling. */
const stridesCount = new Exercise(
  'exercise 2 (strides instead of pooling)',
  (count: number | undefined) =>
    compareAnswer(
      count,
      { shape: [], values: [countCnn({ strides: 2 }, false)] },
      {
        what: 'your count',
        tolerance: 0,
        mistakes: [
          {
            value: countCnn({}, true),
            say: 'that is the original network’s count: the shapes change with strides',
          },
          { value: countCnn({}, false), say: 'that is with the pooling removed but no strides' },
        ],
      },
    ),
  countHints(
    'A 3 × 3 convolution with stride 2 and valid padding maps size s to floor((s − 3) / 2) + 1.',
  ),
);

/** Exercise 3: the parameter count with padding 'same' in both convolutions. */
const samePaddingCount = new Exercise(
  "exercise 3 ('same' padding)",
  (count: number | undefined) =>
    compareAnswer(
      count,
      { shape: [], values: [countCnn({ padding: 'same' }, true)] },
      {
        what: 'your count',
        tolerance: 0,
        mistakes: [
          {
            value: countCnn({}, true),
            say: 'that is the original network’s count: the dense layer grows',
          },
        ],
      },
    ),
  countHints(
    "With 'same' padding a convolution keeps the size; each pooling still halves it (28 → 14 → 7).",
  ),
);

export const cnnExercises = { featureMaps, stridesCount, samePaddingCount };
