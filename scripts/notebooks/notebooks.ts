// `npm run notebooks`: rebuilds lib, then executes notebooks (and their worked solutions) headless with the tslab kernel and rewrites them and their figures.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  intOption,
  parseCli,
  runMain,
  usage,
  type DescribedOptionTable,
} from '../shared/options.js';
import { ConfigError, KitError } from '../../lib/core/errors.js';
import { setting } from '../../lib/core/settings.js';
import { ensureKernelSpec, jupyterEnv, projectRoot, readySetup } from '../jupyter/env.js';
import { runNotebook, type DriverEvent, type NotebookResult } from './runner.js';
import {
  Declarations,
  engineThreads,
  heartbeatLine,
  planJobs,
  runJobs,
  type Job,
  type JobResult,
  type RunningNotebook,
} from './schedule.js';

const notebooksDir = path.join(projectRoot, 'notebooks');
const solutionsDir = path.join(notebooksDir, 'solutions');
const heartbeatMs = 30_000;

interface Options {
  targets: string[];
  quick: boolean;
  keepGoing: boolean;
  jobs: number;
  outDir?: string;
  figuresDir: string;
  timeoutS: number;
  build: boolean;
  verbose: boolean;
}

const OPTIONS = {
  quick: {
    type: 'boolean',
    describe:
      'set MNIST_NB_QUICK=1 for the kernel: notebooks shrink data and epochs; a check, so it writes to test-output/quick/ (not over the committed notebooks) unless --out-dir',
  },
  'keep-going': {
    type: 'boolean',
    describe: 'run the remaining notebooks after a failure (except those that need it)',
  },
  jobs: {
    type: 'string',
    expects: 'a whole number of notebooks to run at once',
    value: 'N',
    describe: `run up to N notebooks at once (default: the number of cores, here ${os.availableParallelism()}; 1 = one after the other); each kernel's engine gets MNIST_ENGINE_THREADS = cores / N (at least 1) unless that is set already`,
  },
  'out-dir': {
    type: 'string',
    expects: 'a folder',
    value: 'DIR',
    describe:
      'write executed notebooks to DIR (solutions to DIR/solutions, figures to DIR/figures) instead of in place',
  },
  'figures-dir': {
    type: 'string',
    expects: 'a folder',
    value: 'DIR',
    describe: 'folder that holds figures/<notebook>/ folders (default: figures/ or DIR/figures)',
  },
  timeout: {
    type: 'string',
    expects: 'a whole number of seconds (0 = no limit)',
    value: 'SECONDS',
    describe: 'limit per cell (default 1800; 0 = none)',
  },
  'no-build': {
    type: 'boolean',
    describe: 'skip the tsc -p . build of lib/ (notebooks import ../build/lib/*.js)',
  },
  verbose: { type: 'boolean', describe: "echo kernel output and each cell's stdout" },
  help: { type: 'boolean', short: 'h', describe: 'this help' },
} as const satisfies DescribedOptionTable;

