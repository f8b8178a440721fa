// `npm run jupyter`: sets up .venv/ if needed, registers the project-local TypeScript kernel, starts JupyterLab 4 (or Notebook 7) on 127.0.0.1 in notebooks/, stops it and its kernels on Ctrl-C.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as readline from 'node:readline/promises';
import {
  intOption,
  parseCli,
  runMain,
  usage,
  type DescribedOptionTable,
} from '../shared/options.js';
import { ConfigError, ToolMissingError } from '../../lib/core/errors.js';
import {
  ensureKernelSpec,
  freePort,
  installHint,
  jupyterEnv,
  projectRoot,
  readySetup,
  type JupyterSetup,
} from './env.js';

const OPTIONS = {
  lab: { type: 'boolean', describe: 'JupyterLab 4 (the default)' },
  notebook: { type: 'boolean', describe: 'Jupyter Notebook 7 instead' },
  yes: {
    type: 'boolean',
    short: 'y',
    describe: 'set up .venv/ without asking when it is missing (asked only at a terminal)',
  },
  port: {
    type: 'string',
    expects: 'an integer from 0 to 65535',
    value: 'N',
    describe: '1..65535 (default 8888); 0 picks a free port',
  },
  'no-browser': {
    type: 'boolean',
    describe: 'do not open a browser; open the printed address yourself',
  },
  quick: {
    type: 'boolean',
    describe: "the notebooks' small-data setting (MNIST_NB_QUICK=1 for the kernels)",
  },
  'notebook-dir': {
    type: 'string',
    expects: 'a folder',
    value: 'DIR',
    describe: 'serve DIR instead of notebooks/ (the tests serve a copy)',
  },
  help: { type: 'boolean', short: 'h', describe: 'this help' },
} as const satisfies DescribedOptionTable;

const USAGE = usage(
  {
    synopsis: [
      'npm run jupyter -- [--lab | --notebook] [--port N] [--no-browser] [--quick] [--yes]',
    ],
    about: [
      `Sets up the project's Jupyter in .venv/ when it is missing or broken (npm run python-env;
      asked first at a terminal), registers the project's TypeScript kernel (tslab from this
      checkout, in .jupyter/, nothing in your home folder), then starts JupyterLab 4 (or Notebook 7)
      on 127.0.0.1 with a fresh token, in notebooks/. Prints the address once the server answers.
      Ctrl-C stops the server and its kernels.`,
    ],
    settings: ['MNIST_NB_PYTHON', 'MNIST_NB_VENV', 'MNIST_NB_JUPYTER_DIR', 'MNIST_NB_TSLAB'],
  },
  OPTIONS,
);

const HOST = '127.0.0.1';
const START_TIMEOUT_MS = 90_000;
const STOP_TIMEOUT_MS = 15_000;

type Flavour = 'lab' | 'notebook';

interface Launcher {
  flavour: Flavour;
  /** Command and leading arguments: [python, '-m', 'jupyterlab']. */
  command: string[];
  label: string;
}

function hasModule(python: string, module: string): boolean {
  const r = spawnSync(python, ['-c', `import ${module}`], { stdio: 'ignore', timeout: 30_000 });
  return r.status === 0;
}

/** JupyterLab (the default) or Notebook 7, as a module of the environment's Python. */
function chooseLauncher(python: string, flavour: Flavour): Launcher {
  const module = flavour === 'lab' ? 'jupyterlab' : 'notebook';
  const label = flavour === 'lab' ? 'JupyterLab' : 'Jupyter Notebook';
  if (!hasModule(python, module))
    throw new ToolMissingError(
      'jupyter',
      `${label} is not installed for ${python}: ${installHint}, or unset MNIST_NB_PYTHON to use it`,
    );
  return { flavour, command: [python, '-m', module], label };
}

/** Asks on the terminal whether to set up .venv/ now; Enter means yes. */
async function askToSetUp(problem: string): Promise<boolean> {
  const rl = readline.createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question(
      `${problem}. Set it up now from python/requirements.txt (about 30 s and 400 MB with a fast link)? [Y/n] `,
    );
    return !/^n/i.test(answer.trim());
  } finally {
    rl.close();
  }
}

