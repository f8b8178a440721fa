// Opens an executed fixture notebook in a real Jupyter Notebook server with headless chromium: kernel name and PNG output show.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { CHROMIUM_ARGS } from '../lib/viz/render.js';
import { browserPath, missingJupyterTools, toolsPresent } from './system-tools.js';
import { ensureKernelSpec, jupyterEnv, resolveSetup, freePort } from '../scripts/jupyter-env.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const screenshot = path.join(root, 'test-output', 'jupyter-notebook.png');

function runCli(args: string[]): { status: number | null; stderr: string } {
  const r = spawnSync(
    process.execPath,
    ['--import', 'tsx', path.join(root, 'scripts', 'notebooks.ts'), '--no-build', ...args],
    {
      cwd: root,
      encoding: 'utf8',
    },
  );
  return { status: r.status, stderr: r.stderr };
}

/** Polls the server's API until it answers (or the server exits, or 60 s pass). */
async function waitForServer(
  base: string,
  token: string,
  server: ChildProcess,
  log: () => string,
): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (server.exitCode !== null)
      throw new Error(`jupyter notebook exited with ${server.exitCode}:\n${log()}`);
    try {
      const res = await fetch(`${base}/api/status`, {
        headers: { Authorization: `token ${token}` },
      });
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`jupyter notebook did not answer within 60 s:\n${log()}`);
}

/** Shuts the notebook's kernel down through the API, then stops the server by its PID. */
async function stopServer(server: ChildProcess, base: string, token: string): Promise<void> {
  const headers = { Authorization: `token ${token}` };
  try {
    const sessions = (await (await fetch(`${base}/api/sessions`, { headers })).json()) as {
      id: string;
    }[];
    for (const s of sessions)
      await fetch(`${base}/api/sessions/${s.id}`, { method: 'DELETE', headers });
  } catch {
    // the server may already be gone; stopping it below still ends its kernels
  }
  if (server.exitCode !== null || server.pid === undefined) return;
  const exited = new Promise((resolve) => server.once('exit', resolve));
  process.kill(server.pid, 'SIGTERM');
  const timer = setTimeout(
    () => server.pid !== undefined && process.kill(server.pid, 'SIGKILL'),
    10_000,
  );
  await exited;
  clearTimeout(timer);
}

test(
  'Jupyter Notebook shows an executed notebook with the TypeScript kernel and its PNG output',
  { timeout: 180_000 },
  async (t) => {
    const setup = resolveSetup();
    if (!toolsPresent(t, missingJupyterTools())) return;
    ensureKernelSpec(setup);
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nb-browser-'));
    const work = path.join(tmp, 'work');
    const run = runCli([
      '--out-dir',
      work,
      path.join(root, 'tests', 'fixtures', 'notebooks', 'display.ipynb'),
    ]);
    assert.equal(run.status, 0, run.stderr);

    const port = await freePort();
    const token = randomBytes(24).toString('hex');
    const base = `http://127.0.0.1:${port}`;
    const args = [
      '-m',
      'notebook',
      '--no-browser',
      '--ip=127.0.0.1',
      `--port=${port}`,
      '--NotebookApp.port_retries=0',
      `--notebook-dir=${work}`,
    ];
    if (process.getuid?.() === 0) args.push('--allow-root');
    const server = spawn(setup.python, args, {
      cwd: work,
      env: { ...jupyterEnv(setup), JUPYTER_TOKEN: token },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let serverLog = '';
    server.stdout?.on('data', (d: Buffer) => (serverLog += d.toString()));
    server.stderr?.on('data', (d: Buffer) => (serverLog += d.toString()));
    const profile = fs.mkdtempSync(path.join(tmp, 'chromium-'));
    let context: Awaited<ReturnType<typeof chromium.launchPersistentContext>> | undefined;
    try {
      await waitForServer(base, token, server, () => serverLog);
      context = await chromium.launchPersistentContext(profile, {
        executablePath: browserPath,
        headless: true,
        args: CHROMIUM_ARGS,
      });
      const page = await context.newPage();
      await page.setViewportSize({ width: 1100, height: 900 });
      await page.goto(`${base}/notebooks/display.ipynb?token=${token}`);
      // The kernel indicator shows the spec's display name once the kernel has started.
      await page.waitForFunction(
        () => document.querySelector('.kernel_indicator_name')?.textContent === 'TypeScript',
        null,
        { timeout: 60_000 },
      );
      await page.waitForFunction(
        () =>
          document.querySelector('#kernel_indicator_icon')?.classList.contains('kernel_idle_icon'),
        null,
        { timeout: 60_000 },
      );
      const img = page.locator('.output_png img').first();
      await img.waitFor({ timeout: 30_000 });
      const size = await img.evaluate((el: HTMLImageElement) => [
        el.naturalWidth,
        el.naturalHeight,
      ]);
      assert.deepEqual(size, [64, 64], 'the PNG output did not decode to the fixture image');
      assert.match(await page.locator('.output_stdout').first().innerText(), /hello from tslab/);
      await img.scrollIntoViewIfNeeded();
      fs.mkdirSync(path.dirname(screenshot), { recursive: true });
      await page.screenshot({ path: screenshot });
      assert.ok(fs.statSync(screenshot).size > 1000);
    } finally {
      await context?.close();
      await stopServer(server, base, token);
      fs.rmSync(tmp, { recursive: true, force: true });
    }
    assert.notEqual(
      server.exitCode ?? server.signalCode,
      null,
      'the notebook server is still running',
    );
  },
);
