// The widget's forward pass: dense layers + activation + softmax in plain JavaScript, from base64 weights.
//
// A notebook output has no server, and tf.min.js (1.5 MB) in every output would dwarf the model; an
// MLP at inference is a few loops (dropout does nothing there). The demo page uses TensorFlow.js.
import type { WidgetModel } from '../lib/notebook/widget-model.js';

const ACTIVATIONS: Record<string, (v: number) => number> = {
  relu: (v) => (v > 0 ? v : 0),
  sigmoid: (v) => 1 / (1 + Math.exp(-v)),
  tanh: Math.tanh,
  elu: (v) => (v > 0 ? v : Math.exp(v) - 1),
  linear: (v) => v,
};

function decodeFloats(base64: string): Float32Array {
  const text = atob(base64);
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return new Float32Array(bytes.buffer);
}

/** Softmax in place, shifted by the maximum so exp never overflows. */
function softmax(x: Float32Array): Float32Array {
  const max = Math.max(...x);
  let sum = 0;
  for (let c = 0; c < x.length; c++) {
    x[c] = Math.exp(x[c] - max);
    sum += x[c];
  }
  for (let c = 0; c < x.length; c++) x[c] /= sum;
  return x;
}

/** The model's probabilities as a function of its 784 inputs. */
export function denseForward(model: WidgetModel): (input: Float32Array) => Float32Array {
  const act = ACTIVATIONS[model.activation];
  if (!act) throw new Error(`the widget has no activation "${model.activation}"`);
  const layers = model.layers.map((l) => ({
    ...l,
    kernel: decodeFloats(l.kernel),
    bias: decodeFloats(l.bias),
  }));
  return (input) => {
    let x = input;
    layers.forEach((l, li) => {
      const y = Float32Array.from(l.bias);
      for (let i = 0; i < l.inputs; i++) {
        const xi = x[i];
        if (xi === 0) continue; // most pixels of a drawing are 0
        const row = i * l.units;
        for (let k = 0; k < l.units; k++) y[k] += xi * l.kernel[row + k];
      }
      if (li < layers.length - 1) for (let h = 0; h < l.units; h++) y[h] = act(y[h]);
      x = y;
    });
    return softmax(x);
  };
}
