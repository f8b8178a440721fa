// Adam in fewer kernels: the update of tf.train.adam, with two element-wise passes per weight tensor fewer.
import * as tf from '@tensorflow/tfjs';

/** An optimizer as the training loop uses it: one update from gradients listed in the order of the weights. */
export interface Updater {
  apply(grads: readonly tf.Tensor[]): void;
  dispose(): void;
}

/** TensorFlow.js's own Adam behind the loop's interface. */
export function stockAdam(vars: readonly tf.Variable[], learningRate: number): Updater {
  const optimizer = tf.train.adam(learningRate);
  return {
    apply: (grads) =>
      optimizer.applyGradients(vars.map((v, i) => ({ name: v.name, tensor: grads[i] }))),
    dispose: () => optimizer.dispose(),
  };
}

/*
 * tf.train.adam computes, per weight w with gradient g at step t:
 *   m ← β1·m + (1 − β1)·g      v ← β2·v + (1 − β2)·g²
 *   w ← w − lr · (m / (1 − β1ᵗ)) / (√(v / (1 − β2ᵗ)) + ε)
 * which is 14 kernels and a dozen scalar tensors per weight. The last line equals
 *   w ← w − α·m / (√v + ε̂)   with α = lr·√(1 − β2ᵗ)/(1 − β1ᵗ) and ε̂ = ε·√(1 − β2ᵗ)
 * (multiply numerator and denominator by √(1 − β2ᵗ)): the two bias corrections become scalars computed
 * once per step instead of two passes over each weight tensor. Same numbers to fp32 rounding
 * (tests/unit/adam.test.ts).
 */

/** Adam with tf.train.adam's defaults (β1 0.9, β2 0.999, ε the engine's epsilon), in 12 kernels a weight. */
export function leanAdam(
  vars: readonly tf.Variable[],
  learningRate: number,
  beta1 = 0.9,
  beta2 = 0.999,
  epsilon = tf.backend().epsilon(),
): Updater {
  // in tidy: tf.variable keeps the zeros' storage, the zeros tensor itself is released
  const moments = vars.map((w) =>
    tf.tidy(() => ({
      m: tf.variable(tf.zerosLike(w), false),
      v: tf.variable(tf.zerosLike(w), false),
    })),
  );
  // Made once: a number passed to tf.mul becomes a new scalar tensor on every call.
  const constants = tf.keep(tf.tensor1d([beta1, 1 - beta1, beta2, 1 - beta2]));
  const [b1, oneMinusB1, b2, oneMinusB2] = tf.unstack(constants).map((s) => tf.keep(s));
  // β1ᵗ and β2ᵗ as tf.train.adam keeps them, float32 products step after step: 1 − β2ᵗ loses digits
  // to cancellation early on (~1e-5 relative at step 30), and computing it exactly would differ from
  // TensorFlow.js's Adam by more than rounding.
  const f32 = Math.fround;
  let accBeta1 = f32(beta1);
  let accBeta2 = f32(beta2);
  return {
    apply(grads) {
      const correction1 = f32(1 - accBeta1);
      const correction2 = Math.sqrt(f32(1 - accBeta2));
      const alpha = (learningRate * correction2) / correction1;
      accBeta1 = f32(accBeta1 * f32(beta1));
      accBeta2 = f32(accBeta2 * f32(beta2));
      tf.tidy(() => {
        const negAlpha = tf.scalar(-alpha);
        const epsHat = tf.scalar(epsilon * correction2);
        vars.forEach((w, i) => {
          const g = grads[i];
          const { m, v } = moments[i];
          const mNew = tf.add(tf.mul(m, b1), tf.mul(g, oneMinusB1));
          const vNew = tf.add(tf.mul(v, b2), tf.mul(tf.square(g), oneMinusB2));
          m.assign(mNew);
          v.assign(vNew);
          w.assign(tf.add(w, tf.div(tf.mul(mNew, negAlpha), tf.add(tf.sqrt(vNew), epsHat))));
        });
      });
    },
    dispose() {
      tf.dispose([constants, b1, oneMinusB1, b2, oneMinusB2]);
      moments.forEach(({ m, v }) => tf.dispose([m, v]));
    },
  };
}