const USAGE = usage(
  {
    synopsis: ['npm run notebooks -- [options] [NOTEBOOK...]'],
    about: [
      `Executes notebooks with the project-local tslab kernel and rewrites them (outputs,
      figures/<name>/). NOTEBOOK is a path to an .ipynb file, a name or prefix of one in notebooks/
      (e.g. 03), or solutions/ followed by a name or prefix of a worked solution in
      notebooks/solutions/ (e.g. solutions/04). Default: every notebooks/*.ipynb, then every
      notebooks/solutions/*.ipynb, each in name order.`,
      `Notebooks that do not need each other run at once, in separate kernels (--jobs). Which
      notebook needs which is declared in notebooks/dependencies.json; a notebook runs only after
      the ones it needs (when they are selected too: npm run notebooks -- 04 runs 04 alone, on the
      model 03 saved last time). After a failure no new notebook starts unless --keep-going (the
      running ones finish), and the notebooks that need the failed one are skipped either way.`,
      `Jupyter: the project's .venv/ (made from python/requirements.txt when missing or broken; see
      npm run python-env), or MNIST_NB_PYTHON (your own Python with nbclient). The kernels get the
      environment as it is, MNIST_NB_QUICK aside (only --quick sets it).`,
    ],
    settings: [
      'MNIST_NB_PYTHON',
      'MNIST_NB_VENV',
      'MNIST_NB_JUPYTER_DIR',
      'MNIST_NB_TSLAB',
      'MNIST_NB_BROWSER',
      'MNIST_ENGINE_THREADS',
      'MNIST_NB_MODEL',
    ],
    notes: [
      'Exit status: 0 all passed, 1 a notebook failed, 2 bad arguments or missing tools, 130/143 interrupted.',
    ],
  },
  OPTIONS,
);

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
  const jobs = intOption('--jobs', values.jobs ?? String(os.availableParallelism()), 1, 256);
  const outArg = values['out-dir'] ?? (quick ? quickOutDir : undefined);
  const outDir = outArg === undefined ? undefined : path.resolve(outArg);
  const figuresDir = path.resolve(
    values['figures-dir'] ?? path.join(outDir ?? projectRoot, 'figures'),
  );
  return {
    targets: positionals,
    quick,
    keepGoing: values['keep-going'] === true,
    jobs,
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

/** Writes whole lines to stderr, so that lines of notebooks running at once never mix within a line. */
function line(text: string): void {
  process.stderr.write(`${text}\n`);
}

/** One notebook's progress on stderr: one line per cell, each starting with [name]. */
class Progress {
  private readonly started = performance.now();
  private cellStarted = 0;
  private cellLabel = '';
  private partial = '';

  constructor(
    readonly name: string,
    private readonly verbose: boolean,
    /** Several notebooks run at once: prefix their kernel output lines too. */
    private readonly prefixOutput: boolean,
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
    }
    if (event.event === 'cell_done' || event.event === 'cell_failed') {
      const status =
        event.event === 'cell_failed' ? `FAILED (${String(event.reason)})` : String(event.status);
      this.line(
        `${this.cellLabel} ${status} in ${Number(event.seconds).toFixed(1)} s (elapsed ${elapsed} s)`,
      );
      this.cellLabel = '';
      if (this.verbose && typeof event.stdout === 'string' && event.stdout)
        this.kernelOutput(event.stdout);
    }
  }

  /** What the heartbeat says about this notebook. */
  get state(): RunningNotebook {
    const now = performance.now();
    return {
      name: this.name,
      cell: this.cellLabel || (this.cellStarted === 0 ? 'starting' : undefined),
      cellMs: this.cellLabel ? now - this.cellStarted : now - this.started,
    };
  }

  kernelOutput(text: string): void {
    if (!this.prefixOutput) {
      process.stderr.write(text);
      return;
    }
    const lines = (this.partial + text).split('\n');
    this.partial = lines.pop() ?? '';
    if (lines.length > 0) process.stderr.write(lines.map((l) => `[${this.name}] ${l}\n`).join(''));
  }

  flush(): void {
    if (this.partial) this.kernelOutput('\n');
  }

  line(text: string): void {
    line(`[${this.name}] ${text}`);
  }
}

/** Every heartbeatMs while notebooks run, one line saying which: there may be no cell line for minutes. */
class Heartbeat {
  private readonly started = performance.now();
  private readonly timer: NodeJS.Timeout;

