// The convolution filter gradient tfjs-backend-wasm 4.22 lacks, and faster CNN gradients, so CNNs train on wasm.
import * as tf from '@tensorflow/tfjs';
import { KitError } from '../core/errors.js';

/*
 * Why: tfjs-backend-wasm 4.22 registers no `Conv2DBackpropFilter` kernel, so the first backward pass of
 * any convolutional network on wasm fails ("Kernel 'Conv2DBackpropFilter' not registered for backend
 * 'wasm'"). Both the plain conv2d gradient and the fused conv2d one (what tf.layers.conv2d runs) call
 * that kernel, so registering it is the one fix that covers both; `tf.registerKernel` is per backend,
 * so the cpu and native engines keep their own.
 *
 * How: the filter gradient dW[i,j,c,o] = Σ_{b,p,q} x[b, p·s + i, q·s + j, c] · dy[b, p, q, o] is itself
 * a convolution once the batch axis is moved into the channel position: x as [c, H, W, b] is the input,
 * dy as [p, q, b, o] is the filter, the stride s becomes a dilation, the padding stays the same, and
 * the result [c, i, j, o] is transposed back to [i, j, c, o]. The wasm Conv2D kernel runs it through
 * XNNPACK. Stride 1 and larger strides are both exact; dilated convolutions are rejected (tfjs' own
 * gradient does not support them either).
 */

export const CONV_FILTER_GRADIENT_KERNEL = 'Conv2DBackpropFilter';
export const CONV_INPUT_GRADIENT_KERNEL = 'Conv2DBackpropInput';
export const MAX_POOL_GRADIENT_KERNEL = 'MaxPoolGrad';

/** The slice of a backend these kernels need: freeing intermediates, and (wasm) its heap. */
interface DisposingBackend {
  disposeData(dataId: object, force?: boolean): boolean;
}
interface HeapBackend {
  makeOutput(shape: number[], dtype: 'float32'): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): Float32Array;
}

type Conv2DBackpropFilterAttrs = {
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  filterShape: [number, number, number, number];
};

function kernelOf(name: string, backendName: string): tf.KernelFunc {
  const config = tf.getKernel(name, backendName);
  if (!config)
    throw new KitError(
      'engine',
      `the '${backendName}' backend has no '${name}' kernel, which the convolution gradient needs`,
    );
  return config.kernelFunc;
}

/**
 * A `Conv2DBackpropFilter` kernel for `backendName` made of its Transpose, Conv2D and Slice kernels.
 * Exported so the tests can compare it with the cpu backend's own kernel.
 */
export function conv2dBackpropFilterKernel(backendName: string): tf.KernelConfig {
  const kernelFunc: tf.KernelFunc = ({ inputs, backend, attrs }) => {
    const { x, dy } = inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
    const a = attrs as unknown as Conv2DBackpropFilterAttrs;
    if (a.dataFormat !== 'NHWC') {
      throw new KitError(
        'conv-gradient',
        `Conv2DBackpropFilter on ${backendName}: dataFormat '${a.dataFormat}' is not supported; expected 'NHWC' (channels last)`,
      );
    }
    const info = tf.backend_util.computeConv2DInfo(
      x.shape as [number, number, number, number],
      a.filterShape,
      a.strides,
      1,
      a.pad,
      a.dimRoundingMode,
    );
    const { strideHeight, strideWidth, filterHeight, filterWidth, padInfo } = info;
    const transpose = kernelOf('Transpose', backendName);
    const conv2d = kernelOf('Conv2D', backendName);
    const slice = kernelOf('Slice', backendName);
    const b = backend as DisposingBackend;
    const run = (f: tf.KernelFunc, ins: Record<string, tf.TensorInfo>, at: object) =>
      f({ inputs: ins, backend, attrs: at as tf.NamedAttrMap }) as tf.TensorInfo;

    const xT = run(transpose, { x }, { perm: [3, 1, 2, 0] }); // [c, H, W, batch]
    const dyT = run(transpose, { x: dy }, { perm: [1, 2, 0, 3] }); // [oh, ow, batch, o]
    const pad: tf.backend_util.ExplicitPadding = [
      [0, 0],
      [padInfo.top, padInfo.bottom],
      [padInfo.left, padInfo.right],
      [0, 0],
    ];
    let grad = run(
      conv2d,
      { x: xT, filter: dyT },
      {
        strides: [1, 1],
        pad,
        dataFormat: 'NHWC',
        dilations: [strideHeight, strideWidth],
        dimRoundingMode: undefined,
      },
    );
    b.disposeData(xT.dataId);
    b.disposeData(dyT.dataId);
    // With 'valid' padding and a stride that does not divide the input, the last rows/columns of x are
    // never read: the convolution above then yields more than kh × kw positions; the first ones are dW.
    if (grad.shape[1] !== filterHeight || grad.shape[2] !== filterWidth) {
      const cropped = run(
        slice,
        { x: grad },
        { begin: [0, 0, 0, 0], size: [grad.shape[0], filterHeight, filterWidth, grad.shape[3]] },
      );
      b.disposeData(grad.dataId);
      grad = cropped;
    }
    const out = run(transpose, { x: grad }, { perm: [1, 2, 0, 3] }); // [kh, kw, c, o]
    b.disposeData(grad.dataId);
    return out;
  };
  return { kernelName: CONV_FILTER_GRADIENT_KERNEL, backendName, kernelFunc };
}

