// `npm run room -- start|stop|remove-accounts`: a JupyterHub workshop room on this machine, learners need only a browser.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  intOption,
  parseCli,
  runMain,
  usage,
  type DescribedOptionTable,
} from '../shared/options.js';
import { ConfigError, KitError, ToolMissingError } from '../../lib/core/errors.js';
import { freePort, projectRoot } from '../jupyter/env.js';
import { envProblem, pythonEnv } from '../jupyter/python-env.js';
import {
  checkName,
  chownHome,
  createAccount,
  generatePassword,
  learnerNames,
  newManifest,
  readManifest,
  removeAccount,
  writeManifest,
  type Manifest,
  type RoomAccount,
} from './accounts.js';
import { makeRoomCgroup, readHost, type RoomCgroup } from './cgroup.js';
import { hubConfig, writeAtomic, writeKernelSpec, type HubSettings } from './hub.js';
import { procInfo, processTree, stillRunning, stopProcesses, waitGone } from './procs.js';

const OPTIONS = {
  dir: {
    type: 'string',
    expects: 'a folder',
    value: 'DIR',
    describe:
      'the room folder: hub config, database, cookie secret, log, passwords (default room/)',
  },
  learners: {
    type: 'string',
    expects: 'an integer from 1 to 200',
    value: 'N',
    describe: 'number of learner accounts, 1 to 200 (default 10)',
  },
  prefix: {
    type: 'string',
    expects: 'an account name prefix',
    value: 'NAME',
    describe: 'learner account names are NAME01…NAMEnn (default learner)',
  },
  admin: {
    type: 'string',
    expects: 'an account name',
    value: 'NAME',
    describe: "the instructor's account, a hub admin (default instructor)",
  },
  'home-base': {
    type: 'string',
    expects: 'a folder',
    value: 'DIR',
    describe: 'homes are DIR/NAME (default /home)',
  },
  ip: {
    type: 'string',
    expects: 'an IP address',
    value: 'ADDR',
    describe: 'address the hub listens on (default 127.0.0.1: put a TLS proxy in front, see docs)',
  },
  port: {
    type: 'string',
    expects: 'a port from 1 to 65535',
    value: 'PORT',
    describe: 'port the hub listens on (default 8000)',
  },
  quick: {
    type: 'boolean',
    describe:
      'quick mode for every kernel (MNIST_NB_QUICK=1): small data, 2 epochs; for small servers',
  },
  'mem-limit': {
    type: 'string',
    expects: 'a size such as 2G or 1500M, or 0',
    value: 'SIZE',
    describe: 'memory per learner (server + kernels), e.g. 2G or 1500M; 0 for none (default 2G)',
  },
  'kernel-idle': {
    type: 'string',
    expects: 'minutes',
    value: 'MIN',
    describe: 'each server shuts down its kernels idle this many minutes (default 60)',
  },
  'server-idle': {
    type: 'string',
    expects: 'minutes',
    value: 'MIN',
    describe:
      "the hub's idle culler stops servers with no activity this many minutes (default 120)",
  },
  'cgroup-parent': {
    type: 'string',
    expects: 'a cgroup v2 folder',
    value: 'DIR',
    describe:
      "cgroup v2 only: a delegated folder to put the room's memory cgroup in (default: the nearest of this process's cgroups that delegates memory)",
  },
  'ssl-cert': {
    type: 'string',
    expects: 'a certificate file',
    value: 'FILE',
    describe: 'serve HTTPS with this certificate (with --ssl-key)',
  },
  'ssl-key': {
    type: 'string',
    expects: 'a key file',
    value: 'FILE',
    describe: "the certificate's private key",
  },
  help: { type: 'boolean', short: 'h', describe: 'this help' },
} as const satisfies DescribedOptionTable;

const COMMANDS = ['start', 'stop', 'remove-accounts'] as const;

const USAGE = usage(
  {
    synopsis: [
      'npm run room -- start [options]',
      'npm run room -- stop [--dir DIR]',
      'npm run room -- remove-accounts [--dir DIR]',
    ],
    about: [
      `Needs root (it creates accounts and starts each learner's server as that learner), the
      project's Python environment (.venv: JupyterHub 5, JupyterLab 4, jupyterhub-idle-culler) and a
      built kit (npm ci). See docs/room.md.`,
    ],
    arguments: [
      [
        'start',
        `creates the learner accounts that are missing (learner01…N, passwords printed once), gives
        each a home with their own student copies of the notebooks and their own data/, and runs
        JupyterHub in the foreground until Ctrl-C or npm run room -- stop. Run it again to restart
        the room: existing accounts and their work are kept.`,
      ],
      ['stop', "stops the hub, the proxy and every learner's server and kernel, by PID."],
      [
        'remove-accounts',
        'after the workshop: deletes the accounts (and homes) this room created, and nothing else.',
      ],
    ],
    settings: ['MNIST_NB_VENV'],
    notes: ['Exit status: 0 done, 1 failed, 2 bad arguments or a missing tool.'],
  },
  OPTIONS,
);

