// Backpropagation written out for the MLP: the forward pass that keeps what the backward pass needs, and that backward pass.
import * as tf from '@tensorflow/tfjs';
import { activationDerivative, denseForward, l2Penalty } from './forward.js';
import type { MlpConfig } from './model.js';

/*
 * The network, for a batch of n rows x (n × 784), layers l = 1…L+1 (L hidden layers, then the output):
 *
 *   forward   z_l = h_{l-1}·W_l + b_l        h_0 = x
 *             h_l = f(z_l) ⊙ m_l             f: the activation; m_l: the dropout mask (0 or 1/(1-rate))
 *             z_{L+1} = logits,  p = softmax(logits)
 *   loss      −(1/n) Σ_rows log p[true class]  +  l2 · Σ_l ‖W_l‖²
 *
 * The chain rule, from the output back. Write d_l = ∂loss/∂z_l (n × units, one row per image):
 *
 *   output    d_{L+1} = (p − y) / n          y: the one-hot targets
 *   weights   ∂loss/∂W_l = h_{l-1}ᵀ · d_l + 2·l2·W_l      ∂loss/∂b_l = Σ_rows d_l
 *   one back  d_{l-1} = (d_l · W_lᵀ) ⊙ f′(z_{l-1}) ⊙ m_{l-1}
 *
 * and no d_0: nobody needs the gradient with respect to the pixels. f′ is written in terms of the
 * layer's output a = f(z), which the forward pass has anyway: relu′ = 1 where a > 0 (else 0),
 * sigmoid′ = a(1 − a), tanh′ = 1 − a², elu′ = 1 where a > 0 (else a + 1), linear′ = 1.
 *
 * Every product is a plain matMul of explicitly transposed operands: on the wasm engine a matMul with
 * transpose flags runs a slow scalar loop, the plain one XNNPACK (docs/performance.md).
 */

/** What the forward pass keeps for the backward pass. */
export interface ForwardTrace {
  /** Each layer's input: x for the first layer, then h_1 … h_L (after dropout). */
  readonly inputs: tf.Tensor2D[];
  /**
   * Per hidden layer, f′(z) ⊙ m: the one factor the backward pass multiplies by on its way through that
   * layer (activation derivative and dropout mask together). Null where it is all ones (linear, no mask).
   */
  readonly gates: (tf.Tensor2D | null)[];
  readonly logits: tf.Tensor2D;
}

/**
 * The forward pass on the raw weights [W_1, b_1, …] that keeps each layer's input and gate. `masks` holds
 * one inverted-dropout mask per hidden layer during training; pass none for no dropout.
 */
export function forwardTrace(
  vars: readonly tf.Tensor[],
  x: tf.Tensor2D,
  config: MlpConfig,
  masks?: readonly tf.Tensor2D[],
): ForwardTrace {
  const inputs: tf.Tensor2D[] = [x];
  const gates: (tf.Tensor2D | null)[] = [];
  const layers = vars.length / 2;
  let h = x;
  for (let l = 0; l < layers - 1; l++) {
    const a = denseForward(
      h,
      vars[2 * l] as tf.Tensor2D,
      vars[2 * l + 1] as tf.Tensor1D,
      config.activation,
    );
    const mask = masks?.[l];
    const derivative = activationDerivative(a, config.activation);
    // Multiplying by the mask once here saves doing it again on the way back.
    gates.push(mask ? (derivative ? tf.mul<tf.Tensor2D>(derivative, mask) : mask) : derivative);
    h = mask ? tf.mul<tf.Tensor2D>(a, mask) : a;
    inputs.push(h);
  }
  const logits = denseForward(
    h,
    vars[2 * layers - 2] as tf.Tensor2D,
    vars[2 * layers - 1] as tf.Tensor1D,
    'linear',
  );
  return { inputs, gates, logits };
}

/**
 * The mean softmax cross-entropy of `logits` against one-hot `y`, and its gradient (p − y)/n. From the
 * log-softmax, so huge logits give a huge finite loss rather than log(0) = −∞.
 */
export function softmaxCrossEntropy(
  logits: tf.Tensor2D,
  y: tf.Tensor2D,
): { loss: tf.Scalar; dLogits: tf.Tensor2D } {
  const n = logits.shape[0];
  const logP = tf.logSoftmax(logits);
  return {
    loss: tf.div<tf.Scalar>(tf.neg(tf.sum(tf.mul(y, logP))), n),
    dLogits: tf.div(tf.sub(tf.exp(logP), y), n),
  };
}

/**
 * The backward pass: ∂loss/∂[W_1, b_1, …] from d = ∂loss/∂logits, in the order of `vars`. With `l2` > 0
 * the kernels' gradients include the penalty's 2·l2·W.
 */
export function backward(
  vars: readonly tf.Tensor[],
  trace: ForwardTrace,
  dLogits: tf.Tensor2D,
  l2: number,
): tf.Tensor[] {
  const grads: tf.Tensor[] = new Array<tf.Tensor>(vars.length);
  let d: tf.Tensor2D = dLogits;
  for (let l = vars.length / 2 - 1; l >= 0; l--) {
    const w = vars[2 * l] as tf.Tensor2D;
    const dW = tf.matMul(tf.transpose(trace.inputs[l]), d);
    grads[2 * l] = l2 > 0 ? tf.add(dW, tf.mul(w, 2 * l2)) : dW;
    grads[2 * l + 1] = tf.sum(d, 0);
    if (l > 0) {
      const dh = tf.matMul<tf.Tensor2D>(d, tf.transpose(w));
      const gate = trace.gates[l - 1];
      d = gate ? tf.mul<tf.Tensor2D>(dh, gate) : dh;
    }
  }
  return grads;
}

/**
 * Loss (cross-entropy + L2) and gradients of the MLP on one batch, by the written-out backward pass:
 * the same numbers as `tf.variableGrads` of the same loss, to fp32 rounding (tests/unit/backprop.test.ts).
 */
export function mlpGradients(
  vars: readonly tf.Tensor[],
  x: tf.Tensor2D,
  y: tf.Tensor2D,
  config: MlpConfig,
  masks?: readonly tf.Tensor2D[],
): { loss: tf.Scalar; logits: tf.Tensor2D; grads: tf.Tensor[] } {
  const trace = forwardTrace(vars, x, config, masks);
  const { loss: crossEntropy, dLogits } = softmaxCrossEntropy(trace.logits, y);
  const grads = backward(vars, trace, dLogits, config.l2);
  const loss: tf.Scalar = tf.add(crossEntropy, l2Penalty(vars, config.l2) ?? 0);
  return { loss, logits: trace.logits, grads };
}