type Conv2DBackpropInputAttrs = Omit<Conv2DBackpropFilterAttrs, 'filterShape'> & {
  inputShape: [number, number, number, number];
};

/*
 * wasm's own Conv2DBackpropInput is a scalar loop: for the 13×13×16 → 32 layer of notebook 07's CNN it
 * took more of a training step than every other kernel together. With stride 1 the input gradient is a
 * plain convolution of dy with the filter flipped in space and its channel axes swapped, padded by
 * k − 1 − pad, which XNNPACK runs. Other strides (and pads ≥ k) keep wasm's kernel.
 */
export function conv2dBackpropInputKernel(
  backendName: string,
  fallback: tf.KernelFunc,
): tf.KernelConfig {
  const kernelFunc: tf.KernelFunc = (args) => {
    const { inputs, backend, attrs } = args;
    const { dy, filter } = inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo };
    const a = attrs as unknown as Conv2DBackpropInputAttrs;
    const info = tf.backend_util.computeConv2DInfo(
      a.inputShape,
      filter.shape as [number, number, number, number],
      a.strides,
      1,
      a.pad,
      a.dimRoundingMode,
    );
    const { top, bottom, left, right } = info.padInfo;
    const kh = info.filterHeight;
    const kw = info.filterWidth;
    const plain = info.strideHeight === 1 && info.strideWidth === 1 && a.dataFormat === 'NHWC';
    if (!plain || Math.max(top, bottom) >= kh || Math.max(left, right) >= kw) return fallback(args);
    const b = backend as DisposingBackend;
    const run = (name: string, ins: Record<string, tf.TensorInfo>, at: object) =>
      kernelOf(
        name,
        backendName,
      )({ inputs: ins, backend, attrs: at as tf.NamedAttrMap }) as tf.TensorInfo;
    const flipped = run('Reverse', { x: filter }, { dims: [0, 1] });
    const swapped = run('Transpose', { x: flipped }, { perm: [0, 1, 3, 2] }); // [kh, kw, o, c]
    b.disposeData(flipped.dataId);
    const pad: tf.backend_util.ExplicitPadding = [
      [0, 0],
      [kh - 1 - top, kh - 1 - bottom],
      [kw - 1 - left, kw - 1 - right],
      [0, 0],
    ];
    const dx = run(
      'Conv2D',
      { x: dy, filter: swapped },
      { strides: [1, 1], pad, dataFormat: 'NHWC', dilations: [1, 1] },
    );
    b.disposeData(swapped.dataId);
    return dx;
  };
  return { kernelName: CONV_INPUT_GRADIENT_KERNEL, backendName, kernelFunc };
}

type MaxPoolGradAttrs = {
  filterSize: number | [number, number];
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
};

/*
 * wasm's MaxPoolGrad was the next largest kernel of a training step. This one is a single pass in
 * JavaScript over the backend's heap: each pooling window sends dy to its first largest input (the
 * same rule as the cpu backend, so ties give identical results), channels innermost so reads are
 * contiguous. Needs a backend with a readable heap (wasm); any pool size, stride and padding.
 */
