// `npm run bench`: seconds per epoch, samples/s and peak memory of the model of record on each available engine.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import os from 'node:os';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { loadDataset } from '../lib/data/datasets.js';
import { initEngine, type EngineName } from '../lib/ml/engine.js';
import { createMlp } from '../lib/ml/model.js';
import { measureMatmulFloor, type FloorMeasurement } from '../lib/ml/floor.js';
import { formatPercent } from '../lib/core/format.js';
import { median, peakRssMiB } from '../lib/core/stats.js';
import { standardDense } from '../lib/ml/forward.js';
import { trainModel } from '../lib/ml/train.js';
import type { Split } from '../lib/data/types.js';

const USAGE = `Usage: npm run bench -- [--epochs 3] [--batch-size 128] [--engines tensorflow,wasm,cpu] [--cpu-batches 40] [--profile] [--json]

Trains the model of record on the full 60,000 MNIST training images (no validation split) on each engine
that loads here, one child process per engine, and prints seconds/epoch (median of the epochs after the
first, with min–max), samples/s, peak RSS, and the matmul floor: the step's matrix products alone timed on
that engine, which no training loop can beat. The plain-JS cpu engine is ~30× slower: it is timed on
--cpu-batches batches and its epoch time extrapolated (marked "≈"); so is, on wasm, the same loop with
TensorFlow.js's stock matMul gradient, for comparison. --profile adds the top kernels by time.
`;

interface EngineResult {
  engine: EngineName | string;
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
  /** Threads the engine computes with: XNNPACK's pool on wasm (1 in Node), TensorFlow's pool natively. */
  threads?: number;
  /** wasm only: the same loop with TensorFlow.js's stock matMul gradient, timed on a slice. */
  stockSecondsPerEpoch?: number;
  /** The step's matrix products alone on this engine: no loop can be faster. */
  floor?: Pick<FloorMeasurement, 'secondsPerEpoch' | 'gflopsPerSecond' | 'msPerStep'> & { products: Array<{ label: string; ms: number }> };
}

/** Times `batches` steps of the loop with the stock dense gradient; extrapolates to a full epoch. */
async function stockGradientEpoch(train: Split, batchSize: number, batches: number): Promise<number> {
  const n = batches * batchSize;
  const slice: Split = { images: train.images.subarray(0, n * 784), labels: train.labels.subarray(0, n), count: n };
  const { model, config } = createMlp();
  const result = await trainModel(model, config, { train: slice }, { epochs: 2, batchSize, evaluate: false, dense: standardDense });
  model.dispose();
  return (result.history[1].seconds * train.count) / n;
}