const NOTEBOOKS = 'notebooks';
// How often the hub's idle culler looks and each server reports activity (both cheap API calls).
const CULL_EVERY_SECONDS = 60;

/** The room folder's layout. hub/ is root-only; share/ is read by every learner's server. */
export function roomPaths(dir: string) {
  const hub = path.join(dir, 'hub');
  return {
    dir,
    hub,
    share: path.join(dir, 'share', 'jupyter'),
    config: path.join(hub, 'jupyterhub_config.py'),
    log: path.join(hub, 'hub.log'),
    run: path.join(hub, 'run.json'),
    manifest: path.join(hub, 'accounts.json'),
    passwords: path.join(hub, 'passwords.txt'),
    /** Written by `stop` before it signals the hub, so the launcher tells a requested stop from a crash. */
    stopRequested: path.join(hub, 'stop-requested'),
  };
}

/** What `stop` needs to find everything the room started, kept in hub/run.json while it runs. */
export interface RunState {
  readonly hub: { pid: number; start: number };
  readonly launcher: { pid: number; start: number };
  readonly url: string;
  readonly cgroupDir?: string;
  /** The same group with its version, for tests and tools that read its counters. */
  readonly cgroup?: RoomCgroup;
}

/** "2G", "1500M", "512m", "0" → bytes. */
export function parseSize(raw: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?$/i.exec(raw.trim());
  if (!m)
    throw new ConfigError('--mem-limit', `expected a size such as 2G or 1500M, or 0; got "${raw}"`);
  const power = ' kmgt'.indexOf(m[2].toLowerCase() || ' ');
  const bytes = Math.round(Number(m[1]) * 1024 ** power);
  if (bytes !== 0 && bytes < 256 * 2 ** 20)
    throw new ConfigError(
      '--mem-limit',
      `${raw} is too small for a server and a kernel (at least 256M, or 0 for none)`,
    );
  return bytes;
}

/** The project environment's programs the room runs (.venv/, or MNIST_NB_VENV: scripts/jupyter/python-env.ts). */
export function roomPython(env: NodeJS.ProcessEnv = process.env) {
  const venv = pythonEnv(env);
  const problem = envProblem(venv);
  if (problem)
    throw new ToolMissingError(
      'jupyterhub',
      `the project's Python environment ${venv.dir} ${problem}: the room runs JupyterHub 5, JupyterLab and jupyterhub-idle-culler from it; make it with npm run python-env`,
    );
  return {
    hub: path.join(venv.bin, 'jupyterhub'),
    singleuser: path.join(venv.bin, 'jupyterhub-singleuser'),
    python: venv.python,
  };
}

function requireRoot(): void {
  if (process.getuid?.() !== 0)
    throw new ConfigError(
      'user',
      'the room must run as root: it creates accounts and starts each learner server as that learner',
    );
}

