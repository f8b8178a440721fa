// The benchmark child of `npm run bench`: one model on one engine per process, so peak RSS belongs to that engine alone.
// Separate from scripts/bench/bench.ts so the parent (options, --help, the table) never loads TensorFlow.js.
import os from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { loadDataset } from '../../lib/data/datasets.js';
import type { EngineName } from '../../lib/core/choices.js';
import { initEngine, type EngineReport } from '../../lib/engine/engine.js';
import { createCnn, trainCnn } from '../../lib/ml/cnn.js';
import { createMlp } from '../../lib/ml/model.js';
import { measureMatmulFloor, type FloorMeasurement } from '../../lib/engine/floor.js';
import { median, peakRssMiB } from '../../lib/core/stats.js';
import { trainModel } from '../../lib/ml/train.js';
import type { Split } from '../../lib/data/types.js';
import type { CnnTrainOptions } from '../../lib/ml/cnn.js';
import type { TrainData } from '../../lib/ml/train.js';

/** The model a benchmark trains: the MLP of record, or the kit's CNN (lib/ml/cnn.ts defaults). */
export type BenchModel = 'mlp' | 'cnn';

/** A fresh model of that kind and one call that trains it (the kit's own loop for each). */
function benchModel(kind: BenchModel) {
  if (kind === 'cnn') {
    const { model, config } = createCnn();
    return {
      model,
      config,
      train: (data: TrainData, options: CnnTrainOptions) => trainCnn(model, config, data, options),
    };
  }
  const { model, config } = createMlp();
  return {
    model,
    config,
    train: (data: TrainData, options: CnnTrainOptions) => trainModel(model, config, data, options),
  };
}

export interface EngineResult {
  engine: EngineName | string;
  model?: BenchModel;
  available: boolean;
  reason?: string;
  epochs?: number[];
  secondsPerEpoch?: number;
  minMax?: [number, number];
  samplesPerSecond?: number;
  peakRssMiB?: number;
  extrapolated?: boolean;
  testAccuracy?: number;
  profile?: Array<{ kernel: string; ms: number; calls: number }>;
  /** `npm run bench -- --rounds N`: which round, and the load average when the row finished. */
  round?: number;
  load?: string;
  /** Threads the engine computes with: XNNPACK's pool on wasm (MNIST_ENGINE_THREADS), TensorFlow's natively. */
  threads?: number;
  /** wasm only: the same loop with TensorFlow.js's stock matMul gradient, timed on a slice. */
  stockSecondsPerEpoch?: number;
  /** The step's matrix products alone on this engine: no loop can be faster. */
  floor?: Pick<FloorMeasurement, 'secondsPerEpoch' | 'gflopsPerSecond' | 'msPerStep'> & {
    products: Array<{ label: string; ms: number }>;
  };
}

/** Times `batches` steps of the loop with the stock dense gradient; extrapolates to a full epoch. */
async function stockGradientEpoch(
  train: Split,
  batchSize: number,
  batches: number,
): Promise<number> {
  const n = batches * batchSize;
  const slice: Split = {
    images: train.images.subarray(0, n * 784),
    labels: train.labels.subarray(0, n),
    count: n,
  };
  const { model, config } = createMlp();
  const result = await trainModel(
    model,
    config,
    { train: slice },
    { epochs: 2, batchSize, evaluate: false, gradients: 'tape' },
  );
  model.dispose();
  return (result.history[1].seconds * train.count) / n;
}

async function profileKernels(
  kind: BenchModel,
  train: Split,
  batchSize: number,
): Promise<EngineResult['profile']> {
  const { model, train: run } = benchModel(kind);
  const slice: Split = {
    images: train.images.subarray(0, 30 * batchSize * 784),
    labels: train.labels.subarray(0, 30 * batchSize),
    count: 30 * batchSize,
  };
  await run({ train: slice }, { epochs: 1, batchSize, evaluate: false }); // warm-up
  const info = await tf.profile(async () => {
    await run({ train: slice }, { epochs: 1, batchSize, evaluate: false });
  });
  const byKernel = new Map<string, { ms: number; calls: number }>();
  for (const k of info.kernels) {
    const key = `${k.name} ${JSON.stringify(k.inputShapes)}`;
    const entry = byKernel.get(key) ?? { ms: 0, calls: 0 };
    entry.ms += Number(k.kernelTimeMs) || 0;
    entry.calls++;
    byKernel.set(key, entry);
  }
  model.dispose();
  return [...byKernel.entries()]
    .map(([kernel, v]) => ({ kernel, ms: v.ms / 30, calls: v.calls / 30 }))
    .sort((a, b) => b.ms - a.ms)
    .slice(0, 15);
}

function floorOf(f: FloorMeasurement): EngineResult['floor'] {
  const products = f.products.map((p) => ({
    label: `${p.label} ${p.a.join('×')}·${p.b.join('×')}`,
    ms: p.ms,
  }));
  return {
    secondsPerEpoch: f.secondsPerEpoch,
    gflopsPerSecond: f.gflopsPerSecond,
    msPerStep: f.msPerStep,
    products,
  };
}

/** Runs in the child: one engine, fresh process, so peak RSS belongs to that engine alone. */
export async function child(
  kind: BenchModel,
  engine: EngineName,
  epochs: number,
  batchSize: number,
  cpuBatches: number,
  profile: boolean,
): Promise<EngineResult> {
  let report: EngineReport;
  try {
    report = await initEngine(engine);
  } catch (error) {
    return { engine, available: false, reason: (error as Error).message };
  }
  // wasm: XNNPACK's pool as the engine reports it (MNIST_ENGINE_THREADS, else the cores available).
  const threads = report.threads ?? (engine === 'cpu' ? 1 : os.cpus().length);
  const data = await loadDataset({ dataset: 'mnist', validationSize: 0 });
  const extrapolated = engine === 'cpu';
  const n = extrapolated ? Math.min(cpuBatches * batchSize, data.train.count) : data.train.count;
  const train: Split = {
    images: data.train.images.subarray(0, n * 784),
    labels: data.train.labels.subarray(0, n),
    count: n,
  };
  const { config, train: run } = benchModel(kind);
  const result = await run(
    { train, test: extrapolated ? undefined : data.test },
    { epochs: extrapolated ? 2 : epochs, batchSize },
  );
  const scale = data.train.count / n;
  const seconds = result.history.map((m) => m.seconds * scale);
  const steady = seconds.length > 1 ? seconds.slice(1) : seconds;
  // The matmul floor and the stock matMul gradient concern the MLP's dense layers: no CNN counterpart.
  const mlpOnly = 'hidden' in config;
  return {
    engine,
    model: kind,
    available: true,
    threads,
    epochs: seconds,
    secondsPerEpoch: median(steady),
    minMax: [Math.min(...steady), Math.max(...steady)],
    samplesPerSecond: data.train.count / median(steady),
    peakRssMiB: Math.round(peakRssMiB()),
    extrapolated,
    testAccuracy: result.history.at(-1)?.testAccuracy,
    profile: profile ? await profileKernels(kind, data.train, batchSize) : undefined,
    stockSecondsPerEpoch:
      mlpOnly && engine === 'wasm'
        ? await stockGradientEpoch(data.train, batchSize, cpuBatches)
        : undefined,
    floor: mlpOnly
      ? floorOf(measureMatmulFloor(config, batchSize, data.train.count, extrapolated ? 2 : 20))
      : undefined,
  };
}
