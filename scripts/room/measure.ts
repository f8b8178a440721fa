// `tsx scripts/room/measure.ts [--quick] NOTEBOOK...`: what one learner's kernel costs (peak memory, CPU seconds) per notebook, for the room's capacity table.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseCli, runMain, usage, type DescribedOptionTable } from '../shared/options.js';
import { KitError } from '../../lib/core/errors.js';
import { projectRoot } from '../jupyter/env.js';
import { cpuSeconds, processTree, type ProcInfo } from './procs.js';

const OPTIONS = {
  quick: { type: 'boolean', describe: 'quick mode (MNIST_NB_QUICK=1: 10,000 digits, 2 epochs)' },
  help: { type: 'boolean', short: 'h', describe: 'this help' },
} as const satisfies DescribedOptionTable;

const USAGE = usage(
  {
    synopsis: ['tsx scripts/room/measure.ts [--quick] NOTEBOOK...'],
    about: [
      `Runs each notebook alone with the notebook runner (into a temporary --out-dir; the committed
      notebooks are not touched) and samples its tslab kernel every 200 ms: peak resident memory and
      CPU seconds, the per-learner figures behind docs/room.md's capacity table. Prints one JSON
      line per notebook.`,
    ],
  },
  OPTIONS,
);

interface Figures {
  notebook: string;
  quick: boolean;
  ok: boolean;
  wallSeconds: number;
  kernelPeakMiB: number;
  kernelCpuSeconds: number;
}

function isKernel(p: ProcInfo): boolean {
  try {
    return fs.readFileSync(`/proc/${p.pid}/cmdline`, 'utf8').includes('tslab');
  } catch {
    return false;
  }
}

async function measure(notebook: string, quick: boolean, outDir: string): Promise<Figures> {
  const args = ['--import', 'tsx', path.join(projectRoot, 'scripts', 'notebooks', 'notebooks.ts')];
  args.push('--out-dir', outDir, ...(quick ? ['--quick'] : []), notebook);
  const t0 = performance.now();
  const child = spawn(process.execPath, args, {
    cwd: projectRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  child.stdout.on('data', (d: Buffer) => (log += d.toString()));
  child.stderr.on('data', (d: Buffer) => (log += d.toString()));
  let peak = 0;
  // CPU ticks per kernel PID, last seen: a kernel's time is read until it exits.
  const cpu = new Map<number, number>();
  const timer = setInterval(() => {
    const kernels = processTree(child.pid as number).filter(isKernel);
    peak = Math.max(
      peak,
      kernels.reduce((s, p) => s + p.rss, 0),
    );
    for (const k of kernels) cpu.set(k.pid, k.cpuTicks);
  }, 200);
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  clearInterval(timer);
  if (code !== 0) process.stderr.write(log);
  const ticks = [...cpu.values()].reduce((s, t) => s + t, 0);
  return {
    notebook,
    quick,
    ok: code === 0,
    wallSeconds: Math.round((performance.now() - t0) / 100) / 10,
    kernelPeakMiB: Math.round(peak / 2 ** 20),
    kernelCpuSeconds: Math.round(cpuSeconds(ticks) * 10) / 10,
  };
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseCli(argv, OPTIONS, {
    min: 1,
    max: 20,
    describe: 'one or more notebook file names, e.g. 01-explore-data.ipynb',
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'room-measure-'));
  let failed = 0;
  try {
    for (const nb of positionals) {
      if (!fs.existsSync(path.join(projectRoot, 'notebooks', nb)))
        throw new KitError('notebook-missing', `${nb}: no such notebook in notebooks/`);
      const figures = await measure(nb, values.quick === true, outDir);
      if (!figures.ok) failed++;
      process.stdout.write(JSON.stringify(figures) + '\n');
    }
  } finally {
    fs.rmSync(outDir, { recursive: true, force: true });
  }
  return failed > 0 ? 1 : 0;
}

runMain(() => main(process.argv.slice(2)));
