// `npm run notebooks`: rebuilds lib, then executes notebooks (and their worked solutions) headless with the tslab kernel and rewrites them and their figures.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { intOption, parseCli, runMain } from '../lib/cli/options.js';
import { ConfigError, KitError } from '../lib/core/errors.js';
import {
  checkPython,
  ensureKernelSpec,
  jupyterEnv,
  projectRoot,
  resolveSetup,
} from './jupyter-env.js';
import { runNotebook, type DriverEvent, type NotebookResult } from './notebook-runner.js';

const usage = `Usage: npm run notebooks -- [options] [NOTEBOOK...]

Executes notebooks with the project-local tslab kernel and rewrites them (outputs, figures/<name>/).
NOTEBOOK is a path to an .ipynb file, a name or prefix of one in notebooks/ (e.g. 03), or
solutions/ followed by a name or prefix of a worked solution in notebooks/solutions/ (e.g. solutions/04).
Default: every notebooks/*.ipynb, then every notebooks/solutions/*.ipynb, each in name order.
Runs stop at the first failure unless --keep-going.

Options:
  --quick            set MNIST_NB_QUICK=1 for the kernel: notebooks shrink data and epochs; a check,
                     so it writes to test-output/quick/ (not over the committed notebooks) unless --out-dir
  --keep-going       run the remaining notebooks after a failure
  --out-dir DIR      write executed notebooks to DIR (solutions to DIR/solutions, figures to
                     DIR/figures) instead of in place
  --figures-dir DIR  folder that holds figures/<notebook>/ folders (default: figures/ or DIR/figures)
  --timeout SECONDS  limit per cell (default 1800; 0 = none)
  --no-build         skip the \`tsc -p .\` build of lib/ (notebooks import ../build/lib/*.js)
  --verbose          echo kernel output and each cell's stdout
  -h, --help         show this help

Environment: MNIST_NB_PYTHON (Python with nbclient, default /usr/bin/python3), MNIST_NB_BROWSER
(passed to the kernel), MNIST_NB_JUPYTER_DIR (default .jupyter), MNIST_NB_TSLAB (tslab binary).
Exit status: 0 all passed, 1 a notebook failed, 2 bad arguments or missing tools, 130/143 interrupted.`;

const notebooksDir = path.join(projectRoot, 'notebooks');
const solutionsDir = path.join(notebooksDir, 'solutions');
const heartbeatMs = 30_000;

interface Options {
  targets: string[];
  quick: boolean;
  keepGoing: boolean;
  outDir?: string;
  figuresDir: string;
  timeoutS: number;
  build: boolean;
  verbose: boolean;
}