/** Polls /api/status until the server answers, the process exits, or the time is up. */
async function waitForServer(
  base: string,
  token: string,
  server: ChildProcess,
  log: () => string,
): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    // Notebook 6 logs this and then may linger instead of exiting: do not wait out the timeout.
    if (/port \d+ is already in use|port \d+ is not available/i.test(log())) {
      const port = new URL(base).port;
      throw new ConfigError(
        '--port',
        `port ${port} on ${HOST} is already in use; pick another with --port N, or --port 0 for a free one`,
      );
    }
    if (server.exitCode !== null || server.signalCode !== null) {
      throw new ToolMissingError(
        'jupyter',
        `the Jupyter server exited before it answered (${server.exitCode ?? server.signalCode}):\n${log().trim()}`,
      );
    }
    try {
      // Bounded: whatever else holds the port may accept the connection and never answer.
      const res = await fetch(`${base}/api/status`, {
        headers: { Authorization: `token ${token}` },
        signal: AbortSignal.timeout(2000),
      });
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new ConfigError(
    '--port',
    `the Jupyter server did not answer on ${base} within ${START_TIMEOUT_MS / 1000} s:\n${log().trim()}`,
  );
}

/** Processes whose parent is `pid` (Linux /proc; empty elsewhere). Kernels run in their own session, so the group kill misses them. */
function childPids(pid: number): number[] {
  if (!fs.existsSync('/proc/self/stat')) return [];
  const out: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push(Number(entry));
    } catch {
      // the process ended while we looked
    }
  }
  return out;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Stops the server and every kernel it started: kernels through the API (a clean shutdown), then SIGTERM
 * to the server's process group (Jupyter then stops what is left), then SIGKILL for anything still alive.
 */
async function stopServer(server: ChildProcess, base: string, token: string): Promise<void> {
  const pid = server.pid;
  if (pid === undefined) return;
  const kernels = childPids(pid);
  const headers = { Authorization: `token ${token}` };
  try {
    const list = (await (
      await fetch(`${base}/api/kernels`, { headers, signal: AbortSignal.timeout(5000) })
    ).json()) as { id: string }[];
    await Promise.all(
      list.map((k) =>
        fetch(`${base}/api/kernels/${k.id}`, {
          method: 'DELETE',
          headers,
          signal: AbortSignal.timeout(5000),
        }),
      ),
    );
  } catch {
    // the server is already gone or busy: the signals below still stop it
  }
  const exited =
    server.exitCode !== null || server.signalCode !== null
      ? Promise.resolve()
      : new Promise<void>((r) => server.once('exit', () => r()));
  try {
    process.kill(-pid, 'SIGTERM');
  } catch {
    // the group is already gone
  }
  const timer = setTimeout(() => {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // gone meanwhile
    }
  }, STOP_TIMEOUT_MS);
  await exited;
  clearTimeout(timer);
  for (const k of kernels) {
    if (!alive(k)) continue;
    try {
      process.kill(-k, 'SIGKILL'); // jupyter_client starts each kernel as its own session leader
    } catch {
      process.kill(k, 'SIGKILL');
    }
  }
}

function serverArgs(launcher: Launcher, port: number, dir: string, browser: boolean): string[] {
  const args = [
    ...launcher.command.slice(1),
    `--ip=${HOST}`,
    `--port=${port}`,
    '--port-retries=0',
    `--notebook-dir=${dir}`,
  ];
  if (!browser) args.push('--no-browser');
  if (process.getuid?.() === 0) args.push('--allow-root');
  return args;
}

