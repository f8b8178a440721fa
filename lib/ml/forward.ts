// The MLP's forward pass on its raw weights, and the activation derivatives its backward pass uses.
import * as tf from '@tensorflow/tfjs';
import type { Activation } from '../core/choices.js';
import type { MlpConfig } from './model.js';

const FUSABLE: ReadonlySet<Activation> = new Set(['relu', 'linear', 'sigmoid', 'elu']);

/** f(x·W + b): one fused kernel (matMul, bias and activation) where the engine has one. */
export function denseForward(
  x: tf.Tensor2D,
  w: tf.Tensor2D,
  b: tf.Tensor1D,
  activation: Activation,
): tf.Tensor2D {
  if (FUSABLE.has(activation)) {
    // One kernel for matmul + bias + activation instead of three, but only where no gradient tape records
    // (inference): under a tape tf.fused.matMul runs the three (docs/performance.md: fusing by hand).
    return tf.fused.matMul({
      a: x,
      b: w,
      bias: b,
      activation: activation as tf.fused.Activation,
    }) as tf.Tensor2D;
  }
  return tf.tanh(tf.add(tf.matMul(x, w), b)) as tf.Tensor2D;
}

/**
 * f′ as a function of the activation's output a = f(z), so z need not be kept: relu′ = 1 where a > 0
 * (0 at the kink, as TensorFlow's), sigmoid′ = a(1 − a), tanh′ = 1 − a², elu′ = 1 where a > 0 (else
 * a + 1). Null for 'linear' (f′ = 1).
 */
export function activationDerivative(a: tf.Tensor2D, activation: Activation): tf.Tensor2D | null {
  switch (activation) {
    case 'relu':
      return tf.step(a);
    case 'sigmoid':
      return tf.mul<tf.Tensor2D>(a, tf.sub(1, a));
    case 'tanh':
      return tf.sub<tf.Tensor2D>(1, tf.square(a));
    case 'elu':
      return tf.where(tf.greater(a, 0), tf.onesLike(a), tf.add<tf.Tensor2D>(a, 1));
    case 'linear':
      return null;
  }
}

/**
 * Logits (pre-softmax scores) for a batch. `masks` holds one inverted-dropout mask per hidden layer
 * during training; at inference pass none.
 */
export function forwardLogits(
  vars: readonly tf.Variable[],
  x: tf.Tensor2D,
  config: Pick<MlpConfig, 'activation'>,
  masks?: readonly tf.Tensor2D[],
): tf.Tensor2D {
  let h = x;
  const layers = vars.length / 2;
  for (let i = 0; i < layers; i++) {
    const last = i === layers - 1;
    h = denseForward(
      h,
      vars[2 * i] as tf.Tensor2D,
      vars[2 * i + 1] as tf.Tensor1D,
      last ? 'linear' : config.activation,
    );
    if (!last && masks) h = tf.mul(h, masks[i]);
  }
  return h;
}

/** Σ l2·w² over the kernels, as in Keras' kernelRegularizer; null when l2 is 0. */
export function l2Penalty(vars: readonly tf.Tensor[], l2: number): tf.Scalar | null {
  if (l2 === 0) return null;
  const kernels = vars.filter((_, i) => i % 2 === 0);
  return tf.mul(l2, tf.addN(kernels.map((k) => tf.sum(tf.square(k))))) as tf.Scalar;
}
