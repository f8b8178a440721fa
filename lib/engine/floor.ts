// The matrix products one training step must compute, and how fast this engine runs them: the speed floor.
import * as tf from '@tensorflow/tfjs';

/** The layer sizes of a dense network (an MlpConfig has them): all the floor needs to know of the model. */
export interface DenseShape {
  readonly inputSize: number;
  readonly hidden: readonly number[];
  readonly numClasses: number;
}

/** One matrix product a·b with a: [m, k] and b: [k, n]. */
export interface Product {
  readonly label: string;
  readonly a: readonly [number, number];
  readonly b: readonly [number, number];
  /** 2·m·k·n: one multiply and one add per term. */
  readonly flops: number;
}

function product(label: string, m: number, k: number, n: number): Product {
  return { label, a: [m, k], b: [k, n], flops: 2 * m * k * n };
}

/**
 * The products of one step of the training loop on a batch of `batchSize`: per dense layer the forward
 * x·W, the weight gradient xᵀ·dz and, except for the first layer (nobody needs ∂loss/∂pixels), the input
 * gradient dz·Wᵀ. Shapes as the wasm path runs them (transposes made explicit); the same FLOPs everywhere.
 */
export function stepProducts(config: DenseShape, batchSize: number): Product[] {
  const sizes = [config.inputSize, ...config.hidden, config.numClasses];
  const products: Product[] = [];
  for (let l = 0; l < sizes.length - 1; l++) {
    const [k, n] = [sizes[l], sizes[l + 1]];
    products.push(product(`layer ${l + 1} forward x·W`, batchSize, k, n));
    products.push(product(`layer ${l + 1} weight gradient xᵀ·dz`, k, batchSize, n));
    if (l > 0) products.push(product(`layer ${l + 1} input gradient dz·Wᵀ`, batchSize, n, k));
  }
  return products;
}

export interface FloorMeasurement {
  /** Milliseconds for all of a step's products (the fastest of `reps` timings of each, summed). */
  readonly msPerStep: number;
  readonly flopsPerStep: number;
  readonly gflopsPerSecond: number;
  /** msPerStep × steps per epoch: no loop on this engine can train an epoch faster. */
  readonly secondsPerEpoch: number;
  readonly products: ReadonlyArray<Product & { readonly ms: number }>;
}

/**
 * Times each product of a step on the current engine, on random operands that stay the same between
 * repetitions (so XNNPACK reuses its packed weights: the pure multiply cost), the fastest of `reps` runs.
 * The sum is the floor under any training loop at this batch size: everything else a step does
 * (activations, dropout, loss, Adam, bookkeeping) only adds to it.
 */
export function measureMatmulFloor(
  config: DenseShape,
  batchSize: number,
  trainCount: number,
  reps = 20,
): FloorMeasurement {
  const timed = stepProducts(config, batchSize).map((p) => {
    const [a, b] = tf.tidy(() => [tf.randomNormal([...p.a]), tf.randomNormal([...p.b])]);
    const run = () => tf.tidy(() => void tf.matMul(a, b).dataSync());
    run(); // warm-up: kernel set-up and weight packing
    let best = Infinity;
    for (let i = 0; i < reps; i++) {
      const started = performance.now();
      run();
      best = Math.min(best, performance.now() - started);
    }
    tf.dispose([a, b]);
    return { ...p, ms: best };
  });
  const msPerStep = timed.reduce((s, p) => s + p.ms, 0);
  const flopsPerStep = timed.reduce((s, p) => s + p.flops, 0);
  return {
    msPerStep,
    flopsPerStep,
    gflopsPerSecond: flopsPerStep / msPerStep / 1e6,
    // A last, partial batch costs in proportion to its size.
    secondsPerEpoch: (msPerStep * trainCount) / batchSize / 1000,
    products: timed,
  };
}