/** Every folder from / down to `target` must be enterable by others, or learners' kernels cannot load the kit. */
function checkReadableByLearners(target: string): void {
  let dir = path.resolve(target);
  const chain: string[] = [];
  while (true) {
    chain.unshift(dir);
    const up = path.dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  for (const d of chain) {
    if ((fs.statSync(d).mode & 0o001) === 0)
      throw new KitError(
        'room-kit-private',
        `${d} is not enterable by other users (mode ${(fs.statSync(d).mode & 0o777).toString(8)}), so learners cannot load the kit from ${target}: chmod o+x it or clone the kit elsewhere`,
      );
  }
}

interface StartOptions {
  dir: string;
  learners: string[];
  admin: string;
  homeBase: string;
  ip: string;
  port: number;
  quick: boolean;
  memLimit: number;
  kernelIdleSeconds: number;
  serverIdleSeconds: number;
  cgroupParent?: string;
  sslCert?: string;
  sslKey?: string;
}

function startOptions(values: ReturnType<typeof parseArgs>['values']): StartOptions {
  const n = intOption('--learners', values.learners ?? '10', 1, 200);
  const prefix = checkName('--prefix', values.prefix ?? 'learner');
  const admin = checkName('--admin', values.admin ?? 'instructor');
  const learners = learnerNames(prefix, n);
  if (learners.includes(admin))
    throw new ConfigError('--admin', `"${admin}" is also a learner name; choose another`);
  const sslCert = values['ssl-cert'];
  const sslKey = values['ssl-key'];
  if ((sslCert === undefined) !== (sslKey === undefined))
    throw new ConfigError('--ssl-cert', 'needs --ssl-key too (and --ssl-key needs --ssl-cert)');
  for (const [flag, file] of [
    ['--ssl-cert', sslCert],
    ['--ssl-key', sslKey],
  ] as const) {
    if (file !== undefined && !fs.existsSync(file))
      throw new ConfigError(flag, `${file} does not exist`);
  }
  const minutes = (flag: string, raw: string) => intOption(flag, raw, 1, 7 * 24 * 60) * 60;
  return {
    dir: roomDir(values.dir),
    learners,
    admin,
    homeBase: path.resolve(values['home-base'] ?? '/home'),
    ip: values.ip ?? '127.0.0.1',
    port: intOption('--port', values.port ?? '8000', 1, 65535),
    quick: values.quick === true,
    memLimit: parseSize(values['mem-limit'] ?? '2G'),
    kernelIdleSeconds: minutes('--kernel-idle', values['kernel-idle'] ?? '60'),
    serverIdleSeconds: minutes('--server-idle', values['server-idle'] ?? '120'),
    cgroupParent: values['cgroup-parent'],
    sslCert: sslCert && path.resolve(sslCert),
    sslKey: sslKey && path.resolve(sslKey),
  };
}

function roomDir(raw: string | undefined): string {
  return path.resolve(raw ?? path.join(projectRoot, 'room'));
}

function parseArgs(argv: string[]) {
  return parseCli(argv, OPTIONS, {
    min: 1,
    max: 1,
    describe: `one command: ${COMMANDS.join(', ')}`,
    choices: COMMANDS,
  });
}

function readRunState(file: string): RunState | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as RunState;
  } catch {
    return undefined; // no room running from here (or a torn file, which stop treats the same)
  }
}

