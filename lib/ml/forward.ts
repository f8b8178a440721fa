// The MLP's forward pass on its raw weights, with dense-layer gradients shaped for the engine in use.
import * as tf from '@tensorflow/tfjs';
import type { Activation } from '../core/choices.js';
import type { MlpConfig } from './model.js';

/** y = activation(x·W + b). `needsInputGrad` is false for the first layer: nobody needs ∂loss/∂pixels. */
export type DenseOp = (
  x: tf.Tensor2D,
  w: tf.Tensor2D,
  b: tf.Tensor1D,
  activation: Activation,
  needsInputGrad: boolean,
) => tf.Tensor2D;

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

/** The standard path: TensorFlow.js's own gradients. Right for native TensorFlow and the cpu backend. */
export const standardDense: DenseOp = (x, w, b, activation) => denseForward(x, w, b, activation);

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

/** ∂loss/∂z from ∂loss/∂y, written in terms of the output y = f(z) so z need not be kept. */
function activationGrad(dy: tf.Tensor2D, y: tf.Tensor2D, activation: Activation): tf.Tensor2D {
  const derivative = activationDerivative(y, activation);
  return derivative ? tf.mul(dy, derivative) : dy;
}

/*
 * Why a second path: tfjs-backend-wasm 4.22 runs matMul with transposeA/transposeB through a slow scalar
 * loop while the plain case uses XNNPACK, and the stock matMul gradient always passes transpose flags.
 * Here the gradient transposes explicitly, then multiplies plainly: the same numbers to fp32 rounding,
 * several times faster on wasm (docs/performance.md). On native TensorFlow this would only add work.
 */
const fastDenseCache = new Map<string, (...inputs: tf.Tensor[]) => tf.Tensor>();

function fastDenseFn(activation: Activation) {
  const key = activation;
  let fn = fastDenseCache.get(key);
  if (!fn) {
    fn = tf.customGrad(((x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D, save: tf.GradSaveFunc) => {
      const y = denseForward(x, w, b, activation);
      save([x, w, y]);
      return {
        value: y,
        gradFunc: (dy: tf.Tensor2D, saved: tf.Tensor[]) => {
          const [xs, ws, ys] = saved as tf.Tensor2D[];
          const dz = activationGrad(dy, ys, activation);
          return [tf.matMul(dz, tf.transpose(ws)), tf.matMul(tf.transpose(xs), dz), tf.sum(dz, 0)];
        },
      };
    }) as never); // customGrad's typings cover one input; the runtime takes any number.
    fastDenseCache.set(key, fn);
  }
  return fn;
}

/** First layer: x is data, so it is captured rather than passed, and no ∂loss/∂x is ever computed. */
function firstLayerDense(
  x: tf.Tensor2D,
  w: tf.Tensor2D,
  b: tf.Tensor1D,
  activation: Activation,
): tf.Tensor2D {
  const fn = tf.customGrad(((wIn: tf.Tensor2D, bIn: tf.Tensor1D, save: tf.GradSaveFunc) => {
    const y = denseForward(x, wIn, bIn, activation);
    save([y]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor2D, saved: tf.Tensor[]) => {
        const dz = activationGrad(dy, saved[0] as tf.Tensor2D, activation);
        return [tf.matMul(tf.transpose(x), dz), tf.sum(dz, 0)];
      },
    };
  }) as never); // customGrad's typings cover one input; the runtime takes any number.
  return fn(w, b) as tf.Tensor2D;
}

export const wasmFriendlyDense: DenseOp = (x, w, b, activation, needsInputGrad) =>
  needsInputGrad
    ? (fastDenseFn(activation)(x, w, b) as tf.Tensor2D)
    : firstLayerDense(x, w, b, activation);

/** Picks the dense op for a backend: the explicit-transpose gradient only where it helps. */
export function denseOpFor(backend: string): DenseOp {
  return backend === 'wasm' ? wasmFriendlyDense : standardDense;
}

/**
 * Logits (pre-softmax scores) for a batch. `masks` holds one inverted-dropout mask per hidden layer
 * during training; at inference pass none.
 */
export function forwardLogits(
  vars: readonly tf.Variable[],
  x: tf.Tensor2D,
  config: MlpConfig,
  dense: DenseOp,
  masks?: readonly tf.Tensor2D[],
): tf.Tensor2D {
  let h = x;
  const layers = vars.length / 2;
  for (let i = 0; i < layers; i++) {
    const last = i === layers - 1;
    h = dense(
      h,
      vars[2 * i] as tf.Tensor2D,
      vars[2 * i + 1] as tf.Tensor1D,
      last ? 'linear' : config.activation,
      i > 0,
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
