// Load test of the workshop room: four learners log in through JupyterHub and run notebook 02 (quick) on their own servers at once; isolation, refusal and a clean stop are checked by PID.
//
// Needs root, Debian's jupyterhub and chromium (.ci/run installs them); without them it fails, or is
// skipped with the reason when MNIST_NB_SKIP_BROWSER=1 (tests/system-tools.ts).
// Everything binds 127.0.0.1, the accounts have a random prefix, and the accounts and homes are removed
// at the end, also when an assertion failed.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { chromium } from 'playwright-core';
import { WebSocket } from 'undici';
import { CHROMIUM_ARGS } from '../lib/viz/render.js';
import { browserPath, toolsPresent } from './system-tools.js';
import { freePort } from '../scripts/jupyter-env.js';
import { processTree, stillRunning, totalRss } from '../scripts/room-procs.js';

const root = path.resolve(import.meta.dirname, '..');
const LEARNERS = 4;
const NOTEBOOK = '02-build-mlp.ipynb';

const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(0);

function whyNot(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (the room creates accounts)';
  if (!fs.existsSync(process.env.MNIST_NB_JUPYTERHUB || '/usr/bin/jupyterhub'))
    return 'jupyterhub not installed (apt-get install jupyterhub)';
  if (!fs.existsSync(browserPath)) return `no chromium at ${browserPath}`;
  if (spawnSync('useradd', ['--help']).error) return 'no useradd';
  return undefined;
}

function roomCli(args: string[]): { code: number | null; out: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/room.ts', ...args], {
    cwd: root,
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { code: r.status, out: r.stdout + r.stderr };
}

/** Just enough of a cookie jar for the hub's login: name=value pairs, later ones replacing earlier. */
class Jar {
  private cookies = new Map<string, string>();
  take(res: Response): void {
    // Node 20's fetch has getSetCookie; @types/node 20 does not declare it yet.
    const headers = res.headers as unknown as { getSetCookie(): string[] };
    for (const line of headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair.indexOf('=');
      this.cookies.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
    }
  }
  header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
  names(): string[] {
    return [...this.cookies.keys()];
  }
}

/** Logs in through the hub's form; the jar and the response to the POST. */
async function login(base: string, user: string, password: string) {
  const jar = new Jar();
  jar.take(await fetch(`${base}hub/login`));
  const res = await fetch(`${base}hub/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { cookie: jar.header(), 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ username: user, password }).toString(),
  });
  jar.take(res);
  return { jar, res, body: await res.text() };
}

/** An API token for `user`, made with the session cookie the login gave (as the hub's token page does). */
async function tokenFor(base: string, user: string, jar: Jar): Promise<string> {
  const res = await fetch(`${base}hub/api/users/${user}/tokens`, {
    method: 'POST',
    headers: {
      cookie: jar.header(),
      referer: `${base}hub/token`,
      'content-type': 'application/json',
    },
    body: JSON.stringify({ note: 'room test', expires_in: 3600 }),
  });
  assert.equal(res.status, 201, `token for ${user}: ${await res.clone().text()}`);
  return ((await res.json()) as { token: string }).token;
}

async function api(url: string, token: string, init: RequestInit = {}): Promise<Response> {
  return fetch(url, {
    ...init,
    redirect: 'manual',
    headers: { authorization: `token ${token}`, 'content-type': 'application/json' },
  });
}

async function startServer(base: string, user: string, token: string): Promise<void> {
  const res = await api(`${base}hub/api/users/${user}/server`, token, { method: 'POST' });
  assert.ok(
    [201, 202].includes(res.status),
    `start ${user}'s server: ${res.status} ${await res.text()}`,
  );
  const deadline = Date.now() + 180_000;
  while (Date.now() < deadline) {
    const info = (await (await api(`${base}hub/api/users/${user}`, token)).json()) as {
      servers?: Record<string, { ready: boolean }>;
    };
    if (info.servers?.['']?.ready) return;
    await new Promise((r) => setTimeout(r, 1000));
  }
  assert.fail(`${user}'s server was not ready within 180 s`);
}