/** Gives each new account its notebooks (npm run student-copies: outputs cleared, no solutions) and its data/. */
async function furnishHome(account: RoomAccount): Promise<void> {
  const target = path.join(account.home, NOTEBOOKS);
  if (!fs.existsSync(target)) {
    const script = path.join(projectRoot, 'scripts', 'notebooks', 'student-copies.ts');
    const child = spawn(process.execPath, ['--import', 'tsx', script, target], {
      cwd: projectRoot,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number | null>((r) => child.on('close', r));
    if (code !== 0)
      throw new KitError('room-copies', `student copies for ${account.name} failed: ${err.trim()}`);
  }
  fs.mkdirSync(path.join(account.home, 'data', 'models'), { recursive: true });
  chownHome(account);
}

/** Creates the accounts in `wanted` the manifest lacks; returns name → password for the new ones only. */
async function ensureAccounts(
  paths: ReturnType<typeof roomPaths>,
  opts: StartOptions,
  manifest: Manifest,
): Promise<Map<string, string>> {
  const fresh = new Map<string, string>();
  const known = new Set(manifest.accounts.map((a) => a.name));
  const wanted: [string, RoomAccount['role']][] = [
    [opts.admin, 'admin'],
    ...opts.learners.map((n): [string, RoomAccount['role']] => [n, 'learner']),
  ];
  try {
    for (const [name, role] of wanted) {
      if (known.has(name)) continue;
      const password = generatePassword();
      createAccount(name, path.join(opts.homeBase, name), role, password, manifest);
      fresh.set(name, password);
    }
  } finally {
    // Recorded even when a later account failed: remove-accounts must know every account made.
    writeManifest(paths.manifest, manifest);
  }
  // Every wanted account, not only new ones: a start interrupted after useradd left a home without
  // notebooks. Existing notebooks/ folders are never touched. A few at a time: each copy is a Node process.
  const homes = manifest.accounts.filter((a) => wanted.some(([n]) => n === a.name));
  for (let i = 0; i < homes.length; i += 4)
    await Promise.all(homes.slice(i, i + 4).map(furnishHome));
  if (fresh.size > 0) {
    const lines = [...fresh].map(([n, p]) => `${n}\t${p}\n`).join('');
    fs.appendFileSync(paths.passwords, lines, { mode: 0o600 });
    fs.chmodSync(paths.passwords, 0o600);
  }
  return fresh;
}

/** Tasks of every learner cgroup under `dir` (processes that escaped the hub's tree are still there). */
function cgroupProcesses(dir: string | undefined): { pid: number; start: number }[] {
  if (!dir || !fs.existsSync(dir)) return [];
  const out: { pid: number; start: number }[] = [];
  for (const sub of ['', ...fs.readdirSync(dir)]) {
    const file = path.join(dir, sub, 'cgroup.procs');
    if (!fs.existsSync(file)) continue;
    for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
      const info = line.trim() ? procInfo(Number(line)) : undefined;
      if (info) out.push(info);
    }
  }
  return out;
}

/**
 * rmdir of the learner cgroups, then the room's; tolerant of a concurrent stop that got there first.
 * A killed process stays counted in its group until its parent reaps it (EBUSY): retried for up to 10 s.
 */
async function removeCgroups(dir: string | undefined): Promise<void> {
  if (!dir || !fs.existsSync(dir)) return;
  const rmdir = async (d: string) => {
    for (let tries = 0; ; tries++) {
      try {
        fs.rmdirSync(d);
        return;
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') return;
        if (code !== 'EBUSY' || tries >= 50) throw err;
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  };
  for (const entry of fs.readdirSync(dir, { withFileTypes: true }))
    if (entry.isDirectory()) await rmdir(path.join(dir, entry.name));
  await rmdir(dir);
}

/**
 * Stops the room started from `dir`: the hub first (it stops the servers it knows and the proxy), then
 * every process recorded before that, by PID, and whatever is left in the learners' cgroups.
 * Returns how many processes were stopped; throws when one survives.
 */
export async function stopRoom(dir: string, log: (s: string) => void = () => {}): Promise<number> {
  const paths = roomPaths(dir);
  const state = readRunState(paths.run);
  if (!state) return 0;
  const recorded = new Map<number, { pid: number; start: number }>();
  const record = (ps: { pid: number; start: number }[]) =>
    ps.forEach((p) => recorded.set(p.pid, p));
  if (stillRunning(state.hub)) record(processTree(state.hub.pid));
  record(cgroupProcesses(state.cgroupDir));
  if (stillRunning(state.hub)) {
    fs.writeFileSync(paths.stopRequested, `${process.pid}\n`);
    process.kill(state.hub.pid, 'SIGTERM');
    // The hub stops each server it knows (a few seconds each on a busy machine) before it exits.
    await waitGone([state.hub], 60_000);
  }
  const leftovers = [...recorded.values()].filter(
    (p) => p.pid !== process.pid && p.pid !== state.launcher.pid,
  );
  let survivors = await stopProcesses(leftovers);
  const late = cgroupProcesses(state.cgroupDir);
  survivors = survivors.concat(await stopProcesses(late));
  if (survivors.length > 0)
    throw new KitError(
      'room-stop',
      `could not stop PIDs ${survivors.map((p) => p.pid).join(', ')}`,
    );
  await removeCgroups(state.cgroupDir);
  fs.rmSync(paths.run, { force: true });
  // Stopped from another terminal: the foreground launcher notices the hub is gone and exits too.
  if (state.launcher.pid !== process.pid) await waitGone([state.launcher], 15_000);
  if (recorded.size > 0)
    log(`stopped the room (hub PID ${state.hub.pid}): ${recorded.size} processes, none left`);
  return recorded.size;
}

async function waitForHub(
  url: string,
  hub: { pid: number; start: number },
  logFile: string,
): Promise<void> {
  const deadline = Date.now() + 180_000;
  while (Date.now() < deadline) {
    if (!stillRunning(hub)) {
      const tail = fs.readFileSync(logFile, 'utf8').split('\n').slice(-15).join('\n');
      throw new KitError(
        'room-hub-exited',
        `jupyterhub exited during start; the end of ${logFile}:\n${tail}`,
      );
    }
    try {
      // A self-signed certificate must not stop this local check; learners' browsers judge it themselves.
      const res = await fetch(`${url}hub/api/`, { signal: AbortSignal.timeout(2000) });
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new KitError(
    'room-hub-timeout',
    `the hub did not answer at ${url} within 180 s; see ${logFile}`,
  );
}

async function start(opts: StartOptions): Promise<number> {
  requireRoot();
  const env = roomPython();
  const proxy = path.join(projectRoot, 'node_modules', '.bin', 'configurable-http-proxy');
  const tslab = path.join(projectRoot, 'node_modules', '.bin', 'tslab');
  for (const [file, what] of [
    [proxy, 'configurable-http-proxy (npm ci)'],
    [tslab, 'the tslab kernel (npm ci)'],
    [path.join(projectRoot, 'build', 'lib', 'index.js'), 'the compiled kit (npm run build)'],
  ]) {
    if (!fs.existsSync(file))
      throw new ToolMissingError(path.basename(file), `${file} is missing: ${what}`);
  }
  checkReadableByLearners(path.join(projectRoot, 'build', 'lib'));
  // Learners' servers run the environment's Python as the learner: the venv and the interpreter it
  // links to (a Python under /root, mode 0700, would not start for them).
  checkReadableByLearners(env.singleuser);
  try {
    checkReadableByLearners(fs.realpathSync(env.python));
  } catch (err) {
    throw new KitError(
      'room-python-private',
      `${env.python} links to ${fs.realpathSync(env.python)}, which learners cannot run (${(err as KitError).message.split(',')[0]}): make the environment from a Python every user can run, e.g. rm -rf .venv && MNIST_NB_BASE_PYTHON=/usr/bin/python3 npm run python-env`,
    );
  }
  if (!fs.existsSync(opts.homeBase)) fs.mkdirSync(opts.homeBase, { recursive: true, mode: 0o755 });
  checkReadableByLearners(opts.homeBase);

  const paths = roomPaths(opts.dir);
  const running = readRunState(paths.run);
  if (running && stillRunning(running.hub))
    throw new KitError(
      'room-running',
      `a room is already running from ${opts.dir} (hub PID ${running.hub.pid}); stop it with npm run room -- stop --dir ${opts.dir}`,
    );
  fs.mkdirSync(paths.hub, { recursive: true, mode: 0o700 });
  fs.chmodSync(opts.dir, 0o711); // learners' servers read share/ (the kernel spec), nothing else
  fs.chmodSync(paths.hub, 0o700);
  fs.mkdirSync(paths.share, { recursive: true, mode: 0o755 });
  fs.chmodSync(path.dirname(paths.share), 0o755);
  checkReadableByLearners(paths.share);

  const manifest = readManifest(paths.manifest) ?? newManifest();
  const fresh = await ensureAccounts(paths, opts, manifest);
  const cgroup = makeRoomCgroup(manifest.room, opts.memLimit, readHost(opts.cgroupParent));
  writeKernelSpec(paths.share, tslab);
  const sharedFashion = path.join(projectRoot, 'data', 'fashion-mnist');
  const settings: HubSettings = {
    ip: opts.ip,
    port: opts.port,
    hubPort: await freePort(),
    proxyApiPort: await freePort(),
    hubDir: paths.hub,
    proxy,
    singleuser: env.singleuser,
    python: env.python,
    jupyterPath: paths.share,
    learners: opts.learners,
    admin: opts.admin,
    quick: opts.quick,
    notebooksFolder: NOTEBOOKS,
    sharedFashionDir: fs.existsSync(sharedFashion) ? sharedFashion : undefined,
    memLimit: cgroup.cgroup ? opts.memLimit : 0,
    cgroup: cgroup.cgroup,
    kernelIdleSeconds: opts.kernelIdleSeconds,
    serverIdleSeconds: opts.serverIdleSeconds,
    cullEverySeconds: CULL_EVERY_SECONDS,
    sslCert: opts.sslCert,
    sslKey: opts.sslKey,
  };
  writeAtomic(paths.config, hubConfig(settings), 0o600);

  const logFd = fs.openSync(paths.log, 'a', 0o600);
  // Its own process group: Ctrl-C reaches this launcher, which stops the room in order.
  const hub = spawn(env.hub, ['-f', paths.config], {
    cwd: paths.hub,
    detached: true,
    stdio: ['ignore', logFd, logFd],
  });
  fs.closeSync(logFd);
  const hubInfo = procInfo(hub.pid as number);
  const self = procInfo(process.pid);
  if (!hubInfo || !self)
    throw new KitError('room-hub-exited', `jupyterhub exited at once; see ${paths.log}`);
  const shownIp = opts.ip === '0.0.0.0' || opts.ip === '' ? '127.0.0.1' : opts.ip;
  const url = `${opts.sslCert ? 'https' : 'http'}://${shownIp}:${opts.port}/`;
  const state: RunState = {
    hub: { pid: hubInfo.pid, start: hubInfo.start },
    launcher: { pid: self.pid, start: self.start },
    url,
    cgroupDir: cgroup.cgroup?.dir,
    cgroup: cgroup.cgroup,
  };
  writeAtomic(paths.run, JSON.stringify(state, null, 2) + '\n', 0o600);

  fs.rmSync(paths.stopRequested, { force: true });
  let stopping: Promise<number> | undefined;
  const stop = () => (stopping ??= stopRoom(opts.dir, (s) => process.stdout.write(s + '\n')));
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
  const exited = new Promise<void>((r) => hub.once('exit', () => r()));
  try {
    // The readiness check below talks to our own hub on this machine; a self-signed certificate is the
    // learners' browsers' business, not a reason to fail the start.
    if (opts.sslCert) process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';
    await waitForHub(url, state.hub, paths.log);
  } catch (err) {
    await stop();
    throw err;
  }
  const out: string[] = [];
  if (fresh.size > 0) {
    out.push(`new accounts (passwords shown once here; also in ${paths.passwords}, mode 0600):`);
    for (const [n, p] of fresh) out.push(`  ${n.padEnd(16)} ${p}`);
  }
  out.push(
    `learners: ${opts.learners[0]} … ${opts.learners[opts.learners.length - 1]}; instructor (hub admin): ${opts.admin}`,
  );
  out.push(
    `${opts.quick ? 'quick mode' : 'full mode'}; ${cgroup.note}; kernels idle ${opts.kernelIdleSeconds / 60} min are shut down, servers idle ${opts.serverIdleSeconds / 60} min are stopped (jupyterhub-idle-culler)`,
  );
  out.push(`room is running: ${url} (hub PID ${hubInfo.pid}, log ${paths.log})`);
  out.push(`stop it with Ctrl-C or: npm run room -- stop --dir ${opts.dir}`);
  process.stdout.write(out.join('\n') + '\n');
  await exited;
  const requested = fs.existsSync(paths.stopRequested);
  // Stopped from elsewhere (npm run room -- stop) or the hub died: either way, leave nothing behind.
  await stop();
  fs.rmSync(paths.stopRequested, { force: true });
  if (!requested) {
    const tail = fs.readFileSync(paths.log, 'utf8').split('\n').slice(-10).join('\n');
    throw new KitError(
      'room-hub-exited',
      `jupyterhub exited on its own; the end of ${paths.log}:\n${tail}`,
    );
  }
  return 0;
}

async function removeAccounts(dir: string): Promise<number> {
  requireRoot();
  const paths = roomPaths(dir);
  const running = readRunState(paths.run);
  if (running && stillRunning(running.hub))
    throw new KitError(
      'room-running',
      `the room in ${dir} is running (hub PID ${running.hub.pid}); stop it first: npm run room -- stop --dir ${dir}`,
    );
  const manifest = readManifest(paths.manifest);
  if (!manifest)
    throw new KitError(
      'room-no-accounts',
      `${paths.manifest} does not exist: no accounts recorded for a room in ${dir}`,
    );
  const refused: string[] = [];
  for (const account of [...manifest.accounts]) {
    try {
      const what = removeAccount(account, manifest.marker);
      process.stdout.write(
        `${what === 'removed' ? 'removed' : 'already gone:'} ${account.name} (${account.home})\n`,
      );
      manifest.accounts = manifest.accounts.filter((a) => a !== account);
    } catch (err) {
      if (!(err instanceof KitError)) throw err;
      refused.push(err.message);
    }
  }
  writeManifest(paths.manifest, manifest);
  if (manifest.accounts.length === 0) fs.rmSync(paths.passwords, { force: true });
  if (refused.length > 0) throw new KitError('room-not-ours', refused.join('\n'));
  return 0;
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs(argv);
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const command = positionals[0] as (typeof COMMANDS)[number];
  if (command === 'start') return start(startOptions(values));
  const extra = Object.keys(values).filter((k) => k !== 'dir');
  if (extra.length > 0)
    throw new ConfigError(`--${extra[0]}`, `applies to start only, not ${command}`);
  if (command === 'stop') {
    requireRoot();
    const n = await stopRoom(roomDir(values.dir), (s) => process.stdout.write(s + '\n'));
    if (n === 0) process.stdout.write(`no room is running from ${roomDir(values.dir)}\n`);
    return 0;
  }
  return removeAccounts(roomDir(values.dir));
}

const invokedDirectly =
  process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (invokedDirectly) runMain(() => main(process.argv.slice(2)), { exit: true });
