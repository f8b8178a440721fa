// Looking inside a model while it learns: gradient size per layer, and whether hidden units are copies.
import * as tf from '@tensorflow/tfjs';
import type { Split } from '../data/types.js';
import { forwardLogits } from './forward.js';
import { denseVariables, type MlpConfig } from './model.js';

/**
 * ‖∂loss/∂W‖ (Euclidean norm of the cross-entropy gradient) for each layer's kernel on one batch, in
 * inference mode (no dropout, no L2): how hard each layer is being pushed at this point of training.
 */
export function layerGradientNorms(
  model: tf.LayersModel,
  config: MlpConfig,
  batch: Split,
): number[] {
  const vars = denseVariables(model);
  const kernels = vars.filter((_, i) => i % 2 === 0);
  return tf.tidy(() => {
    const x = tf.tensor2d(batch.images, [batch.count, config.inputSize]);
    const y = tf.oneHot(tf.tensor1d(batch.labels, 'int32'), config.numClasses);
    const loss = () =>
      tf.losses.softmaxCrossEntropy(y, forwardLogits(vars, x, config)) as tf.Scalar;
    const { grads } = tf.variableGrads(loss, kernels);
    return Array.from(tf.stack(kernels.map((k) => tf.norm(grads[k.name]))).dataSync());
  });
}

/**
 * For each hidden layer: the largest difference between any unit's incoming weights (a kernel column)
 * or bias and unit 0's. Zero means every unit of that layer is an exact copy of the others.
 */
export function hiddenUnitSpread(model: tf.LayersModel): number[] {
  const vars = denseVariables(model);
  const spreads: number[] = [];
  for (let k = 0; k < vars.length / 2 - 1; k++) {
    const [rows, cols] = vars[2 * k].shape;
    const w = vars[2 * k].dataSync();
    const b = vars[2 * k + 1].dataSync();
    let spread = 0;
    for (let j = 1; j < cols; j++) {
      spread = Math.max(spread, Math.abs(b[j] - b[0]));
      for (let i = 0; i < rows; i++)
        spread = Math.max(spread, Math.abs(w[i * cols + j] - w[i * cols]));
    }
    spreads.push(spread);
  }
  return spreads;
}