interface CellResult {
  status: string;
  stdout: string;
  stderr: string;
}

/** A kernel reached through the hub's proxy with the Jupyter websocket protocol (one execute at a time). */
class RemoteKernel {
  private pending = new Map<
    string,
    { out: CellResult; replied: boolean; idle: boolean; done: () => void }
  >();
  private readonly session = randomUUID();
  /** Whether the server reported this kernel restarted (it died, e.g. killed at the memory limit). */
  restarted = false;
  private constructor(private ws: WebSocket) {
    ws.addEventListener('message', (ev) => {
      const msg = JSON.parse(String(ev.data)) as {
        channel: string;
        msg_type: string;
        parent_header: { msg_id?: string };
        content: { status?: string; execution_state?: string; name?: string; text?: string };
      };
      // The server announces a kernel it restarts (after the kernel died) with no parent message.
      if (msg.msg_type === 'status' && msg.content.execution_state === 'restarting') {
        this.restarted = true;
        for (const p of this.pending.values()) {
          p.out.status = 'kernel-restarted';
          p.done();
        }
      }
      const p = this.pending.get(msg.parent_header.msg_id ?? '');
      if (!p) return;
      if (msg.msg_type === 'stream') {
        if (msg.content.name === 'stderr') p.out.stderr += msg.content.text ?? '';
        else p.out.stdout += msg.content.text ?? '';
      } else if (msg.msg_type === 'execute_reply') {
        p.out.status = msg.content.status ?? 'unknown';
        p.replied = true;
      } else if (msg.msg_type === 'status' && msg.content.execution_state === 'idle') {
        p.idle = true;
      }
      if (p.replied && p.idle) p.done();
    });
  }

  static async open(url: string): Promise<RemoteKernel> {
    const ws = new WebSocket(url);
    await new Promise<void>((resolve, reject) => {
      ws.addEventListener('open', () => resolve());
      ws.addEventListener('error', () =>
        reject(new Error(`websocket to ${url.replace(/token=.*/, '')} failed`)),
      );
    });
    return new RemoteKernel(ws);
  }

  execute(code: string, timeoutMs = 240_000): Promise<CellResult> {
    const id = randomUUID();
    const out: CellResult = { status: 'timeout', stdout: '', stderr: '' };
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        resolve(out);
      }, timeoutMs);
      this.pending.set(id, {
        out,
        replied: false,
        idle: false,
        done: () => {
          clearTimeout(timer);
          this.pending.delete(id);
          resolve(out);
        },
      });
      this.ws.send(
        JSON.stringify({
          channel: 'shell',
          header: {
            msg_id: id,
            msg_type: 'execute_request',
            session: this.session,
            username: 'room-test',
            version: '5.3',
            date: new Date().toISOString(),
          },
          parent_header: {},
          metadata: {},
          content: {
            code,
            silent: false,
            store_history: true,
            user_expressions: {},
            allow_stdin: false,
            stop_on_error: true,
          },
          buffers: [],
        }),
      );
    });
  }

  close(): void {
    this.ws.close();
  }
}

