// A dense layer's incoming weights drawn as images: what each first-layer unit looks for in a digit.
import type * as tf from '@tensorflow/tfjs';
import { ConfigError } from '../core/errors.js';
import { denseVariables } from '../ml/model.js';

/**
 * The incoming weights of some units of a dense layer as images: kernel is inputs × units (row-major, as
 * tfjs stores it), unit u's image is column u. Mapped to [0, 1] with 0.5 for a zero weight and, by
 * default, one scale for all the units picked (their largest |w|) so strong and weak units can be
 * compared; `perUnit` gives each unit its own scale, so a pattern shows whether its weights are 0.05
 * or 5. A unit whose weights are all 0 is flat grey.
 */
export function weightImages(
  kernel: ArrayLike<number>,
  inputs: number,
  units: number,
  pick: readonly number[],
  options: { perUnit?: boolean } = {},
): Float32Array {
  if (kernel.length !== inputs * units) {
    throw new ConfigError(
      'kernel',
      `holds ${kernel.length} weights; expected ${inputs} × ${units}`,
    );
  }
  for (const u of pick) {
    if (!Number.isInteger(u) || u < 0 || u >= units) {
      throw new ConfigError('units', `unit ${u} does not exist; the layer has ${units}`);
    }
  }
  const maxAbsOf = (us: readonly number[]) => {
    let maxAbs = 0;
    for (const u of us)
      for (let i = 0; i < inputs; i++) maxAbs = Math.max(maxAbs, Math.abs(kernel[i * units + u]));
    return maxAbs;
  };
  const shared = options.perUnit ? 0 : maxAbsOf(pick);
  const out = new Float32Array(pick.length * inputs);
  pick.forEach((u, k) => {
    const maxAbs = options.perUnit ? maxAbsOf([u]) : shared;
    for (let i = 0; i < inputs; i++) {
      out[k * inputs + i] = maxAbs > 0 ? 0.5 + kernel[i * units + u] / (2 * maxAbs) : 0.5;
    }
  });
  return out;
}

/**
 * The incoming weights of the chosen first-layer units of a model as 28×28 images for showDigits, each
 * unit on its own scale (grey = 0, dark = positive, light = negative).
 */
export function firstLayerImages(model: tf.LayersModel, units: readonly number[]): Float32Array {
  const kernel = denseVariables(model)[0];
  const [inputs, cols] = kernel.shape;
  return weightImages(kernel.dataSync(), inputs, cols, units, { perUnit: true });
}