async function main(argv: string[]): Promise<number> {
  const { values } = parseCli(argv, OPTIONS);
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (values.lab && values.notebook)
    throw new ConfigError('--lab', 'and --notebook exclude each other; pick one');
  const requested = intOption('--port', values.port ?? '8888', 0, 65535, '0 picks a free port');
  const dir = path.resolve(values['notebook-dir'] ?? path.join(projectRoot, 'notebooks'));
  if (!fs.statSync(dir, { throwIfNoEntry: false })?.isDirectory())
    throw new ConfigError('--notebook-dir', `${dir} is not a folder`);

  // Not set up yet: a person at a terminal is asked first; a script (no TTY) or --yes just gets it.
  const interactive = process.stdin.isTTY && !values.yes;
  const setup: JupyterSetup = await readySetup(interactive ? { confirm: askToSetUp } : {});
  const launcher = chooseLauncher(setup.python, values.notebook ? 'notebook' : 'lab');
  if (ensureKernelSpec(setup) === 'written')
    process.stderr.write(`registered the TypeScript kernel (tslab) in ${setup.jupyterDir}\n`);
  if (!fs.existsSync(path.join(projectRoot, 'build', 'lib', 'index.js'))) {
    process.stderr.write(
      'warning: build/lib/index.js is missing, so notebooks cannot import the kit: run npm run build\n',
    );
  }

  const port = requested === 0 ? await freePort() : requested;
  const token = randomBytes(24).toString('hex');
  const base = `http://${HOST}:${port}`;
  const env: NodeJS.ProcessEnv = { ...jupyterEnv(setup), JUPYTER_TOKEN: token };
  if (values.quick) env.MNIST_NB_QUICK = '1';
  else delete env.MNIST_NB_QUICK;
  process.stderr.write(
    `starting ${launcher.label} in ${path.relative(process.cwd(), dir) || dir}${values.quick ? ' (quick mode)' : ''} ...\n`,
  );
  // Its own process group: Ctrl-C reaches only this script, which then stops the server and its kernels in order.
  const server = spawn(
    launcher.command[0],
    serverArgs(launcher, port, dir, !values['no-browser']),
    {
      cwd: dir,
      env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let log = '';
  let ready = false;
  const keep = (d: Buffer) => {
    // Before it answers, keep the log for an error message; after, pass Jupyter's own warnings through.
    if (ready) process.stderr.write(d);
    else log = (log + d.toString()).slice(-20_000);
  };
  server.stdout?.on('data', keep);
  server.stderr?.on('data', keep);
  const spawnError = new Promise<never>((_, reject) =>
    server.once('error', (e) =>
      reject(
        new ToolMissingError(
          'jupyter',
          `${launcher.command[0]} could not start: ${e.message}; ${installHint}`,
        ),
      ),
    ),
  );

  let stopping: Promise<void> | undefined;
  const stop = () => (stopping ??= stopServer(server, base, token));
  process.once('exit', () => {
    // Last resort if this script dies some other way: never leave a detached server behind.
    if (server.exitCode === null && server.pid !== undefined) {
      try {
        process.kill(-server.pid, 'SIGTERM');
      } catch {
        // gone
      }
    }
  });
  // Kept installed (not once): under npm and tsx one Ctrl-C can arrive two or three times (terminal,
  // npm, tsx relay), and a repeat must not kill this process before it has stopped the kernels.
  const signalled = new Promise<NodeJS.Signals>((resolve) => {
    let seen = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (!seen) resolve(signal);
      seen = true;
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });

  let early: NodeJS.Signals | undefined;
  try {
    early = await Promise.race([
      waitForServer(base, token, server, () => log).then(() => undefined),
      spawnError,
      signalled,
    ]);
  } catch (error) {
    await stop();
    throw error;
  }
  if (early) {
    process.stderr.write(`\n${early}: stopping the server before it finished starting\n`);
    await stop();
    return 130;
  }
  ready = true;
  const page = launcher.flavour === 'lab' ? 'lab' : 'tree';
  process.stdout.write(`${launcher.label} is running: ${base}/${page}?token=${token}\n`);
  process.stdout.write(
    'Open notebooks/01-explore-data.ipynb and pick the "TypeScript" kernel if asked. Ctrl-C stops the server and its kernels.\n',
  );

  const exited = new Promise<number>((resolve) =>
    server.once('exit', (code) => resolve(code ?? 1)),
  );
  const outcome = await Promise.race([
    signalled.then((s) => ({ signal: s })),
    exited.then((code) => ({ code })),
  ]);
  if ('signal' in outcome) {
    process.stderr.write(`\n${outcome.signal}: stopping the server and its kernels ...\n`);
    await stop();
    process.stderr.write('stopped\n');
    return 0;
  }
  await stop(); // the server ended by itself: make sure no kernel outlives it
  process.stderr.write(`the Jupyter server exited with status ${outcome.code}\n`);
  return outcome.code === 0 ? 0 : 1;
}

runMain(() => main(process.argv.slice(2)), { exit: true });
