// The convolution filter gradient tfjs-backend-wasm 4.22 lacks, built from kernels it has, so CNNs train on wasm.
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

/** The slice of a backend this kernel needs: freeing intermediate tensors. */
interface DisposingBackend {
  disposeData(dataId: object, force?: boolean): boolean;
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
  if (!config) throw new KitError('engine', `the '${backendName}' backend has no '${name}' kernel, which the convolution gradient needs`);
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
      throw new KitError('conv-gradient', `Conv2DBackpropFilter on ${backendName}: dataFormat '${a.dataFormat}' is not supported; expected 'NHWC' (channels last)`);
    }
    const info = tf.backend_util.computeConv2DInfo(x.shape as [number, number, number, number], a.filterShape, a.strides, 1, a.pad, a.dimRoundingMode);
    const { strideHeight, strideWidth, filterHeight, filterWidth, padInfo } = info;
    const transpose = kernelOf('Transpose', backendName);
    const conv2d = kernelOf('Conv2D', backendName);
    const slice = kernelOf('Slice', backendName);
    const b = backend as DisposingBackend;
    const run = (f: tf.KernelFunc, ins: Record<string, tf.TensorInfo>, at: object) =>
      f({ inputs: ins, backend, attrs: at as tf.NamedAttrMap }) as tf.TensorInfo;

    const xT = run(transpose, { x }, { perm: [3, 1, 2, 0] }); // [c, H, W, batch]
    const dyT = run(transpose, { x: dy }, { perm: [1, 2, 0, 3] }); // [oh, ow, batch, o]
    const pad: tf.backend_util.ExplicitPadding = [[0, 0], [padInfo.top, padInfo.bottom], [padInfo.left, padInfo.right], [0, 0]];
    let grad = run(conv2d, { x: xT, filter: dyT }, { strides: [1, 1], pad, dataFormat: 'NHWC', dilations: [strideHeight, strideWidth], dimRoundingMode: undefined });
    b.disposeData(xT.dataId);
    b.disposeData(dyT.dataId);
    // With 'valid' padding and a stride that does not divide the input, the last rows/columns of x are
    // never read: the convolution above then yields more than kh × kw positions; the first ones are dW.
    if (grad.shape[1] !== filterHeight || grad.shape[2] !== filterWidth) {
      const cropped = run(slice, { x: grad }, { begin: [0, 0, 0, 0], size: [grad.shape[0], filterHeight, filterWidth, grad.shape[3]] });
      b.disposeData(grad.dataId);
      grad = cropped;
    }
    const out = run(transpose, { x: grad }, { perm: [1, 2, 0, 3] }); // [kh, kw, c, o]
    b.disposeData(grad.dataId);
    return out;
  };
  return { kernelName: CONV_FILTER_GRADIENT_KERNEL, backendName, kernelFunc };
}

/**
 * Registers the filter gradient for the wasm backend when wasm is loaded and lacks one; does nothing
 * otherwise (other engines, a later wasm release that ships its own, or a second call).
 * Returns true when the kit's kernel is (now) the one in place.
 */
export function ensureConvGradient(): boolean {
  const backendName = 'wasm';
  // Registering before the wasm package loads would make its own registration of a future native
  // kernel fail; without the package there is nothing to fix.
  if (tf.findBackendFactory(backendName) === null) return false;
  const existing = tf.getKernel(CONV_FILTER_GRADIENT_KERNEL, backendName);
  if (existing) return existing.kernelFunc === registered;
  const config = conv2dBackpropFilterKernel(backendName);
  tf.registerKernel(config);
  registered = config.kernelFunc;
  return true;
}

let registered: tf.KernelFunc | undefined;