async function profileKernels(train: Split, batchSize: number): Promise<EngineResult['profile']> {
  const { model, config } = createMlp();
  const slice: Split = { images: train.images.subarray(0, 30 * batchSize * 784), labels: train.labels.subarray(0, 30 * batchSize), count: 30 * batchSize };
  await trainModel(model, config, { train: slice }, { epochs: 1, batchSize, evaluate: false }); // warm-up
  const info = await tf.profile(async () => {
    await trainModel(model, config, { train: slice }, { epochs: 1, batchSize, evaluate: false });
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
  return [...byKernel.entries()].map(([kernel, v]) => ({ kernel, ms: v.ms / 30, calls: v.calls / 30 })).sort((a, b) => b.ms - a.ms).slice(0, 15);
}

function floorOf(f: FloorMeasurement): EngineResult['floor'] {
  const products = f.products.map((p) => ({ label: `${p.label} ${p.a.join('×')}·${p.b.join('×')}`, ms: p.ms }));
  return { secondsPerEpoch: f.secondsPerEpoch, gflopsPerSecond: f.gflopsPerSecond, msPerStep: f.msPerStep, products };
}

function wasmThreads(): number {
  // The package's own report; 1 in Node, where tfjs-backend-wasm 4.22 disables its threaded build (which would
  // size its pool to half the logical cores anyway: 1 on a 2-vCPU machine).
  const wasm = createRequire(import.meta.url)('@tensorflow/tfjs-backend-wasm') as { getThreadsCount(): number };
  return wasm.getThreadsCount();
}

/** Runs in the child: one engine, fresh process, so peak RSS belongs to that engine alone. */
async function child(engine: EngineName, epochs: number, batchSize: number, cpuBatches: number, profile: boolean): Promise<EngineResult> {
  try {
    await initEngine(engine);
  } catch (error) {
    return { engine, available: false, reason: (error as Error).message };
  }
  const threads = engine === 'wasm' ? wasmThreads() : engine === 'cpu' ? 1 : os.cpus().length;
  const data = await loadDataset({ dataset: 'mnist', validationSize: 0 });
  const extrapolated = engine === 'cpu';
  const n = extrapolated ? Math.min(cpuBatches * batchSize, data.train.count) : data.train.count;
  const train: Split = { images: data.train.images.subarray(0, n * 784), labels: data.train.labels.subarray(0, n), count: n };
  const { model, config } = createMlp();
  const result = await trainModel(model, config, { train, test: extrapolated ? undefined : data.test }, { epochs: extrapolated ? 2 : epochs, batchSize });
  const scale = data.train.count / n;
  const seconds = result.history.map((m) => m.seconds * scale);
  const steady = seconds.length > 1 ? seconds.slice(1) : seconds;
  return {
    engine,
    available: true,
    threads,
    epochs: seconds,
    secondsPerEpoch: median(steady),
    minMax: [Math.min(...steady), Math.max(...steady)],
    samplesPerSecond: data.train.count / median(steady),
    peakRssMiB: Math.round(peakRssMiB()),
    extrapolated,
    testAccuracy: result.history.at(-1)?.testAccuracy,
    profile: profile ? await profileKernels(data.train, batchSize) : undefined,
    stockSecondsPerEpoch: engine === 'wasm' ? await stockGradientEpoch(data.train, batchSize, cpuBatches) : undefined,
    floor: floorOf(measureMatmulFloor(config, batchSize, data.train.count, extrapolated ? 2 : 20)),
  };
}

function format(r: EngineResult): string {
  if (!r.available) return `${r.engine.padEnd(11)} not available: ${r.reason}`;
  const approx = r.extrapolated ? '≈' : ' ';
  const lines = [
    `${r.engine.padEnd(11)}${approx}${r.secondsPerEpoch!.toFixed(2).padStart(7)} s/epoch (min–max ${r.minMax![0].toFixed(2)}–${r.minMax![1].toFixed(2)})` +
      `  ${Math.round(r.samplesPerSecond!).toLocaleString('en-US').padStart(7)} samples/s  peak RSS ${r.peakRssMiB} MiB  threads ${r.threads}` +
      (r.testAccuracy !== undefined ? `  test acc ${formatPercent(r.testAccuracy, 2)} after ${r.epochs!.length} epochs` : ''),
  ];
  if (r.stockSecondsPerEpoch !== undefined) {
    lines.push(`  (same loop with TensorFlow.js's stock matMul gradient: ≈${r.stockSecondsPerEpoch.toFixed(2)} s/epoch, ${(r.stockSecondsPerEpoch / r.secondsPerEpoch!).toFixed(1)}× slower)`);
  }
  if (r.floor) {
    const f = r.floor;
    lines.push(
      `  matmul floor: ${f.secondsPerEpoch.toFixed(2)} s/epoch (the step's ${f.products.length} matrix products alone, ${f.msPerStep.toFixed(2)} ms/step at ` +
        `${f.gflopsPerSecond.toFixed(1)} GFLOP/s); the loop takes ${(r.secondsPerEpoch! / f.secondsPerEpoch).toFixed(1)}× that`,
    );
    if (r.profile) for (const p of f.products) lines.push(`    ${p.ms.toFixed(3).padStart(8)} ms  ${p.label}`);
  }
  for (const p of r.profile ?? []) lines.push(`    ${p.ms.toFixed(3).padStart(8)} ms/step  ${String(p.calls).padStart(3)}×  ${p.kernel}`);
  return lines.join('\n');
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      epochs: { type: 'string', default: '3' },
      'batch-size': { type: 'string', default: '128' },
      engines: { type: 'string', default: 'tensorflow,wasm,cpu' },
      'cpu-batches': { type: 'string', default: '40' },
      profile: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      child: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const epochs = Number(values.epochs);
  const batchSize = Number(values['batch-size']);
  const cpuBatches = Number(values['cpu-batches']);
  for (const [name, v] of [['--epochs', epochs], ['--batch-size', batchSize], ['--cpu-batches', cpuBatches]] as const) {
    if (!Number.isInteger(v) || v < 1) {
      process.stderr.write(`error: ${name}: expected a positive integer\n`);
      return 2;
    }
  }
  if (values.child) {
    process.stdout.write(JSON.stringify(await child(values.child as EngineName, epochs, batchSize, cpuBatches, values.profile)) + '\n');
    return 0;
  }
  const header = `model of record, full MNIST (60,000), batch ${batchSize}, ${epochs} epochs; ${os.cpus().length} × ${os.cpus()[0]?.model.trim()}, Node ${process.version}`;
  if (!values.json) process.stdout.write(header + '\n');
  const results: EngineResult[] = [];
  for (const engine of values.engines.split(',').map((e) => e.trim())) {
    const args = ['--import', 'tsx', 'scripts/bench.ts', '--child', engine, '--epochs', String(epochs), '--batch-size', String(batchSize), '--cpu-batches', String(cpuBatches), ...(values.profile ? ['--profile'] : [])];
    const run = spawnSync(process.execPath, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    const line = run.stdout.trim().split('\n').pop() ?? '';
    const result: EngineResult = run.status === 0 && line.startsWith('{') ? JSON.parse(line) : { engine, available: false, reason: `benchmark process failed (exit ${run.status})` };
    results.push(result);
    if (!values.json) process.stdout.write(format(result) + '\n');
  }
  if (values.json) process.stdout.write(JSON.stringify({ header, results }) + '\n');
  return 0;
}

process.exitCode = await main();