/** Opens NOTEBOOK as the browser would (a session: the kernel starts in notebooks/) and runs every code cell. */
async function runNotebook(base: string, user: string, token: string, home: string) {
  const rel = `notebooks/${NOTEBOOK}`;
  const nbRes = await api(`${base}user/${user}/api/contents/${rel}`, token);
  assert.equal(nbRes.status, 200, `${user} reads their own ${rel}`);
  const nb = (
    (await nbRes.json()) as { content: { cells: { cell_type: string; source: string }[] } }
  ).content;
  const sessionRes = await api(`${base}user/${user}/api/sessions`, token, {
    method: 'POST',
    body: JSON.stringify({
      path: rel,
      type: 'notebook',
      name: NOTEBOOK,
      kernel: { name: 'tslab' },
    }),
  });
  assert.equal(
    sessionRes.status,
    201,
    `${user} starts a tslab session: ${await sessionRes.clone().text()}`,
  );
  const { kernel } = (await sessionRes.json()) as { kernel: { id: string } };
  const wsUrl = `${base.replace(/^http/, 'ws')}user/${user}/api/kernels/${kernel.id}/channels?token=${token}`;
  const k = await RemoteKernel.open(wsUrl);
  const t0 = performance.now();
  const cells = nb.cells.filter((c) => c.cell_type === 'code');
  const outputs: string[] = [];
  try {
    for (const [i, cell] of cells.entries()) {
      const r = await k.execute(cell.source);
      assert.equal(
        r.status,
        'ok',
        `${user}: ${NOTEBOOK} code cell ${i + 1} ended "${r.status}":\n${r.stderr || r.stdout}`,
      );
      outputs.push(r.stdout);
    }
    // Where this learner's kernel writes: its own home, never the shared kit.
    const where = await k.execute(
      'console.log(process.cwd(), process.env.MNIST_NB_MODEL, process.env.MNIST_NB_QUICK)',
    );
    assert.equal(where.stdout.trim(), `${home}/notebooks ${home}/data/models/mlp-quick 1`);
  } finally {
    k.close();
  }
  return { seconds: (performance.now() - t0) / 1000, cells: cells.length, outputs };
}

