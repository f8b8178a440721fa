// `npm run bench`: seconds per epoch, samples/s and peak memory of the model of record (or the CNN) on each available engine.
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import { intOption, parseCli, runMain } from '../lib/cli/options.js';
import type { EngineName } from '../lib/ml/engine.js';
import { formatPercent } from '../lib/core/format.js';
import type { BenchModel, EngineResult } from './bench-child.js';

const ENGINES = ['tensorflow', 'wasm', 'cpu'] as const;

const MODELS = ['mlp', 'cnn'] as const;

const OPTIONS = {
  model: { type: 'string', choices: MODELS },
  epochs: { type: 'string', expects: 'an integer from 1 to 1000' },
  'batch-size': { type: 'string', expects: 'an integer from 1 to 60000' },
  engines: { type: 'string', choices: ENGINES, list: true },
  'cpu-batches': { type: 'string', expects: 'an integer from 1 to 10000' },
  profile: { type: 'boolean' },
  json: { type: 'boolean' },
  child: { type: 'string', choices: ENGINES },
  help: { type: 'boolean', short: 'h' },
} as const;

const USAGE = `Usage: npm run bench -- [--model mlp|cnn] [--epochs 3] [--batch-size 128] [--engines tensorflow,wasm,cpu] [--cpu-batches 40 (cnn: 4)] [--profile] [--json]

Trains the model of record on the full 60,000 MNIST training images (no validation split) on each engine
that loads here, one child process per engine, and prints seconds/epoch (median of the epochs after the
first, with min–max), samples/s, peak RSS, and the matmul floor: the step's matrix products alone timed on
that engine, which no training loop can beat. The plain-JS cpu engine is ~30× slower: it is timed on
--cpu-batches batches and its epoch time extrapolated (marked "≈"); so is, on wasm, the same loop with
TensorFlow.js's stock matMul gradient, for comparison. --profile adds the top kernels by time.

--model cnn times the kit's CNN (conv 16 → pool → conv 32 → pool → dense 64 → 10, 56,714 parameters)
the same way instead; the matmul floor and the stock-gradient comparison concern the MLP's dense layers
and are skipped for it. Its cpu timing uses 4 batches unless --cpu-batches says otherwise (a CNN batch
takes seconds on the plain-JS engine).

Environment: MNIST_ENGINE_THREADS=N runs the wasm engine on N XNNPACK threads (1 to 8; default: the
cores this process may use; 1 = the single-threaded build). Each row says the threads it ran on.
`;

function format(r: EngineResult): string {
  if (!r.available) return `${r.engine.padEnd(11)} not available: ${r.reason}`;
  const approx = r.extrapolated ? '≈' : ' ';
  const lines = [
    `${r.engine.padEnd(11)}${approx}${r.secondsPerEpoch!.toFixed(2).padStart(7)} s/epoch (min–max ${r.minMax![0].toFixed(2)}–${r.minMax![1].toFixed(2)})` +
      `  ${Math.round(r.samplesPerSecond!).toLocaleString('en-US').padStart(7)} samples/s  peak RSS ${r.peakRssMiB} MiB  threads ${r.threads}` +
      (r.testAccuracy !== undefined
        ? `  test acc ${formatPercent(r.testAccuracy, 2)} after ${r.epochs!.length} epochs`
        : ''),
  ];
  if (r.stockSecondsPerEpoch !== undefined) {
    lines.push(
      `  (same loop with TensorFlow.js's stock matMul gradient: ≈${r.stockSecondsPerEpoch.toFixed(2)} s/epoch, ${(r.stockSecondsPerEpoch / r.secondsPerEpoch!).toFixed(1)}× slower)`,
    );
  }
  if (r.floor) {
    const f = r.floor;
    lines.push(
      `  matmul floor: ${f.secondsPerEpoch.toFixed(2)} s/epoch (the step's ${f.products.length} matrix products alone, ${f.msPerStep.toFixed(2)} ms/step at ` +
        `${f.gflopsPerSecond.toFixed(1)} GFLOP/s); the loop takes ${(r.secondsPerEpoch! / f.secondsPerEpoch).toFixed(1)}× that`,
    );
    if (r.profile)
      for (const p of f.products) lines.push(`    ${p.ms.toFixed(3).padStart(8)} ms  ${p.label}`);
  }
  for (const p of r.profile ?? [])
    lines.push(
      `    ${p.ms.toFixed(3).padStart(8)} ms/step  ${String(p.calls).padStart(3)}×  ${p.kernel}`,
    );
  return lines.join('\n');
}

async function main(): Promise<number> {
  const { values } = parseCli(process.argv.slice(2), OPTIONS);
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const epochs = intOption('--epochs', values.epochs ?? '3', 1, 1000);
  const batchSize = intOption('--batch-size', values['batch-size'] ?? '128', 1, 60_000);
  const model = (values.model ?? 'mlp') as BenchModel;
  // The cpu engine's convolution gradients are far slower than its matMul: a CNN batch takes seconds there.
  const cpuBatches = intOption(
    '--cpu-batches',
    values['cpu-batches'] ?? (model === 'cnn' ? '4' : '40'),
    1,
    10_000,
  );
  const engines = (values.engines ?? ENGINES.join(',')).split(',').map((e) => e.trim());
  if (values.child) {
    const { child } = await import('./bench-child.js');
    process.stdout.write(
      JSON.stringify(
        await child(
          model,
          values.child as EngineName,
          epochs,
          batchSize,
          cpuBatches,
          values.profile === true,
        ),
      ) + '\n',
    );
    return 0;
  }
  const what =
    model === 'cnn'
      ? 'CNN (conv 16 → pool → conv 32 → pool → dense 64 → 10, 56,714 parameters)'
      : 'model of record';
  const header = `${what}, full MNIST (60,000), batch ${batchSize}, ${epochs} epochs; ${os.cpus().length} × ${os.cpus()[0]?.model.trim()}, Node ${process.version}`;
  const note =
    model === 'cnn'
      ? 'matmul floor and stock-gradient comparison: MLP only (dense layers), skipped for the CNN'
      : undefined;
  if (!values.json) process.stdout.write(header + '\n' + (note ? note + '\n' : ''));
  const results: EngineResult[] = [];
  for (const engine of engines) {
    const args = [
      '--import',
      'tsx',
      'scripts/bench.ts',
      '--child',
      engine,
      '--model',
      model,
      '--epochs',
      String(epochs),
      '--batch-size',
      String(batchSize),
      '--cpu-batches',
      String(cpuBatches),
      ...(values.profile ? ['--profile'] : []),
    ];
    const run = spawnSync(process.execPath, args, {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const line = run.stdout.trim().split('\n').pop() ?? '';
    const result: EngineResult =
      run.status === 0 && line.startsWith('{')
        ? JSON.parse(line)
        : { engine, available: false, reason: `benchmark process failed (exit ${run.status})` };
    results.push(result);
    if (!values.json) process.stdout.write(format(result) + '\n');
  }
  if (values.json)
    process.stdout.write(
      JSON.stringify({ header, model, ...(note ? { note } : {}), results }) + '\n',
    );
  return 0;
}

runMain(main);
