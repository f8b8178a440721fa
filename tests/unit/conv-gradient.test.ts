// The wasm convolution filter gradient against the cpu backend's own, for the shapes CNNs here use.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { initEngine } from '../../lib/engine/engine.js';
import {
  CONV_FILTER_GRADIENT_KERNEL,
  CONV_INPUT_GRADIENT_KERNEL,
  MAX_POOL_GRADIENT_KERNEL,
  ensureConvGradient,
} from '../../lib/engine/conv-gradient.js';

type Pad = 'same' | 'valid';

/** Copies values onto the active backend so each engine computes from its own tensors. */
const onBackend = (t: tf.Tensor) => tf.tensor(t.dataSync(), t.shape);

/** ∂/∂x and ∂/∂w of Σ conv(x, w) ⊙ dy on `backend`: the gradients with `dy` as upstream gradient. */
function convGrads(
  backend: string,
  x: tf.Tensor,
  w: tf.Tensor,
  dy: tf.Tensor,
  strides: number,
  pad: Pad,
  fused?: { bias: tf.Tensor; activation: 'linear' | 'relu' },
) {
  void tf.setBackend(backend); // synchronous for a backend already initialised
  return tf.tidy(() => {
    const [xb, wb, dyb] = [x, w, dy].map(onBackend);
    const f = (a: tf.Tensor, b: tf.Tensor) => {
      const y = fused
        ? tf.fused.conv2d({
            x: a as tf.Tensor4D,
            filter: b as tf.Tensor4D,
            strides,
            pad,
            bias: onBackend(fused.bias),
            activation: fused.activation,
          })
        : tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, strides, pad);
      return tf.sum(tf.mul(y, dyb));
    };
    const [dx, dw] = tf.grads(f)([xb, wb]);
    return { dx: dx.dataSync() as Float32Array, dw: dw.dataSync() as Float32Array };
  });
}

/** Largest |a − b| relative to the largest |b|: fp32 rounding of sums over thousands of terms is ~1e-6. */
function relativeError(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return diff / scale;
}

// [input size, kernel, channels in, channels out, stride, padding]: both layers of the notebook's CNN
// (28×28×1 → 16, 13×13×16 → 32 after pooling), colour input, and strides 2 and 3 with inputs they do not
// divide, where the 'valid' case leaves rows of x unread.
const CASES: ReadonlyArray<readonly [number, number, number, number, number, Pad]> = [
  [28, 3, 1, 16, 1, 'valid'],
  [28, 3, 1, 16, 1, 'same'],
  [13, 3, 16, 32, 1, 'valid'],
  [13, 3, 16, 32, 1, 'same'],
  [28, 5, 3, 8, 2, 'same'],
  [28, 3, 3, 4, 2, 'valid'],
  [11, 3, 2, 3, 3, 'valid'],
  [10, 4, 2, 3, 3, 'same'],
];

