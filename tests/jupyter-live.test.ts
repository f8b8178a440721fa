// Live: `npm run jupyter` serves a copy of the notebooks; Chromium runs 01 through the Notebook UI and sees the TypeScript kernel, interactive plotly figures and tables, no errors.
//
// The server serves a temporary copy (--notebook-dir) beside symlinks to build/ and node_modules/, so
// the notebooks' `../build/lib/index.js` import resolves while autosave and the explicit save below
// only ever write to the copy: the committed notebooks are hashed before and after to prove it.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { chromium, type Page } from 'playwright-core';
import { CHROMIUM_ARGS } from '../lib/viz/render.js';
import { browserPath, missingJupyterTools, toolsPresent } from './system-tools.js';
import { jupyterEnv, resolveSetup, freePort } from '../scripts/jupyter-env.js';

const root = path.resolve(import.meta.dirname, '..');
const outDir = path.join(root, 'test-output');
const NOTEBOOK = '01-explore-data.ipynb';

function sha256(file: string): string {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

/** Starts `scripts/jupyter.ts` and resolves with the URL it prints once the server answers. */
function startJupyter(args: string[]): {
  child: ChildProcess;
  url: Promise<string>;
  log: () => string;
} {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(root, 'scripts', 'jupyter.ts'), ...args],
    {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let log = '';
  child.stderr?.on('data', (d: Buffer) => (log += d.toString()));
  const url = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no URL within 120 s:\n${log}`)), 120_000);
    child.stdout?.on('data', (d: Buffer) => {
      log += d.toString();
      const m = /is running: (http:\/\/127\.0\.0\.1:\d+\/\S+)/.exec(log);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`npm run jupyter exited with ${code}:\n${log}`));
    });
  });
  return { child, url, log: () => log };
}

/** Process ids whose command line mentions `needle` (Linux /proc). */
function processesMentioning(needle: string): number[] {
  const found: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(needle))
        found.push(Number(entry));
    } catch {
      // ended meanwhile
    }
  }
  return found;
}

type JupyterPage = {
  Jupyter: {
    notebook: {
      save_notebook(): Promise<unknown>;
      get_cells(): Array<{ cell_type: string; get_text(): string }>;
      trusted: boolean;
    };
  };
};

async function openNotebook(page: Page, base: string, token: string, name: string): Promise<void> {
  await page.goto(`${base}/notebooks/${name}?token=${token}`);
  // The kernel indicator shows the spec's display name once the kernel has started.
  await page.waitForFunction(
    () => document.querySelector('.kernel_indicator_name')?.textContent === 'TypeScript',
    null,
    { timeout: 90_000 },
  );
  await page.waitForFunction(
    () => document.querySelector('#kernel_indicator_icon')?.classList.contains('kernel_idle_icon'),
    null,
    { timeout: 90_000 },
  );
}

/** Cell → Run All through the menu, then waits until no cell is pending ("In [*]") and the kernel is idle. */
async function runAll(page: Page): Promise<void> {
  await page.click('#celllink');
  await page.click('#run_all_cells');
  await page.waitForFunction(
    () => [...document.querySelectorAll('.input_prompt')].some((p) => p.textContent?.includes('*')),
    null,
    { timeout: 30_000 },
  );
  await page.waitForFunction(
    () =>
      ![...document.querySelectorAll('.input_prompt')].some((p) => p.textContent?.includes('*')) &&
      document.querySelector('#kernel_indicator_icon')?.classList.contains('kernel_idle_icon'),
    null,
    { timeout: 300_000, polling: 500 },
  );
}

interface PageState {
  kernel: string;
  trusted: string;
  codeCells: number;
  cellsWithOutput: number;
  errors: string[];
  figureDivs: number;
  plotlyPlots: number;
  plotlySvgs: number;
  missingPlotly: number;
  tables: number;
  pngs: number;
}

// A string, not a function: tsx compiles this file with esbuild's keepNames, whose __name helper does not exist in the page.
const PAGE_STATE = `(() => {
  const q = (s) => Array.from(document.querySelectorAll(s));
  const code = q('.cell.code_cell');
  return {
    kernel: document.querySelector('.kernel_indicator_name')?.textContent ?? '',
    trusted: document.querySelector('#notification_trusted')?.textContent?.trim() ?? '',
    codeCells: code.length,
    cellsWithOutput: code.filter((c) => c.querySelector('.output_area')).length,
    // tslab sends errors as stderr text, not error messages: both count.
    errors: q('.output_error, .output_stderr').map((e) => (e.textContent ?? '').slice(0, 300)),
    figureDivs: q('.mnist-nb-figure').length,
    plotlyPlots: q('.js-plotly-plot').length,
    plotlySvgs: q('.js-plotly-plot svg.main-svg').length,
    missingPlotly: q('.mnist-nb-figure p').filter((p) => (p.textContent ?? '').includes('needs plotly.js')).length,
    tables: q('.output_html table').length,
    pngs: q('.output_png img').length,
  };
})()`;

async function pageState(page: Page): Promise<PageState> {
  return (await page.evaluate(PAGE_STATE)) as PageState;
}

async function shoot(page: Page, selector: string, file: string): Promise<void> {
  const el = page.locator(selector).first();
  if ((await el.count()) > 0) await el.scrollIntoViewIfNeeded();
  await page.screenshot({ path: file });
  assert.ok(fs.statSync(file).size > 5000, `${file} is nearly empty`);
}

test(
  'npm run jupyter: 01 runs live in Notebook with the TypeScript kernel, interactive figures and tables; trusted vs untrusted',
  { timeout: 600_000 },
  async (t) => {
    const setup = resolveSetup();
    if (!toolsPresent(t, missingJupyterTools())) return;
    const committed = fs
      .readdirSync(path.join(root, 'notebooks'))
      .filter((f) => f.endsWith('.ipynb'));
    const hashes = new Map(committed.map((f) => [f, sha256(path.join(root, 'notebooks', f))]));

    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nb-live-'));
    const served = path.join(tmp, 'notebooks');
    fs.mkdirSync(served);
    fs.copyFileSync(path.join(root, 'notebooks', NOTEBOOK), path.join(served, NOTEBOOK));
    fs.symlinkSync(path.join(root, 'build'), path.join(tmp, 'build'));
    fs.symlinkSync(path.join(root, 'node_modules'), path.join(tmp, 'node_modules'));
    fs.mkdirSync(outDir, { recursive: true });

    const port = await freePort();
    const jupyter = startJupyter([
      '--notebook',
      '--no-browser',
      '--quick',
      '--port',
      String(port),
      '--notebook-dir',
      served,
    ]);
    const profile = fs.mkdtempSync(path.join(tmp, 'chromium-'));
    let context: Awaited<ReturnType<typeof chromium.launchPersistentContext>> | undefined;
    const kernelIds: string[] = [];
    try {
      const url = new URL(await jupyter.url);
      const token = url.searchParams.get('token') ?? '';
      const base = url.origin;
      assert.equal(url.hostname, '127.0.0.1');
      const specs = (await (
        await fetch(`${base}/api/kernelspecs`, { headers: { Authorization: `token ${token}` } })
      ).json()) as {
        kernelspecs: Record<string, { spec: { argv: string[]; display_name: string } }>;
      };
      assert.equal(specs.kernelspecs.tslab.spec.display_name, 'TypeScript');
      assert.equal(
        specs.kernelspecs.tslab.spec.argv[0],
        path.join(root, 'node_modules', '.bin', 'tslab'),
      );

      context = await chromium.launchPersistentContext(profile, {
        executablePath: browserPath,
        headless: true,
        args: CHROMIUM_ARGS,
      });
      const page = await context.newPage();
      await page.setViewportSize({ width: 1200, height: 1000 });
      const pageErrors: string[] = [];
      page.on('pageerror', (e) => pageErrors.push(e.message));

      // 1. Run all cells live.
      await openNotebook(page, base, token, NOTEBOOK);
      await runAll(page);
      await page.waitForFunction(
        () => document.querySelectorAll('.js-plotly-plot svg.main-svg').length > 0,
        null,
        { timeout: 30_000 },
      );
      const live = await pageState(page);
      t.diagnostic(`live run: ${JSON.stringify(live)}`);
      assert.equal(live.kernel, 'TypeScript');
      assert.deepEqual(live.errors, [], 'a cell shows an error');
      assert.equal(
        live.cellsWithOutput,
        live.codeCells,
        'a code cell has no output (tslab aborts the cells after a failing one)',
      );
      assert.ok(live.figureDivs >= 1, 'no interactive figure was shown');
      assert.equal(live.plotlyPlots, live.figureDivs, 'not every figure was drawn by plotly');
      assert.ok(live.plotlySvgs >= live.figureDivs, 'a plotly figure has no svg');
      assert.equal(live.missingPlotly, 0);
      assert.ok(live.tables >= 1, 'no table shown');
      assert.deepEqual(pageErrors, []);
      await shoot(page, '.js-plotly-plot', path.join(outDir, 'jupyter-live-01.png'));
      const sessions = (await (
        await fetch(`${base}/api/sessions`, { headers: { Authorization: `token ${token}` } })
      ).json()) as { kernel: { id: string } }[];
      kernelIds.push(...sessions.map((s) => s.kernel.id));

      // 2. Save: a notebook saved live carries plotly.js once (the first figure) plus each figure's data.
      await page.evaluate(() =>
        (globalThis as unknown as JupyterPage).Jupyter.notebook.save_notebook(),
      );
      const saved = path.join(served, NOTEBOOK);
      const savedBytes = fs.statSync(saved).size;
      t.diagnostic(`saved live ${NOTEBOOK}: ${savedBytes} bytes`);
      fs.writeFileSync(
        path.join(outDir, 'jupyter-live-sizes.json'),
        JSON.stringify({ notebook: NOTEBOOK, savedLiveBytes: savedBytes }, null, 1) + '\n',
      );

      // 3. The same saved notebook, opened without running, trusted and untrusted. Editing metadata breaks
      //    the signature the save just recorded; `jupyter trust` (nbformat.sign) signs the trusted copy again.
      const nb = JSON.parse(fs.readFileSync(saved, 'utf8')) as {
        metadata: Record<string, unknown>;
      };
      for (const state of ['trusted', 'untrusted']) {
        nb.metadata.mnist_nb_test_copy = state;
        fs.writeFileSync(path.join(served, `${state}.ipynb`), JSON.stringify(nb, null, 1) + '\n');
      }
      const sign = spawnSync(
        setup.python,
        ['-m', 'nbformat.sign', path.join(served, 'trusted.ipynb')],
        { env: jupyterEnv(setup), encoding: 'utf8' },
      );
      assert.equal(sign.status, 0, sign.stderr);

      await openNotebook(page, base, token, 'trusted.ipynb');
      await page.waitForFunction(
        () => document.querySelectorAll('.js-plotly-plot svg.main-svg').length > 0,
        null,
        { timeout: 30_000 },
      );
      const trusted = await pageState(page);
      t.diagnostic(`trusted: ${JSON.stringify(trusted)}`);
      assert.equal(trusted.trusted, 'Trusted');
      assert.equal(
        trusted.plotlyPlots,
        live.figureDivs,
        'a trusted notebook redraws every saved interactive figure',
      );
      assert.equal(trusted.tables, live.tables);
      assert.deepEqual(trusted.errors, []);
      await shoot(page, '.js-plotly-plot', path.join(outDir, 'jupyter-live-trusted.png'));

      await openNotebook(page, base, token, 'untrusted.ipynb');
      const untrusted = await pageState(page);
      t.diagnostic(`untrusted: ${JSON.stringify(untrusted)}`);
      // Notebook 6 strips script-bearing HTML from untrusted outputs: the figures' divs and plotly.js are
      // gone, while sanitized HTML tables, PNG digit images and text stay.
      assert.equal(untrusted.trusted, 'Not Trusted');
      assert.equal(untrusted.plotlyPlots, 0);
      assert.equal(untrusted.tables, live.tables, 'untrusted notebooks still show HTML tables');
      assert.equal(untrusted.pngs, live.pngs, 'untrusted notebooks still show PNG images');
      assert.deepEqual(untrusted.errors, []);
      await shoot(page, '.output_html table', path.join(outDir, 'jupyter-live-untrusted.png'));
      const live2 = await page.evaluate(
        () => (globalThis as unknown as JupyterPage).Jupyter.notebook.trusted,
      );
      assert.equal(live2, false);
    } finally {
      await context?.close();
      // Stop the command by its PID, as Ctrl-C would: it shuts the kernels down and then the server.
      if (jupyter.child.exitCode === null && jupyter.child.pid !== undefined) {
        const exited = new Promise((r) => jupyter.child.once('exit', r));
        jupyter.child.kill('SIGINT');
        const timer = setTimeout(() => jupyter.child.kill('SIGKILL'), 30_000);
        await exited;
        clearTimeout(timer);
      }
      fs.rmSync(tmp, { recursive: true, force: true });
    }
    assert.equal(jupyter.child.exitCode, 0, jupyter.log());
    assert.match(jupyter.log(), /SIGINT: stopping the server and its kernels/);
    assert.ok(kernelIds.length >= 1);
    for (const id of kernelIds)
      assert.deepEqual(
        processesMentioning(`kernel-${id}.json`),
        [],
        `kernel ${id} outlived the server`,
      );
    assert.deepEqual(
      processesMentioning(`--notebook-dir=${served}`),
      [],
      'the Jupyter server is still running',
    );
    for (const [f, hash] of hashes)
      assert.equal(
        sha256(path.join(root, 'notebooks', f)),
        hash,
        `committed notebook ${f} was modified`,
      );
  },
);
