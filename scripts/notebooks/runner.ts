// Runs one notebook through scripts/notebooks/nbrun.py and commits its executed copy and figures atomically on success.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as readline from 'node:readline';
import type { Readable } from 'node:stream';
import { ToolMissingError } from '../../lib/core/errors.js';
import { plotlyBundlePath } from '../../lib/viz/render.js';
import { installHint, kernelName, projectRoot } from '../jupyter/env.js';

const driver = path.join(projectRoot, 'scripts', 'notebooks', 'nbrun.py');

/** The one plotly.js every figures/<notebook>/<name>.html loads, beside the notebook folders. */
export const sharedPlotlyName = 'plotly.min.js';

/** Seconds the driver gets to shut its kernel down after SIGTERM before it is killed. */
const driverGraceMs = 10_000;

export interface RunOptions {
  notebook: string; // absolute path of the notebook to execute (never modified unless it is `output`)
  output: string; // absolute path the executed notebook is written to
  figures: string; // absolute path of this notebook's figures folder, replaced as a whole
  python: string;
  env: NodeJS.ProcessEnv; // Jupyter environment; the MNIST_NB_* figure contract is added here
  timeoutS: number; // per cell, 0 = none
  quick: boolean;
  verbose: boolean;
  signal: AbortSignal; // aborting it interrupts the run: kernel killed, temp files removed, nothing replaced
  onEvent: (event: DriverEvent) => void;
  onKernelOutput: (text: string) => void;
}

/** One line of the driver's protocol (see scripts/notebooks/nbrun.py). */
export interface DriverEvent {
  event: string;
  [field: string]: unknown;
}

export interface CellFailure {
  index: number; // 0-based position among all cells
  codeIndex: number; // 1-based among code cells
  codeTotal: number;
  reason: string;
  message: string;
  source: string;
  error: string;
}

export type NotebookStatus = 'passed' | 'failed' | 'interrupted';

export interface NotebookResult {
  status: NotebookStatus;
  seconds: number;
  figures: number; // distinct figure names written (NAME.png + NAME.html count once)
  kernelStartS?: number;
  failure?: CellFailure;
  fatal?: string; // driver error that is not a cell failure, with the kernel output tail
}

export async function runNotebook(opts: RunOptions): Promise<NotebookResult> {
  const started = performance.now();
  const name = path.basename(opts.notebook, '.ipynb');
  const figuresRoot = path.dirname(opts.figures);
  fs.mkdirSync(figuresRoot, { recursive: true });
  fs.mkdirSync(path.dirname(opts.output), { recursive: true });
  const staging = fs.mkdtempSync(path.join(figuresRoot, `.${name}.staging-`));
  const tmpOutput = `${opts.output}.tmp-${process.pid}`;
  try {
    const outcome = await runDriver(opts, name, staging, tmpOutput);
    const seconds = (performance.now() - started) / 1000;
    if (outcome.status !== 'passed') return { ...outcome, seconds, figures: 0 };
    // Synchronous, so a signal handler cannot run between the renames.
    const figures = commit(staging, opts.figures, tmpOutput, opts.output);
    return { ...outcome, seconds, figures };
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
    fs.rmSync(tmpOutput, { force: true });
  }
}

interface Outcome {
  status: NotebookStatus;
  kernelStartS?: number;
  failure?: CellFailure;
  fatal?: string;
}

async function runDriver(
  opts: RunOptions,
  name: string,
  staging: string,
  tmpOutput: string,
): Promise<Outcome> {
  const env: NodeJS.ProcessEnv = {
    ...opts.env,
    MNIST_NB_STATIC: '1',
    MNIST_NB_FIGURES_DIR: staging,
    // Staging and final folders both sit in the figures root, so this relative URL holds for both.
    MNIST_NB_FIGURES_PLOTLY: `../${sharedPlotlyName}`,
    MNIST_NB_NOTEBOOK: name,
  };
  delete env.MNIST_NB_QUICK; // only --quick turns it on, so a stray shell variable cannot shrink a real run
  if (opts.quick) env.MNIST_NB_QUICK = '1';
  const args = [
    driver,
    '--notebook',
    opts.notebook,
    '--output',
    tmpOutput,
    '--cwd',
    path.dirname(opts.notebook),
  ];
  args.push('--kernel', kernelName, '--timeout', String(opts.timeoutS), '--events-fd', '3');
  if (opts.verbose) args.push('--verbose');
  const child = spawn(opts.python, args, {
    cwd: projectRoot,
    env,
    stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
  });

  let kernelPid: number | undefined;
  const outcome: Outcome = { status: 'failed' };
  let missing: ToolMissingError | undefined;
  const tail = new OutputTail();
  for (const stream of [child.stdout, child.stderr]) {
    stream?.setEncoding('utf8');
    stream?.on('data', (text: string) => {
      tail.add(text);
      opts.onKernelOutput(text);
    });
  }
  const events = readline.createInterface({ input: child.stdio[3] as Readable });
  events.on('line', (line) => {
    const event = parseEvent(line);
    if (!event) return tail.add(line + '\n');
    if (typeof event.pid === 'number') kernelPid = event.pid;
    if (event.event === 'kernel_started') outcome.kernelStartS = Number(event.seconds);
    if (event.event === 'done') outcome.status = 'passed';
    if (event.event === 'cell_failed') outcome.failure = toFailure(event);
    if (event.event === 'fatal') outcome.fatal = String(event.message);
    if (event.event === 'missing') missing = missingError(event, opts.python);
    opts.onEvent(event);
  });
  const eventsClosed = new Promise((resolve) => events.once('close', resolve));

  const onAbort = () => stopDriver(child.pid);
  opts.signal.addEventListener('abort', onAbort);
  try {
    const exit = await waitForExit(child);
    await eventsClosed;
    if (missing) throw missing;
    if (opts.signal.aborted) return { status: 'interrupted' };
    if (outcome.status === 'passed' && exit !== 0) outcome.status = 'failed';
    if (outcome.status === 'failed' && !outcome.failure && !outcome.fatal) {
      outcome.fatal = `the Python driver exited with ${exit} without a result`;
    }
    if (outcome.fatal) outcome.fatal += tail.render();
    return outcome;
  } finally {
    opts.signal.removeEventListener('abort', onAbort);
    killKernelGroup(kernelPid);
  }
}