  constructor(running: () => Progress[], done: () => number, total: number) {
    this.timer = setInterval(() => {
      const now = running();
      if (now.length === 0) return;
      line(
        heartbeatLine(
          now.map((p) => p.state),
          performance.now() - this.started,
          done(),
          total,
        ),
      );
    }, heartbeatMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
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
  const statusWidth = Math.max(11, ...rows.map((r) => r.status.length));
  const lines = [`${'notebook'.padEnd(width)}  ${'status'.padEnd(statusWidth)}  seconds  figures`];
  for (const r of rows) {
    const secs = r.seconds === undefined ? '-' : r.seconds.toFixed(1);
    const figs = r.figures === undefined ? '-' : String(r.figures);
    lines.push(
      `${r.name.padEnd(width)}  ${r.status.padEnd(statusWidth)}  ${secs.padStart(7)}  ${figs.padStart(7)}`,
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
    process.stdout.write(USAGE);
    return 0;
  }
  const files = selectNotebooks(options.targets);
  const declarations = new Declarations();
  const plan = planJobs(files, (file) => declarations.lookup(file));
  if (options.quick && options.outDir === quickOutDir) {
    const shown = path.relative(process.cwd(), quickOutDir) || quickOutDir;
    process.stderr.write(
      `quick run: writing notebooks and figures to ${shown}/ (a full run, without --quick, updates the committed ones)\n`,
    );
  }
  const setup = await readySetup();
  const env = jupyterEnv(setup);
  if (ensureKernelSpec(setup) === 'written')
    process.stderr.write(`wrote the tslab kernel spec under ${setup.jupyterDir}\n`);
  const parallel = Math.min(options.jobs, plan.length);
  const threads = engineThreads(env, parallel, os.availableParallelism());
  if (threads !== undefined) env.MNIST_ENGINE_THREADS = threads;
  if (parallel > 1)
    line(
      `running up to ${parallel} notebooks at once, MNIST_ENGINE_THREADS=${threads ?? setting('MNIST_ENGINE_THREADS', env) ?? '(unset)'} each`,
    );

  const controller = new AbortController();
  let received: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (received) return;
    received = signal;
    process.stderr.write(
      `\n${signal} received: stopping the running kernels and removing temporary files ...\n`,
    );
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  if (options.build) await build(controller.signal);
  const rows = new Map<string, Row>(
    plan.map((job) => [job.id, { name: path.basename(job.file), status: 'not run' }]),
  );
  const running = new Map<string, Progress>();
  const heartbeat = new Heartbeat(
    () => [...running.values()],
    () => [...rows.values()].filter((r) => r.status !== 'not run').length,
    plan.length,
  );
  let results: Map<string, JobResult>;
  try {
    results = await runJobs(plan, {
      jobs: options.jobs,
      keepGoing: options.keepGoing,
      signal: controller.signal,
      onSkip: (job, reason) => {
        rows.get(job.id)!.status = `skipped: ${reason}`;
        if (!received) line(`[${job.id}] skipped: ${reason}`);
      },
      run: async (job, signal) => {
        const progress = new Progress(job.id, options.verbose, parallel > 1);
        running.set(job.id, progress);
        let result: NotebookResult;
        try {
          result = await runOne(job, options, setup.python, env, signal, progress);
        } finally {
          running.delete(job.id);
          progress.flush();
        }
        const passed = result.status === 'passed';
        rows.set(job.id, {
          name: path.basename(job.file),
          status: result.status,
          seconds: result.seconds,
          figures: passed ? result.figures : undefined,
        });
        const figures = `${result.figures} figure${result.figures === 1 ? '' : 's'}`;
        if (passed) progress.line(`passed in ${seconds(result.seconds * 1000)} s, ${figures}`);
        if (result.status === 'interrupted') progress.line('interrupted');
        if (result.status === 'failed') {
          reportFailure(job.file, result);
          const others = [...running.keys()];
          if (others.length > 0 && !options.keepGoing)
            line(
              `no notebook starts after this failure; waiting for ${others.join(', ')} to finish (Ctrl-C stops ${others.length === 1 ? 'it' : 'them'})`,
            );
        }
        return result.status;
      },
    });
  } finally {
    heartbeat.stop();
  }
  printSummary([...rows.values()]);
  if (received) {
    process.stderr.write(
      `interrupted by ${received}: the notebooks that were running and their figures were left unchanged\n`,
    );
    return received === 'SIGINT' ? 130 : 143;
  }
  return [...results.values()].some((r) => r.status === 'failed') ? 1 : 0;
}

async function runOne(
  job: Job,
  options: Options,
  python: string,
  env: NodeJS.ProcessEnv,
  signal: AbortSignal,
  progress: Progress,
): Promise<NotebookResult> {
  const file = job.file;
  const name = path.basename(file, '.ipynb');
  progress.line(`starting ${path.relative(process.cwd(), file) || file}`);
  return runNotebook({
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
      if (options.verbose) progress.kernelOutput(text);
    },
  });
}

runMain(() => main(process.argv.slice(2)), { exit: true });