describe('the convolution filter gradient on wasm', () => {
  before(async () => {
    await initEngine('wasm');
  });

  it('is registered for wasm by initEngine, once, and leaves the cpu backend its own kernels', () => {
    const names = [
      CONV_FILTER_GRADIENT_KERNEL,
      CONV_INPUT_GRADIENT_KERNEL,
      MAX_POOL_GRADIENT_KERNEL,
    ];
    const kernels = names.map((name) => tf.getKernel(name, 'wasm')?.kernelFunc);
    assert.ok(
      kernels.every((k) => k !== undefined),
      'wasm has all three kernels after initEngine',
    );
    assert.equal(ensureConvGradient(), true, 'a second call finds the kit kernels in place');
    assert.deepEqual(
      names.map((name) => tf.getKernel(name, 'wasm')?.kernelFunc),
      kernels,
      'and replaces nothing',
    );
    names.forEach((name, i) =>
      assert.notEqual(tf.getKernel(name, 'cpu')?.kernelFunc, kernels[i], name),
    );
  });

  for (const [size, k, cin, cout, stride, pad] of CASES) {
    it(`equals the cpu backend's: ${size}×${size}×${cin} → ${cout}, ${k}×${k}, stride ${stride}, '${pad}'`, () => {
      void tf.setBackend('cpu'); // synchronous for a backend already initialised
      const x = tf.randomNormal([4, size, size, cin], 0, 1, 'float32', 1);
      const w = tf.randomNormal([k, k, cin, cout], 0, 0.3, 'float32', 2);
      const dy = tf.randomNormal(
        tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, stride, pad).shape,
        0,
        1,
        'float32',
        3,
      );
      const cpu = convGrads('cpu', x, w, dy, stride, pad);
      const wasm = convGrads('wasm', x, w, dy, stride, pad);
      assert.ok(
        relativeError(wasm.dw, cpu.dw) < 1e-5,
        `filter gradient: relative error ${relativeError(wasm.dw, cpu.dw)}`,
      );
      assert.ok(
        relativeError(wasm.dx, cpu.dx) < 1e-5,
        `input gradient: relative error ${relativeError(wasm.dx, cpu.dx)}`,
      );
      tf.dispose([x, w, dy]);
    });
  }

  for (const activation of ['linear', 'relu'] as const) {
    it(`serves the fused conv2d + bias + ${activation} that tf.layers.conv2d runs`, () => {
      void tf.setBackend('cpu'); // synchronous for a backend already initialised
      const x = tf.randomNormal([3, 12, 12, 2], 0, 1, 'float32', 4);
      const w = tf.randomNormal([3, 3, 2, 5], 0, 0.3, 'float32', 5);
      const bias = tf.randomNormal([5], 0, 0.1, 'float32', 6);
      const dy = tf.randomNormal([3, 12, 12, 5], 0, 1, 'float32', 7);
      const cpu = convGrads('cpu', x, w, dy, 1, 'same', { bias, activation });
      const wasm = convGrads('wasm', x, w, dy, 1, 'same', { bias, activation });
      assert.ok(
        relativeError(wasm.dw, cpu.dw) < 1e-5,
        `filter gradient: relative error ${relativeError(wasm.dw, cpu.dw)}`,
      );
      assert.ok(
        relativeError(wasm.dx, cpu.dx) < 1e-5,
        `input gradient: relative error ${relativeError(wasm.dx, cpu.dx)}`,
      );
      tf.dispose([x, w, bias, dy]);
    });
  }

  // [input size, channels, pool size, stride, padding]: the CNN's two pools, overlapping windows, 'same'.
  for (const [size, c, pool, stride, pad] of [
    [26, 16, 2, 2, 'valid'],
    [11, 32, 2, 2, 'valid'],
    [11, 3, 3, 2, 'same'],
    [7, 2, 3, 1, 'same'],
  ] as const) {
    it(`max-pool gradient equals the cpu backend's, ties included: ${size}×${size}×${c}, pool ${pool}, stride ${stride}, '${pad}'`, () => {
      void tf.setBackend('cpu'); // synchronous for a backend already initialised
      // Values 0..4 only: many windows hold their maximum twice, where the first one must win.
      const x = tf.round(tf.mul(tf.randomUniform([3, size, size, c], 0, 1, 'float32', 11), 4));
      const grad = (backend: string) => {
        void tf.setBackend(backend); // synchronous for a backend already initialised
        return tf.tidy(() => {
          const xb = onBackend(x) as tf.Tensor4D;
          const shape = tf.maxPool(xb, pool, stride, pad).shape;
          const weights = tf.reshape(tf.range(1, 1 + shape.reduce((a, b) => a * b)), shape);
          return tf
            .grad((t: tf.Tensor) =>
              tf.sum(tf.mul(tf.maxPool(t as tf.Tensor4D, pool, stride, pad), weights)),
            )(xb)
            .dataSync();
        });
      };
      assert.deepEqual(grad('wasm'), grad('cpu'));
      x.dispose();
    });
  }

  it('frees its intermediate tensors (counted by the wasm backend itself, not only by the engine)', () => {
    void tf.setBackend('wasm'); // synchronous for a backend already initialised
    const x = tf.randomNormal([2, 9, 9, 2], 0, 1, 'float32', 8);
    const w = tf.randomNormal([3, 3, 2, 4], 0, 1, 'float32', 9);
    const dy = tf.ones([2, 4, 4, 4]);
    convGrads('wasm', x, w, dy, 2, 'valid');
    const dataIds = tf.backend().numDataIds();
    const bytes = tf.memory().numBytes;
    for (let i = 0; i < 3; i++) convGrads('wasm', x, w, dy, 2, 'valid');
    assert.equal(tf.backend().numDataIds(), dataIds);
    assert.equal(tf.memory().numBytes, bytes);
    tf.dispose([x, w, dy]);
  });

  it('rejects channels-first data and dilated convolutions with a clear error', () => {
    void tf.setBackend('wasm'); // synchronous for a backend already initialised
    const x = tf.ones([1, 6, 6, 1]);
    const dy = tf.ones([1, 4, 4, 2]);
    assert.throws(
      () =>
        tf
          .engine()
          .runKernel(
            CONV_FILTER_GRADIENT_KERNEL,
            { x, dy },
            { strides: 1, pad: 'valid', dataFormat: 'NCHW', filterShape: [3, 3, 1, 2] },
          ),
      /Conv2DBackpropFilter on wasm: dataFormat 'NCHW' is not supported; expected 'NHWC'/,
    );
    const w = tf.ones([3, 3, 1, 2]);
    assert.throws(
      () =>
        tf.grad((f: tf.Tensor) =>
          tf.sum(tf.conv2d(x as tf.Tensor4D, f as tf.Tensor4D, 1, 'valid', 'NHWC', 2)),
        )(w),
      /dilation rates greater than 1 are not yet supported/,
    );
  });

  it('lets tf.layers train a small CNN on wasm (one model.fit step lowers nothing to NaN)', async () => {
    void tf.setBackend('wasm'); // synchronous for a backend already initialised
    const model = tf.sequential({
      layers: [
        tf.layers.conv2d({
          inputShape: [8, 8, 1],
          filters: 4,
          kernelSize: 3,
          activation: 'relu',
          kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }),
        }),
        tf.layers.flatten(),
        tf.layers.dense({
          units: 2,
          activation: 'softmax',
          kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }),
        }),
      ],
    });
    model.compile({ optimizer: tf.train.sgd(0.1), loss: 'categoricalCrossentropy' });
    const kernelBefore = model.layers[0].getWeights()[0].dataSync().slice();
    const xs = tf.randomUniform([16, 8, 8, 1], 0, 1, 'float32', 10);
    const ys = tf.oneHot(
      tf.tensor1d(
        Array.from({ length: 16 }, (_, i) => i % 2),
        'int32',
      ),
      2,
    );
    const history = await model.fit(xs, ys, {
      epochs: 1,
      batchSize: 16,
      shuffle: false,
      verbose: 0,
    });
    assert.ok(Number.isFinite(history.history.loss[0] as number));
    const kernelAfter = model.layers[0].getWeights()[0].dataSync();
    assert.ok(
      kernelAfter.some((v, i) => v !== kernelBefore[i]),
      'the convolution kernel was updated',
    );
    model.dispose();
  });
});