function parseEvent(line: string): DriverEvent | undefined {
  try {
    const value: unknown = JSON.parse(line);
    return value && typeof value === 'object' && 'event' in value
      ? (value as DriverEvent)
      : undefined;
  } catch {
    return undefined;
  }
}

function toFailure(event: DriverEvent): CellFailure {
  return {
    index: Number(event.index),
    codeIndex: Number(event.code_index),
    codeTotal: Number(event.code_total),
    reason: String(event.reason),
    message: String(event.message),
    source: String(event.source ?? ''),
    error: String(event.error ?? ''),
  };
}

function missingError(event: DriverEvent, python: string): ToolMissingError {
  if (event.what === 'kernel') {
    return new ToolMissingError(
      'tslab',
      `the tslab Jupyter kernel is not available: ${String(event.detail)} (run npm install; see environment.md)`,
    );
  }
  return new ToolMissingError(
    'nbclient',
    `Jupyter's ${String(event.module || 'nbclient')} is not installed for ${python} (${installHint})`,
  );
}

function waitForExit(child: ReturnType<typeof spawn>): Promise<number> {
  return new Promise((resolve, reject) => {
    child.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT')
        reject(
          new ToolMissingError(
            'python',
            `Python for Jupyter not found: ${String(child.spawnfile)} (${installHint})`,
          ),
        );
      else reject(err);
    });
    child.once('exit', (code, signal) =>
      resolve(code ?? 128 + (signal ? signalNumber(signal) : 0)),
    );
  });
}

function signalNumber(signal: NodeJS.Signals): number {
  return signal === 'SIGKILL' ? 9 : signal === 'SIGINT' ? 2 : 15;
}

/** SIGTERM lets the driver shut its kernel down; SIGKILL follows if it hangs. */
function stopDriver(pid: number | undefined): void {
  if (pid === undefined) return;
  signalPid(pid, 'SIGTERM');
  const timer = setTimeout(() => signalPid(pid, 'SIGKILL'), driverGraceMs);
  timer.unref();
}

/**
 * jupyter_client starts the kernel in its own session (process group = its pid); if the driver died
 * without shutting it down, end that group so no tslab process outlives the run.
 */
function killKernelGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  signalPid(-pid, 'SIGKILL');
}

function signalPid(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone (ESRCH): nothing to stop
  }
}

/** Swaps the staged figures and the executed notebook in; returns the number of figures. */
function commit(staging: string, figures: string, tmpOutput: string, output: string): number {
  const count = countFigures(staging);
  if (usesSharedPlotly(staging)) ensureSharedPlotly(path.dirname(figures));
  const old = `${path.join(path.dirname(figures), '.' + path.basename(figures))}.old-${process.pid}`;
  if (fs.existsSync(figures)) fs.renameSync(figures, old);
  // An empty folder would not survive git anyway, so a notebook without figures leaves none.
  if (fs.readdirSync(staging).length > 0) fs.renameSync(staging, figures);
  fs.renameSync(tmpOutput, output);
  fs.rmSync(old, { recursive: true, force: true });
  return count;
}

/** Whether a staged figure page loads the shared plotly.js (the kit's pages do; a notebook may write others). */
function usesSharedPlotly(staging: string): boolean {
  const reference = `src="../${sharedPlotlyName}"`;
  return fs
    .readdirSync(staging)
    .filter((f) => f.endsWith('.html'))
    .some((f) => fs.readFileSync(path.join(staging, f), 'utf8').includes(reference));
}

/** Copies plotly.js to <figuresRoot>/plotly.min.js unless an identical copy is there (atomically: temp file, rename). */
function ensureSharedPlotly(figuresRoot: string): void {
  const target = path.join(figuresRoot, sharedPlotlyName);
  const source = fs.readFileSync(plotlyBundlePath());
  if (fs.existsSync(target) && fs.readFileSync(target).equals(source)) return;
  const tmp = `${target}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, source);
  fs.renameSync(tmp, target);
}

function countFigures(dir: string): number {
  const names = fs
    .readdirSync(dir)
    .filter((f) => !f.startsWith('.'))
    .map((f) => f.replace(/\.[^.]*$/, ''));
  return new Set(names).size;
}

/** Keeps the last few KiB of the kernel's and driver's own output for error messages. */
class OutputTail {
  private text = '';
  add(chunk: string): void {
    this.text = (this.text + chunk).slice(-8192);
  }
  render(): string {
    return this.text.trim()
      ? `\n--- kernel/driver output (last lines) ---\n${this.text.trimEnd()}`
      : '';
  }
}
