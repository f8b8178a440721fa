// Load test of the workshop room: four learners log in through JupyterHub 5 and run notebook 02 (quick) in their own JupyterLab servers at once; isolation, refusal and a clean stop are checked by PID.
//
// Needs root, the project's .venv/ (JupyterHub 5, JupyterLab) and chromium (.ci/run makes them); without
// them it fails, or is skipped with the reason when MNIST_NB_SKIP_BROWSER=1 (tests/support/system-tools.ts).
// MNIST_NB_ROOM_LEARNERS and MNIST_NB_ROOM_NOTEBOOKS (comma-separated) size it up for a one-off
// capacity run (docs/room.md); npm test runs the defaults.
// Everything binds 127.0.0.1, the accounts have a random prefix, and the accounts and homes are removed
// at the end, also when an assertion failed.
import assert from 'node:assert/strict';
import { spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { chromium } from 'playwright-core';
import { WebSocket } from 'undici';
import { CHROMIUM_ARGS } from '../../lib/viz/render.js';
import { setting } from '../../lib/core/settings.js';
import { projectRoot } from '../../lib/core/paths.js';
import { runScriptSync, startScript } from '../support/run-script.js';
import { browserPath, toolsPresent } from '../support/system-tools.js';
import { freePort } from '../../scripts/jupyter/env.js';
import { oomKills, peakBytes, type RoomCgroup } from '../../scripts/room/cgroup.js';
import { processTree, stillRunning, totalRss } from '../../scripts/room/procs.js';
import { roomPython } from '../../scripts/room/room.js';

const root = projectRoot();
const LEARNERS = setting('MNIST_NB_ROOM_LEARNERS') ?? 4;
const NOTEBOOKS = setting('MNIST_NB_ROOM_NOTEBOOKS');
if (NOTEBOOKS.length === 0) NOTEBOOKS.push('02-build-mlp.ipynb');
/** The notebook the isolation probe, the memory hog and the screenshot use: the last one run. */
const NOTEBOOK = NOTEBOOKS[NOTEBOOKS.length - 1];

const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(0);

function whyNot(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (the room creates accounts)';
  try {
    roomPython();
  } catch (err) {
    return (err as Error).message;
  }
  if (!fs.existsSync(browserPath)) return `no chromium at ${browserPath}`;
  if (spawnSync('useradd', ['--help']).error) return 'no useradd';
  return undefined;
}

function roomCli(args: string[]): { code: number | null; out: string } {
  const r = runScriptSync('room', args, { killAfterMs: 120_000 });
  return { code: r.code, out: r.output };
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
  get(name: string): string {
    return this.cookies.get(name) ?? '';
  }
}

/** The message the hub's login page shows (its login_error paragraph), or '' when it shows none. */
function loginError(body: string): string {
  return /class="login_error">([^<]*)</.exec(body)?.[1].trim() ?? '';
}

/** The words of a page's body, without its markup and scripts: what a failure message can quote. */
function pageWords(html: string): string {
  const inBody = html.slice(Math.max(0, html.indexOf('<body')));
  return inBody
    .replace(/<(script|style)\b[\s\S]*?<\/\1>/g, ' ')
    .replace(/<[^>]*>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, 400);
}

// JupyterHub's answer to a form whose _xsrf no longer matches: the login page again, asking to retry.
const FORM_EXPIRED = 'Login form invalid or expired. Try again.';

interface Login {
  jar: Jar;
  res: Response;
  body: string;
  retried: boolean;
}

/**
 * Logs in through the hub's form (with its _xsrf field, as a browser sends it); the jar, the POST's
 * response and whether it took a second try. The hub asks for a second try when it finds the form expired
 * (JupyterHub 5 logs "XSRF error on login form"); a person would retry, so this does once.
 */
async function login(base: string, user: string, password: string, tries = 2): Promise<Login> {
  const jar = new Jar();
  // JupyterHub 5 sets its _xsrf cookie only for a page a browser navigates to, not for a script's fetch.
  const page = await fetch(`${base}hub/login`, { headers: { 'sec-fetch-mode': 'navigate' } });
  jar.take(page);
  const form = await page.text();
  const xsrf = /name="_xsrf" value="([^"]+)"/.exec(form)?.[1];
  assert.ok(xsrf, `GET hub/login (${page.status}) has no _xsrf field: ${form.slice(0, 300)}`);
  const res = await fetch(`${base}hub/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: {
      cookie: jar.header(),
      'content-type': 'application/x-www-form-urlencoded',
      'sec-fetch-mode': 'navigate',
    },
    body: new URLSearchParams({ _xsrf: xsrf, username: user, password }).toString(),
  });
  jar.take(res);
  const body = await res.text();
  if (loginError(body) === FORM_EXPIRED && tries > 1) {
    return { ...(await login(base, user, password, tries - 1)), retried: true };
  }
  return { jar, res, body, retried: false };
}

/** Asserts the hub refused `user`'s login as a wrong password; a failure says what the hub said and logged. */
function assertRefused(r: Login, user: string, hubLog: string): void {
  const said = () => {
    const log = fs.existsSync(hubLog) ? fs.readFileSync(hubLog, 'utf8').split('\n').slice(-12) : [];
    return `${user}: HTTP ${r.res.status}, the page says "${loginError(r.body) || pageWords(r.body)}"; ${hubLog} ends:\n${log.join('\n')}`;
  };
  assert.equal(r.res.status, 403, said());
  assert.equal(loginError(r.body), 'Invalid username or password', said());
  const session = r.jar.names().filter((n) => n.startsWith('jupyterhub-session'));
  assert.deepEqual(session, [], `no session for a refused login (${user})`);
}

/** An API token for `user`, made with the session cookie the login gave (as the hub's token page does). */
async function tokenFor(base: string, user: string, jar: Jar): Promise<string> {
  const res = await fetch(`${base}hub/api/users/${user}/tokens`, {
    method: 'POST',
    headers: {
      cookie: jar.header(),
      referer: `${base}hub/token`,
      // JupyterHub 5 checks XSRF on cookie-authenticated API calls, as its token page sends it.
      'x-xsrftoken': jar.get('_xsrf'),
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
  /** What the handshake waits for: a kernel_info_reply, and any message on iopub. */
  private heard = { info: false, iopub: false };
  private constructor(private ws: WebSocket) {
    ws.addEventListener('message', (ev) => {
      const msg = JSON.parse(String(ev.data)) as {
        channel: string;
        msg_type: string;
        parent_header: { msg_id?: string };
        content: { status?: string; execution_state?: string; name?: string; text?: string };
      };
      if (msg.msg_type === 'kernel_info_reply') this.heard.info = true;
      if (msg.channel === 'iopub') this.heard.iopub = true;
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
    const kernel = new RemoteKernel(ws);
    await kernel.handshake(url);
    return kernel;
  }

  /**
   * Asks for kernel_info until the kernel answers and its iopub messages arrive, as JupyterLab does
   * before it runs a cell: output sent before the server's iopub subscription is live is lost, and
   * the server's own check (its "nudge") gives up after 60 s. Without this, one of 10 learners
   * starting at once on 2 cores waited 600 s for its first cell and got nothing back.
   */
  private async handshake(url: string, timeoutMs = 300_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(this.heard.info && this.heard.iopub)) {
      assert.ok(
        Date.now() < deadline,
        `kernel at ${url.replace(/token=.*/, '')} did not answer kernel_info within ${timeoutMs / 1000} s`,
      );
      this.send('kernel_info_request', randomUUID(), {});
      await new Promise((r) => setTimeout(r, 2000));
    }
  }

  private send(msgType: string, id: string, content: object): void {
    this.ws.send(
      JSON.stringify({
        channel: 'shell',
        header: {
          msg_id: id,
          msg_type: msgType,
          session: this.session,
          username: 'room-test',
          version: '5.3',
          date: new Date().toISOString(),
        },
        parent_header: {},
        metadata: {},
        content,
        buffers: [],
      }),
    );
  }

  execute(code: string, timeoutMs = 600_000): Promise<CellResult> {
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
      this.send('execute_request', id, {
        code,
        silent: false,
        store_history: true,
        user_expressions: {},
        allow_stdin: false,
        stop_on_error: true,
      });
    });
  }

  close(): void {
    this.ws.close();
  }
}

/** Opens `notebook` as JupyterLab would (a session: the kernel starts in notebooks/) and runs every code cell. */
async function runNotebook(
  base: string,
  user: string,
  token: string,
  home: string,
  notebook: string,
) {
  const rel = `notebooks/${notebook}`;
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
      name: notebook,
      kernel: { name: 'tslab' },
    }),
  });
  assert.equal(
    sessionRes.status,
    201,
    `${user} starts a tslab session: ${await sessionRes.clone().text()}`,
  );
  const { id: session, kernel } = (await sessionRes.json()) as {
    id: string;
    kernel: { id: string };
  };
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
        `${user}: ${notebook} code cell ${i + 1} ended "${r.status}":\n${r.stderr || r.stdout}`,
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
  return { seconds: (performance.now() - t0) / 1000, cells: cells.length, outputs, session };
}

/** Runs NOTEBOOKS in order for one learner, closing and halting each but the last (as learners are asked to). */
async function runNotebooks(base: string, user: string, token: string, home: string) {
  const runs = [];
  for (const [i, nb] of NOTEBOOKS.entries()) {
    const r = await runNotebook(base, user, token, home, nb);
    runs.push(r);
    if (i < NOTEBOOKS.length - 1) {
      const res = await api(`${base}user/${user}/api/sessions/${r.session}`, token, {
        method: 'DELETE',
      });
      assert.equal(res.status, 204, `${user} closes ${nb}`);
    }
  }
  return runs;
}

test(
  `room: ${LEARNERS} learners run ${NOTEBOOKS.join(', ')} in JupyterLab through JupyterHub 5 at once, isolated, and everything stops`,
  { timeout: 420_000 + (LEARNERS * NOTEBOOKS.length - 4) * 60_000 },
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
      launcher = startScript('room', [
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
      ]);
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

      // A wrong password is refused: the login page again (JupyterHub 5 answers 403), no session cookie.
      const hubLog = path.join(dir, 'hub', 'hub.log');
      const bad = await login(base, learners[0], `${passwords.get(learners[0])}x`);
      assertRefused(bad, learners[0], hubLog);
      // Nor does an account that is not the room's get in (root exists on every machine).
      const stranger = await login(base, 'root', 'root');
      assertRefused(stranger, 'root', hubLog);
      let retries = Number(bad.retried) + Number(stranger.retried);

      const tokens = new Map<string, string>();
      for (const user of learners) {
        const ok = await login(base, user, passwords.get(user) as string);
        assert.equal(
          ok.res.status,
          302,
          `${user} logs in (the page says "${loginError(ok.body) || pageWords(ok.body)}")`,
        );
        retries += Number(ok.retried);
        tokens.set(user, await tokenFor(base, user, ok.jar));
      }
      const tokenOf = (u: string) => tokens.get(u) as string;
      await Promise.all(learners.map((u) => startServer(base, u, tokenOf(u))));
      const serversSeconds = (performance.now() - t0) / 1000;

      const runs = await Promise.all(
        learners.map((u) => runNotebooks(base, u, tokenOf(u), path.join(homes, u))),
      );
      for (const [i, r] of runs.entries())
        for (const one of r) assert.ok(one.cells > 5, `${learners[i]} ran ${one.cells} cells`);
      const runsSeconds = (performance.now() - t0) / 1000 - serversSeconds;
      const runsPeak = peakRss;

      // Learner A cannot reach learner B's server, nor B's account, nor B's files from A's own kernel.
      const [a, b] = learners;
      const cross = await api(`${base}user/${b}/api/contents/notebooks`, tokenOf(a));
      assert.ok([302, 403].includes(cross.status), `A's token on B's server: ${cross.status}`);
      if (cross.status === 302)
        assert.doesNotMatch(cross.headers.get('location') ?? '', new RegExp(`/user/${b}/api`));
      assert.ok([403, 404].includes((await api(`${base}hub/api/users/${b}`, tokenOf(a))).status));
      // No terminals in the learners' servers (the accounts have no shell either).
      const terms = await api(`${base}user/${a}/api/terminals`, tokenOf(a), { method: 'POST' });
      assert.equal(terms.status, 404, `a terminal for ${a}: ${terms.status}`);
      const sessionsA = (await (await api(`${base}user/${a}/api/sessions`, tokenOf(a))).json()) as {
        id: string;
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
        cgroup?: RoomCgroup;
      };
      const group = state.cgroup;
      const perLearner = learners.map((u) => {
        const peak = group && peakBytes(group, u);
        return peak === undefined ? NaN : Math.round(peak / 2 ** 20);
      });

      // The memory limit holds: a kernel that allocates past it is killed and restarted, its server lives on.
      const d = learners[LEARNERS - 1];
      if (group) {
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

        assert.ok(oomKills(group, d) > 0, `${d}'s cgroup (v${group.version}) killed the hog`);
      } else {
        console.log(
          'room: no usable memory cgroup here: the memory limit is not enforced or tested',
        );
      }

      // The screenshot: learner A's notebook in the hub, as their browser shows it.
      // Close and halt A's notebook first, so JupyterLab starts its own kernel for it, as for a learner.
      for (const sess of sessionsA) {
        const closed = await api(`${base}user/${a}/api/sessions/${sess.id}`, tokenOf(a), {
          method: 'DELETE',
        });
        assert.equal(closed.status, 204, `${a} closes ${NOTEBOOK}`);
      }
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
      if (group) assert.ok(!fs.existsSync(group.dir), 'the room cgroup is removed');

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
      const runSeconds = runs.map((r) => r.map((x) => x.seconds.toFixed(0)).join('+')).join(', ');
      console.log(
        `room: ${LEARNERS} learners, ${NOTEBOOKS.join(' then ')} quick: hub up in ${startSeconds.toFixed(0)} s, servers ready at ${serversSeconds.toFixed(0)} s, ` +
          `runs ${runSeconds} s (all done ${runsSeconds.toFixed(0)} s after the servers); wall ${wall.toFixed(0)} s; peak RSS of the hub's tree ${mib(runsPeak)} MiB during the runs, ` +
          `${mib(peakRss)} MiB in all (the kernel killed at the limit and the browser run included); ` +
          `peak per learner (cgroup v${group?.version ?? '-'}) ${perLearner.join(', ')} MiB; screenshot ${shot}; ` +
          `${retries} of ${LEARNERS + 2} logins retried after "${FORM_EXPIRED}"`,
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

/** Logs in as `user` in Chromium, opens their copy of NOTEBOOK in JupyterLab, runs it all, saves test-output/room-learner.png. */
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
    // The hub's default URL is JupyterLab's file browser in notebooks/; the learner opens the notebook.
    await page.waitForURL(/\/lab\/tree\/notebooks/, { timeout: 60_000 });
    await page.goto(`${base}user/${user}/lab/tree/notebooks/${NOTEBOOK}`);
    const idle = page.locator('.jp-Notebook-ExecutionIndicator[data-status="idle"]');
    await idle.first().waitFor({ timeout: 120_000 });
    // A fresh kernel that JupyterLab started (the websocket run's session was closed): Run All Cells.
    await page
      .locator('.jp-Toolbar-kernelName:has-text("TypeScript")')
      .waitFor({ timeout: 60_000 });
    await page.click('.lm-MenuBar-itemLabel:text-is("Run")');
    await page.click('.lm-Menu-itemLabel:text-is("Run All Cells")');
    // Queued and running cells show [*]: wait for the run to start, then for the last one to finish.
    const running = (want: boolean) =>
      page.waitForFunction(
        (w) =>
          [...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')].some((e) =>
            (e.textContent ?? '').includes('*'),
          ) === w,
        want,
        { timeout: want ? 60_000 : 240_000, polling: 500 },
      );
    await running(true);
    await running(false);
    const errors = await page
      .locator('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')
      .count();
    assert.equal(errors, 0, 'no error output in the browser run');
    const file = path.join(root, 'test-output', 'room-learner.png');
    fs.mkdirSync(path.dirname(file), { recursive: true });
    // JupyterLab asks once whether to fetch Jupyter news (it would cover the notebook): no.
    const news = page.getByRole('button', { name: 'No', exact: true });
    if (await news.isVisible()) await news.click();
    // Show the first cell that printed something, with the notebook's name and kernel above it. Run All
    // left the view at the last cell; Lab scrolls .jp-WindowedPanel-outer, not the page.
    await page.evaluate(() => {
      const outer = document.querySelector('.jp-NotebookPanel .jp-WindowedPanel-outer');
      const first = document.querySelector('.jp-Cell .jp-OutputArea-output')?.closest('.jp-Cell');
      if (!outer || !first) return;
      outer.scrollTop = 0;
      outer.scrollTop = first.getBoundingClientRect().top - outer.getBoundingClientRect().top - 120;
    });
    // Cells off screen are painted lazily (content-visibility): give the scrolled-to ones a frame.
    await page.waitForTimeout(1500);
    await page.screenshot({ path: file });
    return path.relative(root, file);
  } finally {
    await browser.close();
  }
}