const OPTIONS = {
  quick: { type: 'boolean' },
  'keep-going': { type: 'boolean' },
  'out-dir': { type: 'string', expects: 'a folder' },
  'figures-dir': { type: 'string', expects: 'a folder' },
  timeout: { type: 'string', expects: 'a whole number of seconds (0 = no limit)' },
  'no-build': { type: 'boolean' },
  verbose: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Where a quick run writes when no --out-dir is given: its small-data outputs must not replace the committed ones. */
const quickOutDir = path.join(projectRoot, 'test-output', 'quick');

function parseOptions(argv: string[]): Options | undefined {
  const { values, positionals } = parseCli(argv, OPTIONS, {
    min: 0,
    max: Infinity,
    describe: 'notebook names, prefixes or .ipynb paths',
  });
  if (values.help) return undefined;
  const timeoutS = intOption('--timeout', values.timeout ?? '1800', 0, 1_000_000, '0 = no limit');
  const quick = values.quick === true;
  const outArg = values['out-dir'] ?? (quick ? quickOutDir : undefined);
  const outDir = outArg === undefined ? undefined : path.resolve(outArg);
  const figuresDir = path.resolve(
    values['figures-dir'] ?? path.join(outDir ?? projectRoot, 'figures'),
  );
  return {
    targets: positionals,
    quick,
    keepGoing: values['keep-going'] === true,
    outDir,
    figuresDir,
    timeoutS,
    build: values['no-build'] !== true,
    verbose: values.verbose === true,
  };
}

function availableIn(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.ipynb'))
    .sort();
}

/** Resolves paths, names and prefixes (in the order given; each prefix expands in name order). */
function selectNotebooks(targets: string[]): string[] {
  const available = availableIn(notebooksDir);
  if (targets.length === 0) {
    if (available.length === 0)
      throw new ConfigError('notebooks', `no .ipynb files in ${notebooksDir}`);
    // The teaching notebooks first, then their worked solutions.
    return [
      ...available.map((f) => path.join(notebooksDir, f)),
      ...availableIn(solutionsDir).map((f) => path.join(solutionsDir, f)),
    ];
  }
  const chosen: string[] = [];
  for (const target of targets) {
    for (const file of resolveTarget(target, available))
      if (!chosen.includes(file)) chosen.push(file);
  }
  return chosen;
}

function resolveTarget(target: string, available: string[]): string[] {
  const solution = /^solutions[\\/](.+)$/.exec(target);
  if (solution && !fs.existsSync(target))
    return matchName(solution[1], solutionsDir, availableIn(solutionsDir), 'notebooks/solutions/');
  const looksLikePath = target.includes('/') || target.includes(path.sep) || fs.existsSync(target);
  if (looksLikePath || (target.endsWith('.ipynb') && !available.includes(target))) {
    const file = path.resolve(target);
    if (!fs.existsSync(file) || !file.endsWith('.ipynb')) {
      throw new ConfigError('notebook', `${target} is not an existing .ipynb file`);
    }
    return [file];
  }
  return matchName(target, notebooksDir, available, 'notebooks/');
}

function matchName(target: string, dir: string, available: string[], where: string): string[] {
  const exact = available.filter((f) => f === target || f === `${target}.ipynb`);
  const matches = exact.length > 0 ? exact : available.filter((f) => f.startsWith(target));
  if (matches.length === 0) {
    const list = available.length > 0 ? available.join(', ') : '(none yet)';
    throw new ConfigError(
      'notebook',
      `unknown notebook "${target}"; available in ${where}: ${list}`,
    );
  }
  return matches.map((f) => path.join(dir, f));
}

/** Where an executed notebook goes: in place, or under --out-dir (solutions in its solutions/ folder). */
function outputPath(file: string, outDir: string | undefined): string {
  if (!outDir) return file;
  const sub = path.dirname(path.resolve(file)) === solutionsDir ? 'solutions' : '';
  return path.join(outDir, sub, path.basename(file));
}

/** `tsc -p .`: notebooks import the compiled lib from build/lib, so it must be fresh. */
async function build(signal: AbortSignal): Promise<void> {
  const started = performance.now();
  process.stderr.write('building lib/ (tsc -p .) ...\n');
  const tsc = path.join(projectRoot, 'node_modules', '.bin', 'tsc');
  const child = spawn(tsc, ['-p', '.'], {
    cwd: projectRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
    signal,
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const code = await new Promise<number | null>((resolve) => {
    child.once('exit', resolve);
    child.once('error', () => resolve(null));
  });
  if (signal.aborted) return;
  if (code !== 0) throw new BuildError(output.trim() || `tsc exited with ${code}`);
  process.stderr.write(`built in ${seconds(performance.now() - started)} s\n`);
}

class BuildError extends KitError {
  constructor(output: string) {
    super('build', `the build (tsc -p .) failed, so notebooks would import stale code:\n${output}`);
  }
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(1);
}

/** Progress on stderr: one line per cell, a heartbeat for long cells. */
class Progress {
  private readonly started = performance.now();
  private cellStarted = 0;
  private cellLabel = '';
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly name: string,
    private readonly verbose: boolean,
  ) {}

  onEvent(event: DriverEvent): void {
    const elapsed = seconds(performance.now() - this.started);
    if (event.event === 'kernel_started')
      this.line(`kernel started in ${Number(event.seconds).toFixed(1)} s`);
    if (event.event === 'kernel_retry')
      this.line(`kernel failed to start (${String(event.message)}); starting a fresh one`);
    if (event.event === 'kernel_launched' && this.verbose)
      this.line(`kernel pid ${String(event.pid)}`);
    if (event.event === 'cell_start') {
      this.cellLabel = `cell ${String(event.code_index)}/${String(event.code_total)}`;
      this.cellStarted = performance.now();
      if (this.verbose) this.line(`${this.cellLabel} running (elapsed ${elapsed} s)`);
      this.startHeartbeat();
    }
    if (event.event === 'cell_done' || event.event === 'cell_failed') {
      this.stopHeartbeat();
      const status =
        event.event === 'cell_failed' ? `FAILED (${String(event.reason)})` : String(event.status);
      this.line(
        `${this.cellLabel} ${status} in ${Number(event.seconds).toFixed(1)} s (elapsed ${elapsed} s)`,
      );
      if (this.verbose && typeof event.stdout === 'string' && event.stdout)
        process.stderr.write(event.stdout);
    }
  }

  stop(): void {
    this.stopHeartbeat();
  }

  private startHeartbeat(): void {
    this.stopHeartbeat();
    this.timer = setInterval(() => {
      const cell = seconds(performance.now() - this.cellStarted);
      this.line(
        `${this.cellLabel} still running (${cell} s, elapsed ${seconds(performance.now() - this.started)} s)`,
      );
    }, heartbeatMs);
  }

  private stopHeartbeat(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private line(text: string): void {
    process.stderr.write(`[${this.name}] ${text}\n`);
  }
}

function reportFailure(file: string, result: NotebookResult): void {
  const out: string[] = [];
  const f = result.failure;
  if (f) {
    out.push(
      `\nFAILED ${path.relative(process.cwd(), file) || file}: code cell ${f.codeIndex} of ${f.codeTotal} (cell index ${f.index}): ${f.message}`,
    );
    out.push('--- cell source ---', f.source.trimEnd());
    out.push(
      '--- error ---',
      withoutKernelFrames(f.error).trim() || '(the kernel sent no error text)',
    );
  } else {
    out.push(`\nFAILED ${file}: ${result.fatal ?? 'unknown error'}`);
  }
  out.push('(the notebook and its figures were left unchanged)\n');
  process.stderr.write(out.join('\n') + '\n');
}

/** Drops stack frames inside tslab and node:vm: they are the same for every cell and hide the useful ones. */
function withoutKernelFrames(text: string): string {
  const internal = /^\s+at .*(node:vm|node_modules[\\/]tslab[\\/]|sigintHandlersWrap)/;
  return text
    .split('\n')
    .filter((line) => !internal.test(line))
    .join('\n');
}

interface Row {
  name: string;
  status: string;
  seconds?: number;
  figures?: number;
}

function printSummary(rows: Row[]): void {
  const width = Math.max(8, ...rows.map((r) => r.name.length));
  const lines = [`${'notebook'.padEnd(width)}  status       seconds  figures`];
  for (const r of rows) {
    const secs = r.seconds === undefined ? '-' : r.seconds.toFixed(1);
    const figs = r.figures === undefined ? '-' : String(r.figures);
    lines.push(
      `${r.name.padEnd(width)}  ${r.status.padEnd(11)}  ${secs.padStart(7)}  ${figs.padStart(7)}`,
    );
  }
  const passed = rows.filter((r) => r.status === 'passed').length;
  const failed = rows.filter((r) => r.status === 'failed').length;
  lines.push(`${passed} passed, ${failed} failed`);
  process.stdout.write('\n' + lines.join('\n') + '\n');
}

async function main(argv: string[]): Promise<number> {
  const options = parseOptions(argv);
  if (!options) {
    process.stdout.write(usage + '\n');
    return 0;
  }
  const files = selectNotebooks(options.targets);
  if (options.quick && options.outDir === quickOutDir) {
    const shown = path.relative(process.cwd(), quickOutDir) || quickOutDir;
    process.stderr.write(
      `quick run: writing notebooks and figures to ${shown}/ (a full run, without --quick, updates the committed ones)\n`,
    );
  }
  const setup = resolveSetup();
  const env = jupyterEnv(setup);
  checkPython(setup, env);
  if (ensureKernelSpec(setup) === 'written')
    process.stderr.write(`wrote the tslab kernel spec under ${setup.jupyterDir}\n`);

  const controller = new AbortController();
  let received: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (received) return;
    received = signal;
    process.stderr.write(
      `\n${signal} received: stopping the kernel and removing temporary files ...\n`,
    );
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  if (options.build) await build(controller.signal);
  const rows: Row[] = files.map((f) => ({ name: path.basename(f), status: 'skipped' }));
  let failedAny = false;
  for (const [i, file] of files.entries()) {
    if (received || (failedAny && !options.keepGoing)) break;
    const result = await runOne(file, options, setup.python, env, controller.signal);
    rows[i] = {
      name: rows[i].name,
      status: result.status,
      seconds: result.seconds,
      figures: result.status === 'passed' ? result.figures : undefined,
    };
    if (result.status === 'failed') {
      failedAny = true;
      reportFailure(file, result);
    }
  }
  printSummary(rows);
  if (received) {
    process.stderr.write(
      `interrupted by ${received}: the notebook that was running and its figures were left unchanged\n`,
    );
    return received === 'SIGINT' ? 130 : 143;
  }
  return failedAny ? 1 : 0;
}

async function runOne(
  file: string,
  options: Options,
  python: string,
  env: NodeJS.ProcessEnv,
  signal: AbortSignal,
): Promise<NotebookResult> {
  const name = path.basename(file, '.ipynb');
  const progress = new Progress(name, options.verbose);
  process.stderr.write(`[${name}] starting ${path.relative(process.cwd(), file) || file}\n`);
  try {
    return await runNotebook({
      notebook: file,
      output: outputPath(file, options.outDir),
      figures: path.join(options.figuresDir, name),
      python,
      env,
      timeoutS: options.timeoutS,
      quick: options.quick,
      verbose: options.verbose,
      signal,
      onEvent: (event) => progress.onEvent(event),
      onKernelOutput: (text) => {
        if (options.verbose) process.stderr.write(text);
      },
    });
  } finally {
    progress.stop();
  }
}

runMain(() => main(process.argv.slice(2)), { exit: true });