export function maxPoolGradKernel(backendName: string): tf.KernelConfig {
  const kernelFunc: tf.KernelFunc = ({ inputs, backend, attrs }) => {
    const { dy, input } = inputs as { dy: tf.TensorInfo; input: tf.TensorInfo };
    const a = attrs as unknown as MaxPoolGradAttrs;
    const info = tf.backend_util.computePool2DInfo(
      input.shape as [number, number, number, number],
      a.filterSize,
      a.strides,
      1,
      a.pad,
      a.dimRoundingMode,
    );
    const heap = backend as HeapBackend;
    const out = heap.makeOutput([...input.shape], 'float32');
    // Views only after makeOutput: allocating may grow (and so replace) the wasm memory buffer.
    const x = heap.typedArrayFromHeap(input);
    const g = heap.typedArrayFromHeap(dy);
    const dx = heap.typedArrayFromHeap(out);
    dx.fill(0);
    const { batchSize, inHeight: h, inWidth: w, inChannels: c, outHeight: oh, outWidth: ow } = info;
    const { strideHeight: sh, strideWidth: sw, filterHeight: fh, filterWidth: fw } = info;
    const { top, left } = info.padInfo;
    const best = new Float32Array(c);
    const at = new Int32Array(c);
    let gi = 0;
    for (let n = 0; n < batchSize; n++) {
      for (let oy = 0; oy < oh; oy++) {
        for (let ox = 0; ox < ow; ox++, gi += c) {
          best.fill(-Infinity);
          at.fill(-1);
          for (let fy = 0; fy < fh; fy++) {
            const iy = oy * sh - top + fy;
            if (iy < 0 || iy >= h) continue;
            for (let fx = 0; fx < fw; fx++) {
              const ix = ox * sw - left + fx;
              if (ix < 0 || ix >= w) continue;
              const base = ((n * h + iy) * w + ix) * c;
              for (let ch = 0; ch < c; ch++) {
                const v = x[base + ch];
                if (v > best[ch]) {
                  best[ch] = v;
                  at[ch] = base + ch;
                }
              }
            }
          }
          for (let ch = 0; ch < c; ch++) if (at[ch] >= 0) dx[at[ch]] += g[gi + ch];
        }
      }
    }
    return out;
  };
  return { kernelName: MAX_POOL_GRADIENT_KERNEL, backendName, kernelFunc };
}

/** The kernels of this module now in place, so a second call changes nothing. */
const installed = new Set<tf.KernelFunc>();

function replaceKernel(config: tf.KernelConfig): void {
  if (tf.getKernel(config.kernelName, config.backendName))
    tf.unregisterKernel(config.kernelName, config.backendName);
  tf.registerKernel(config);
  installed.add(config.kernelFunc);
}

/**
 * Makes the wasm backend train convolutional networks: registers the missing filter gradient and
 * replaces wasm's input-gradient and max-pool-gradient kernels with the faster ones above (same
 * numbers to fp32 rounding; the kit's MLP uses none of the three). Does nothing when wasm is not
 * loaded, and nothing on a second call. Returns true when the kit's kernels are in place.
 */
export function ensureConvGradient(): boolean {
  const backendName = 'wasm';
  // Registering before the wasm package loads would make its own registration fail; without the
  // package there is nothing to fix.
  if (tf.findBackendFactory(backendName) === null) return false;
  const current = (name: string) => tf.getKernel(name, backendName);
  const filterGrad = current(CONV_FILTER_GRADIENT_KERNEL);
  // A later wasm release with its own filter gradient: leave that backend as it ships.
  if (filterGrad && !installed.has(filterGrad.kernelFunc)) return false;
  if (!filterGrad) replaceKernel(conv2dBackpropFilterKernel(backendName));
  const inputGrad = current(CONV_INPUT_GRADIENT_KERNEL);
  if (inputGrad && !installed.has(inputGrad.kernelFunc)) {
    // Keep wasm's setup (it binds the C function the fallback calls) for a backend created later.
    replaceKernel({
      ...conv2dBackpropInputKernel(backendName, inputGrad.kernelFunc),
      setupFunc: inputGrad.setupFunc,
    });
  }
  const poolGrad = current(MAX_POOL_GRADIENT_KERNEL);
  if (!poolGrad || !installed.has(poolGrad.kernelFunc))
    replaceKernel(maxPoolGradKernel(backendName));
  return true;
}
