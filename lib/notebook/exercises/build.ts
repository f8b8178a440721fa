// Checked exercises of notebook 02 (build the MLP): count the parameters, the forward pass and the L2 term by hand.
import * as tf from '@tensorflow/tfjs';
import type { Split } from '../../data/types.js';
import { createMlp } from '../../ml/model.js';
import { compareAnswer, compareValues, readAnswer, valuesOf } from './compare.js';
import { Exercise } from './exercise.js';

const WIDER = [512, 256];

/** Exercise 4: the parameter count of kit.createMlp({ hidden: [512, 256] }), predicted by hand. */
const countParams = new Exercise(
  'exercise 4 (count first)',
  (count: number | undefined) => {
    const { model, config } = createMlp({ hidden: WIDER });
    const expected = model.countParams();
    model.dispose();
    const dims = [config.inputSize, ...config.hidden, config.numClasses];
    const weightsOnly = dims.slice(1).reduce((s, n, i) => s + dims[i] * n, 0);
    return compareAnswer(
      count,
      { shape: [], values: [expected] },
      {
        what: 'your count',
        tolerance: 0,
        mistakes: [
          {
            value: weightsOnly,
            say: `that counts the weights but not the biases: each unit also has one bias (${expected - weightsOnly} in all)`,
          },
        ],
      },
    );
  },
  [
    'Layer by layer: a dense layer from n inputs to m units has n·m weights and m biases.',
    'The layers are 784 → 512 → 256 → 10; dropout layers have no parameters.',
  ],
);

/** The forward pass by hand of `model`, whose hidden layers use `activation`, on x. */
function byHand(model: tf.LayersModel, x: tf.Tensor2D, activation: 'sigmoid' | 'relu') {
  const [w1, b1, w2, b2, w3, b3] = model.getWeights();
  const f = activation === 'sigmoid' ? tf.sigmoid : tf.relu;
  const h1 = f(tf.add(tf.matMul(x, w1), b1));
  const h2 = f(tf.add(tf.matMul(h1, w2), b2));
  return tf.add(tf.matMul(h2, w3), b3) as tf.Tensor2D;
}

/** Exercise 2: the sigmoid network's forward pass by hand: (model, x [n, 784]) → probabilities [n, 10]. */
const sigmoidForward = new Exercise(
  'exercise 2 (sigmoid, by hand)',
  (forward: (model: tf.LayersModel, x: tf.Tensor2D) => tf.Tensor | undefined, split: Split) => {
    const { model } = createMlp({ activation: 'sigmoid' });
    try {
      const n = Math.min(100, split.count);
      const x = tf.tensor2d(split.images.subarray(0, n * 784), [n, 784]);
      const answer = readAnswer(forward(model, x));
      if (typeof answer === 'string') return answer;
      const expected = model.predict(x) as tf.Tensor2D;
      const logits = byHand(model, x, 'sigmoid');
      return compareValues(answer, valuesOf(expected), {
        what: 'your probabilities',
        mistakes: [
          {
            values: valuesOf(logits),
            say: 'these are the scores before softmax (logits): apply tf.softmax to the last layer',
          },
          {
            values: valuesOf(tf.softmax(byHand(model, x, 'relu'))),
            say: 'these are the ReLU network’s probabilities: use tf.sigmoid in both hidden layers',
          },
        ],
        shapes: [
          { shape: [10, n], say: 'one row per digit class: rows must be the images, [n, 10]' },
        ],
      });
    } finally {
      model.dispose();
    }
  },
  [
    'The same three lines as the ReLU version above, with tf.sigmoid in place of tf.relu; the weights come from model.getWeights().',
    'The last layer has no sigmoid: its scores go through tf.softmax.',
  ],
);

/** Exercise 3: the L2 term 1e-4 · Σ w² over the kernels of `model`, written with tf.square and tf.sum. */
const l2Term = new Exercise(
  'exercise 3 (the L2 term, by hand)',
  (term: (model: tf.LayersModel) => number | tf.Tensor | undefined, model: tf.LayersModel) => {
    const expected = tf.addN(model.layers.flatMap((layer) => layer.calculateLosses()));
    return compareAnswer(term(model), valuesOf(expected), {
      what: 'your L2 term',
      factors: [
        { factor: 1e4, say: '10,000 times too large: multiply Σ w² by the L2 strength, 1e-4' },
        {
          factor: 2,
          say: 'twice too large: the term is l2 · Σ w², and 2 · l2 · w is its gradient',
        },
      ],
    });
  },
  [
    'The kernels are the first weight tensor of each dense layer (layer.getWeights()[0]); the biases carry no penalty.',
    'For each kernel: tf.sum(tf.square(kernel)); add the three sums and multiply by 1e-4.',
  ],
);

export const buildExercises = { countParams, sigmoidForward, l2Term };