test(
  'room: four learners run notebook 02 through JupyterHub at once, isolated, and everything stops',
  { timeout: 420_000 },
  async (t) => {
    if (!toolsPresent(t, whyNot())) return;
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'room-test-'));
    fs.chmodSync(tmp, 0o755); // learners' homes live under it
    const dir = path.join(tmp, 'room');
    const homes = path.join(tmp, 'homes');
    const prefix = `rt${randomBytes(2).toString('hex')}l`;
    const admin = `${prefix}adm`;
    const decoy = `${prefix}x`;
    const port = await freePort();
    const base = `http://127.0.0.1:${port}/`;
    const t0 = performance.now();
    let launcher: ChildProcess | undefined;
    const seen = new Map<number, { pid: number; start: number }>();
    let peakRss = 0;
    let sampler: NodeJS.Timeout | undefined;
    try {
      launcher = spawn(
        process.execPath,
        [
          '--import',
          'tsx',
          'scripts/room.ts',
          'start',
          '--dir',
          dir,
          '--home-base',
          homes,
          '--learners',
          String(LEARNERS),
          '--prefix',
          prefix,
          '--admin',
          admin,
          '--port',
          String(port),
          '--quick',
          '--mem-limit',
          '1500M',
        ],
        { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let log = '';
      launcher.stdout?.on('data', (d: Buffer) => (log += d.toString()));
      launcher.stderr?.on('data', (d: Buffer) => (log += d.toString()));
      const exited = new Promise<number | null>((r) => launcher?.once('exit', r));
      const hubPid = await new Promise<number>((resolve, reject) => {
        const timer = setInterval(() => {
          const m = /room is running: \S+ \(hub PID (\d+)/.exec(log);
          if (m) {
            clearInterval(timer);
            resolve(Number(m[1]));
          }
        }, 200);
        void exited.then((code) => {
          clearInterval(timer);
          reject(new Error(`room start exited ${code}:\n${log}`));
        });
      });
      const startSeconds = (performance.now() - t0) / 1000;
      sampler = setInterval(() => {
        const tree = processTree(hubPid);
        for (const p of tree) seen.set(p.pid, p);
        peakRss = Math.max(peakRss, totalRss(tree));
      }, 500);

      const passwords = new Map(
        fs
          .readFileSync(path.join(dir, 'hub', 'passwords.txt'), 'utf8')
          .trim()
          .split('\n')
          .map((l) => l.split('\t') as [string, string]),
      );
      assert.equal(
        (fs.statSync(path.join(dir, 'hub', 'passwords.txt')).mode & 0o777).toString(8),
        '600',
      );
      const learners = Array.from(
        { length: LEARNERS },
        (_, i) => `${prefix}${String(i + 1).padStart(2, '0')}`,
      );
      assert.deepEqual([...passwords.keys()].sort(), [admin, ...learners].sort());

      // A wrong password is refused: the login page again, no session cookie.
      const bad = await login(base, learners[0], `${passwords.get(learners[0])}x`);
      assert.equal(bad.res.status, 200);
      assert.match(bad.body, /Invalid username or password/);
      assert.ok(
        !bad.jar.names().some((n) => n.startsWith('jupyterhub-session')),
        'no session for a wrong password',
      );
      // Nor does an account that is not the room's get in (root exists on every machine).
      const stranger = await login(base, 'root', 'root');
      assert.equal(stranger.res.status, 200);

      const tokens = new Map<string, string>();
      for (const user of learners) {
        const ok = await login(base, user, passwords.get(user) as string);
        assert.equal(ok.res.status, 302, `${user} logs in`);
        tokens.set(user, await tokenFor(base, user, ok.jar));
      }
      const tokenOf = (u: string) => tokens.get(u) as string;
      await Promise.all(learners.map((u) => startServer(base, u, tokenOf(u))));
      const serversSeconds = (performance.now() - t0) / 1000;

      const runs = await Promise.all(
        learners.map((u) => runNotebook(base, u, tokenOf(u), path.join(homes, u))),
      );
      for (const [i, r] of runs.entries())
        assert.ok(r.cells > 5, `${learners[i]} ran ${r.cells} cells`);
      const runsPeak = peakRss;

      // Learner A cannot reach learner B's server, nor B's account, nor B's files from A's own kernel.
      const [a, b] = learners;
      const cross = await api(`${base}user/${b}/api/contents/notebooks`, tokenOf(a));
      assert.ok([302, 403].includes(cross.status), `A's token on B's server: ${cross.status}`);
      if (cross.status === 302)
        assert.doesNotMatch(cross.headers.get('location') ?? '', new RegExp(`/user/${b}/api`));
      assert.ok([403, 404].includes((await api(`${base}hub/api/users/${b}`, tokenOf(a))).status));
      const sessionsA = (await (await api(`${base}user/${a}/api/sessions`, tokenOf(a))).json()) as {
        kernel: { id: string };
      }[];
      const probe = await RemoteKernel.open(
        `${base.replace(/^http/, 'ws')}user/${a}/api/kernels/${sessionsA[0].kernel.id}/channels?token=${tokenOf(a)}`,
      );
      const peek = await probe.execute(
        `import * as fsPeek from 'node:fs';\n` +
          `for (const f of ['${homes}/${b}/notebooks/${NOTEBOOK}', '${homes}/${b}']) {\n` +
          `  try { fsPeek.statSync(f) && fsPeek.readdirSync('${homes}/${b}'); console.log('READ', f); }\n` +
          `  catch (e) { console.log((e as NodeJS.ErrnoException).code, f); }\n}`,
      );
      probe.close();
      assert.equal(peek.status, 'ok', peek.stderr);
      assert.doesNotMatch(peek.stdout, /READ/);
      assert.match(peek.stdout, /EACCES/);

      // Per-learner memory as the kernel's cgroup saw it (server + kernel), read before anything stops.
      const state = JSON.parse(fs.readFileSync(path.join(dir, 'hub', 'run.json'), 'utf8')) as {
        cgroupDir?: string;
      };
      const perLearner = learners.map((u) => {
        const f = state.cgroupDir && path.join(state.cgroupDir, u, 'memory.max_usage_in_bytes');
        return f && fs.existsSync(f)
          ? Math.round(Number(fs.readFileSync(f, 'utf8')) / 2 ** 20)
          : NaN;
      });

      // The memory limit holds: a kernel that allocates past it is killed and restarted, its server lives on.
      const d = learners[LEARNERS - 1];
      if (state.cgroupDir) {
        const sessionsD = (await (
          await api(`${base}user/${d}/api/sessions`, tokenOf(d))
        ).json()) as {
          kernel: { id: string };
        }[];
        const hogKernel = await RemoteKernel.open(
          `${base.replace(/^http/, 'ws')}user/${d}/api/kernels/${sessionsD[0].kernel.id}/channels?token=${tokenOf(d)}`,
        );
        const hog = await hogKernel.execute(
          'const hog: Buffer[] = [];\nfor (let i = 0; i < 40; i++) hog.push(Buffer.alloc(64 * 2 ** 20, 1));\n' +
            'console.log(`holding ${hog.length * 64} MiB`);',
          120_000,
        );
        hogKernel.close();
        assert.equal(hog.status, 'kernel-restarted', `the hog ran to ${hog.status}: ${hog.stdout}`);
        assert.doesNotMatch(hog.stdout, /holding 2560 MiB/);
        assert.equal(
          (await api(`${base}user/${d}/api/status`, tokenOf(d))).status,
          200,
          `${d}'s server lives`,
        );

        const oom = fs.readFileSync(path.join(state.cgroupDir, d, 'memory.oom_control'), 'utf8');
        assert.match(oom, /oom_kill [1-9]/, `${d}'s cgroup killed the hog:\n${oom}`);
      } else {
        console.log(
          'room: no cgroup v1 memory controller here: the memory limit is not enforced or tested',
        );
      }

      // The screenshot: learner A's notebook in the hub, as their browser shows it.
      const shot = await screenshot(base, a, passwords.get(a) as string);

      clearInterval(sampler);
      const stop = roomCli(['stop', '--dir', dir]);
      assert.equal(stop.code, 0, stop.out);
      assert.match(stop.out, /none left/);
      assert.equal(await exited, 0, `the foreground room exits 0 once stopped:\n${log}`);
      const alive = [...seen.values()].filter(stillRunning);
      assert.deepEqual(
        alive.map((p) => p.pid),
        [],
        'every process the hub started is gone',
      );
      assert.ok(
        seen.size >= 2 + 2 * LEARNERS,
        `saw the hub, the proxy, ${LEARNERS} servers and kernels (${seen.size} processes)`,
      );
      if (state.cgroupDir) assert.ok(!fs.existsSync(state.cgroupDir), 'the room cgroup is removed');

      // Teardown refuses an account it did not create, even one put into its list by hand.
      assert.equal(spawnSync('useradd', ['--comment', 'not the room', decoy]).status, 0);
      const manifestFile = path.join(dir, 'hub', 'accounts.json');
      const manifest = JSON.parse(fs.readFileSync(manifestFile, 'utf8')) as { accounts: object[] };
      const decoyUid = Number(spawnSync('id', ['-u', decoy], { encoding: 'utf8' }).stdout);
      manifest.accounts.push({
        name: decoy,
        uid: decoyUid,
        home: `/home/${decoy}`,
        role: 'learner',
      });
      fs.writeFileSync(manifestFile, JSON.stringify(manifest));
      const removal = roomCli(['remove-accounts', '--dir', dir]);
      assert.equal(removal.code, 1, removal.out);
      assert.match(
        removal.out,
        new RegExp(`refusing to remove account ${decoy}: its comment is "not the room"`),
      );
      assert.equal(spawnSync('id', [decoy]).status, 0, 'the decoy account is still there');
      for (const u of [admin, ...learners]) {
        assert.notEqual(spawnSync('id', [u]).status, 0, `${u} removed`);
        assert.ok(!fs.existsSync(path.join(homes, u)), `${u}'s home removed`);
      }

      const wall = (performance.now() - t0) / 1000;
      const runSeconds = runs.map((r) => r.seconds.toFixed(0)).join(', ');
      console.log(
        `room: ${LEARNERS} learners, ${NOTEBOOK} quick: hub up in ${startSeconds.toFixed(0)} s, servers ready at ${serversSeconds.toFixed(0)} s, ` +
          `runs ${runSeconds} s; wall ${wall.toFixed(0)} s; peak RSS of the hub's tree ${mib(runsPeak)} MiB during the four runs, ` +
          `${mib(peakRss)} MiB in all (the kernel killed at the limit and the browser run included); ` +
          `peak per learner (cgroup) ${perLearner.join(', ')} MiB; screenshot ${shot}`,
      );
    } finally {
      if (sampler) clearInterval(sampler);
      if (launcher && launcher.exitCode === null) roomCli(['stop', '--dir', dir]);
      if (fs.existsSync(path.join(dir, 'hub', 'accounts.json'))) {
        // Drops the decoy from the list first, so the room's own accounts still go when an assertion failed.
        const file = path.join(dir, 'hub', 'accounts.json');
        const m = JSON.parse(fs.readFileSync(file, 'utf8')) as { accounts: { name: string }[] };
        m.accounts = m.accounts.filter((x) => x.name !== decoy);
        fs.writeFileSync(file, JSON.stringify(m));
        roomCli(['remove-accounts', '--dir', dir]);
      }
      spawnSync('userdel', ['--remove', decoy]);
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  },
);

/** Logs in as `user` in Chromium, opens their copy of NOTEBOOK, runs it all and saves test-output/room-learner.png. */
async function screenshot(base: string, user: string, password: string): Promise<string> {
  const browser = await chromium.launch({
    executablePath: browserPath,
    args: CHROMIUM_ARGS,
    headless: true,
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(`${base}hub/login`);
    await page.fill('#username_input', user);
    await page.fill('#password_input', password);
    await Promise.all([
      page.waitForURL(/\/user\//, { timeout: 60_000 }),
      page.click('#login_submit'),
    ]);
    await page.goto(`${base}user/${user}/notebooks/notebooks/${NOTEBOOK}`);
    await page.waitForFunction(
      () => {
        const j = (
          window as unknown as { Jupyter?: { notebook?: { kernel?: { is_connected(): boolean } } } }
        ).Jupyter;
        return j?.notebook?.kernel?.is_connected() === true;
      },
      undefined,
      { timeout: 120_000 },
    );
    // The kernel is the one the websocket run used (same notebook, same session): restart it first,
    // as a learner's Kernel → Restart & Run All does, so the page shows a fresh run from In [1].
    await page.evaluate(() => {
      const nb = (
        window as unknown as {
          Jupyter: { notebook: { restart_run_all(o: { confirm: boolean }): void } };
        }
      ).Jupyter.notebook;
      nb.restart_run_all({ confirm: false });
    });
    await page.waitForFunction(
      () => {
        const prompts = [...document.querySelectorAll('.input_prompt')].map(
          (e) => e.textContent ?? '',
        );
        return (
          prompts.length > 0 &&
          prompts.every((t) => !t.includes('*')) &&
          prompts.some((t) => /\d/.test(t))
        );
      },
      undefined,
      { timeout: 240_000, polling: 1000 },
    );
    const errors = await page.locator('.output_stderr').count();
    assert.equal(errors, 0, 'no error output in the browser run');
    const file = path.join(root, 'test-output', 'room-learner.png');
    fs.mkdirSync(path.dirname(file), { recursive: true });
    // Notebook 6 scrolls its own #site panel: show the first cell that printed something.
    await page.evaluate(() => {
      const nb = (
        window as unknown as {
          Jupyter: {
            notebook: {
              get_cells(): { element: HTMLElement[] }[];
              scroll_to_cell(i: number, ms: number): void;
            };
          };
        }
      ).Jupyter.notebook;
      const first = nb
        .get_cells()
        .findIndex((c) => c.element[0].querySelector('.output_subarea') !== null);
      nb.scroll_to_cell(Math.max(0, first), 0);
    });
    await page.screenshot({ path: file });
    return path.relative(root, file);
  } finally {
    await browser.close();
  }
}
