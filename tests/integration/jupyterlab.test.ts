// Every notebook and a student copy, run in JupyterLab 4 (and one in Notebook 7) through the UI with headless Chromium: no errors, figures drawn and interactive, tables and PNGs, progress, interrupt, trusted and untrusted reopening.
//
// One `npm run jupyter -- --quick` server serves a temporary folder: copies of the notebooks (listed in
// notebooks/dependencies.json), one student copy, and links to build/ and node_modules/, so Lab's
// saves never touch the committed notebooks (hashed before and after). Screenshots go to
// test-output/jupyterlab/; per-notebook seconds to test-output/jupyterlab/times.json (reported, not
// asserted).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test, type TestContext } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { CHROMIUM_ARGS } from '../../lib/viz/render.js';
import { setting } from '../../lib/core/settings.js';
import { projectRoot } from '../../lib/core/paths.js';
import { jupyterEnv, resolveSetup } from '../../scripts/jupyter/env.js';
import {
  addAndRunCell,
  drawOnWidget,
  hoverFigures,
  openNotebook,
  pageState,
  restartAndRunAll,
  save,
  shoot,
  shutDownKernels,
  startJupyter,
  stopJupyter,
  waitIdle,
  type PageState,
  type Server,
  type Ui,
} from '../support/lab-ui.js';
import { browserPath, missingJupyterTools, toolsPresent } from '../support/system-tools.js';

const root = projectRoot();
const shots = path.join(root, 'test-output', 'jupyterlab');

function sha256(file: string): string {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

/** The notebooks learners work through, from dependencies.json (the worked solutions left out). */
function listedNotebooks(): string[] {
  const deps = JSON.parse(
    fs.readFileSync(path.join(root, 'notebooks', 'dependencies.json'), 'utf8'),
  ) as { notebooks: Record<string, unknown> };
  // MNIST_NB_LAB_ONLY=02,03: a subset while working on the test (CI runs them all).
  const only = setting('MNIST_NB_LAB_ONLY');
  return Object.keys(deps.notebooks)
    .filter((n) => !n.includes('/'))
    .filter((n) => only.length === 0 || only.some((o) => n.startsWith(o)))
    .sort()
    .map((n) => `${n}.ipynb`);
}

/** The served folder: notebooks/ copies, students/ from `npm run student-copies`, build and node_modules linked. */
function workspace(notebooks: string[]): string {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nb-lab-'));
  fs.mkdirSync(path.join(tmp, 'notebooks'));
  for (const nb of notebooks)
    fs.copyFileSync(path.join(root, 'notebooks', nb), path.join(tmp, 'notebooks', nb));
  markProseCells(path.join(tmp, 'notebooks'));
  fs.symlinkSync(path.join(root, 'build'), path.join(tmp, 'build'));
  fs.symlinkSync(path.join(root, 'node_modules'), path.join(tmp, 'node_modules'));
  const copies = spawnSync(
    process.execPath,
    [
      '--import',
      'tsx',
      path.join(root, 'scripts', 'notebooks', 'student-copies.ts'),
      path.join(tmp, 'students'),
    ],
    { cwd: root, encoding: 'utf8' },
  );
  assert.equal(copies.status, 0, copies.stderr);
  return tmp;
}

/**
 * Applies the runner's takeaway rule (scripts/notebooks/nbrun.py mark_prose_cells) to the copies, as the next
 * regeneration will to the committed notebooks, so the run shows those cells collapsed.
 */
function markProseCells(dir: string): void {
  const code =
    'import sys, glob, nbformat\n' +
    'sys.path.insert(0, sys.argv[1])\n' +
    'from nbrun import mark_prose_cells\n' +
    'for f in glob.glob(sys.argv[2] + "/*.ipynb"):\n' +
    '    nb = nbformat.read(f, as_version=4)\n' +
    '    mark_prose_cells(nb)\n' +
    '    nbformat.write(nb, f)\n';
  const r = spawnSync(
    resolveSetup().python,
    ['-c', code, path.join(root, 'scripts', 'notebooks'), dir],
    {
      encoding: 'utf8',
    },
  );
  assert.equal(r.status, 0, r.stderr);
}

/** Takeaway cells in a notebook file: code cells saved with jupyter.source_hidden. */
function hiddenCells(file: string): number {
  const nb = JSON.parse(fs.readFileSync(file, 'utf8')) as {
    cells: { metadata?: { jupyter?: { source_hidden?: boolean } } }[];
  };
  return nb.cells.filter((c) => c.metadata?.jupyter?.source_hidden === true).length;
}

/** Code cells with outputs in the committed notebook (the runner's run): a live run shows as many. */
function cellsWithOutput(file: string): number {
  const nb = JSON.parse(fs.readFileSync(file, 'utf8')) as {
    cells: { cell_type: string; outputs?: unknown[] }[];
  };
  return nb.cells.filter((c) => c.cell_type === 'code' && (c.outputs ?? []).length > 0).length;
}

/** Saves the open notebook (Ctrl+S, in Lab and Notebook 7) and counts its code cells with outputs. */
async function savedCellsWithOutput(page: Page, file: string): Promise<number> {
  const before = fs.statSync(file).mtimeMs;
  await page.keyboard.press('Control+s');
  const deadline = Date.now() + 60_000;
  while (fs.statSync(file).mtimeMs === before) {
    assert.ok(Date.now() < deadline, `${file} was not saved within 60 s`);
    await new Promise((r) => setTimeout(r, 250));
  }
  await new Promise((r) => setTimeout(r, 500)); // the server writes to a temporary file, then renames
  return cellsWithOutput(file);
}

/** What every live run must show: no error, output where the runner's run had some, figures drawn. */
function assertLiveRun(name: string, s: PageState, expectedWithOutput: number): void {
  assert.deepEqual(s.errors, [], `${name}: a cell shows an error`);
  assert.equal(s.cellsWithOutput, expectedWithOutput, `${name}: code cells with output`);
  assert.equal(s.missingPlotly, 0, `${name}: a figure says plotly.js is missing`);
  assert.equal(s.drawn, s.figures, `${name}: ${s.figures - s.drawn} figure(s) not drawn by plotly`);
}

interface Row {
  notebook: string;
  ui: Ui;
  seconds: number;
  figures: number;
  hoverLabels: number;
  hoverEventsOnly: number;
  tables: number;
  pngs: number;
  collapsed: number;
}

async function runOne(
  t: TestContext,
  page: Page,
  server: Server,
  ui: Ui,
  file: string,
  servedRoot: string,
): Promise<Row> {
  const started = Date.now();
  await openNotebook(page, server, ui, file);
  await restartAndRunAll(page);
  const seconds = (Date.now() - started) / 1000;
  const s = await pageState(page);
  const name = `${ui} ${file}`;
  // Lab keeps only the cells near the viewport in the page: count outputs in the saved file instead.
  const live = await savedCellsWithOutput(page, path.join(servedRoot, file));
  assertLiveRun(
    name,
    { ...s, cellsWithOutput: live },
    cellsWithOutput(path.join(root, 'notebooks', path.basename(file))),
  );
  const hidden = hiddenCells(path.join(servedRoot, file));
  assert.equal(s.collapsedInputs, hidden, `${name}: takeaway cells not shown collapsed`);
  if (hidden > 0) {
    await shoot(
      page,
      path.join(shots, `${ui}-${path.basename(file, '.ipynb')}-takeaway.png`),
      '.jp-InputPlaceholder',
    );
  }
  const hover = await hoverFigures(page);
  assert.equal(
    hover.labels,
    s.drawn,
    `${name}: not every drawn figure showed a hover label (${JSON.stringify(hover)})`,
  );
  const stem = `${ui}-${path.basename(file, '.ipynb')}`;
  await shoot(page, path.join(shots, `${stem}.png`), '.mnist-nb-figure, .jp-RenderedImage');
  const row = {
    notebook: file,
    ui,
    seconds,
    figures: s.drawn,
    hoverLabels: hover.labels,
    hoverEventsOnly: hover.events,
    tables: s.tables,
    pngs: s.pngs,
    collapsed: s.collapsedInputs,
  };
  t.diagnostic(JSON.stringify(row));
  return row;
}

/** Types a long training into 03, watches the progress lines grow, presses the toolbar's stop button. */
async function interruptTraining(page: Page): Promise<string> {
  await addAndRunCell(
    page,
    'const long = kit.createMlp();\n' +
      'const longProgress = kit.createProgress(200, kit.cellOutput);\n' +
      'await kit.trainModel(long.model, long.config, data, {\n' +
      '  epochs: 200, batchSize: settings.batchSize, onEpoch: longProgress.onEpoch,\n' +
      '});',
  );
  const last = '.jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell >> nth=-1';
  const output = page.locator(`${last} >> .jp-OutputArea`);
  try {
    for (const epoch of [/epoch +1\/200/, /epoch +2\/200/])
      await output.getByText(epoch).waitFor({ timeout: 300_000 });
  } finally {
    await shoot(page, path.join(shots, 'lab-03-training.png'), last);
  }
  await shoot(page, path.join(shots, 'lab-03-progress.png'), last);
  await page.click(
    '.jp-NotebookPanel:not(.lm-mod-hidden) [data-command="notebook:interrupt-kernel"]',
  );
  await waitIdle(page, 120_000);
  // Give a training that kept running in the background time to show another epoch.
  await new Promise((r) => setTimeout(r, 8_000));
  const text = (await output.textContent()) ?? '';
  await shoot(page, path.join(shots, 'lab-03-interrupted.png'), last);
  // `data` comes from 03's first cell: a kernel that died and restarted would not know it.
  await addAndRunCell(
    page,
    "console.log('kernel still usable:', data.train.count > 0 ? 6 * 7 : 0);",
  );
  await waitIdle(page, 120_000);
  assert.match((await output.textContent()) ?? '', /kernel still usable: 42/);
  return text;
}

/** Reopens the saved notebook signed (trusted) and with a broken signature (untrusted). */
async function reopenSaved(
  t: TestContext,
  page: Page,
  server: Server,
  dir: string,
  file: string,
  live: PageState,
): Promise<void> {
  const saved = path.join(dir, file);
  const nb = JSON.parse(fs.readFileSync(saved, 'utf8')) as { metadata: Record<string, unknown> };
  for (const state of ['trusted', 'untrusted']) {
    nb.metadata.mnist_nb_test_copy = state;
    fs.writeFileSync(path.join(dir, `${state}.ipynb`), JSON.stringify(nb, null, 1) + '\n');
  }
  const setup = resolveSetup();
  const sign = spawnSync(setup.python, ['-m', 'nbformat.sign', path.join(dir, 'trusted.ipynb')], {
    env: jupyterEnv(setup),
    encoding: 'utf8',
  });
  assert.equal(sign.status, 0, sign.stderr);
  const folder = path.basename(dir);

  await openNotebook(page, server, 'lab', `${folder}/trusted.ipynb`);
  await page.waitForFunction(
    `document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .mnist-nb-figure svg.main-svg')` +
      `.length >= ${live.drawn}`,
    null,
    { timeout: 60_000 },
  );
  const trusted = await pageState(page);
  t.diagnostic(`trusted: ${JSON.stringify({ ...trusted, text: undefined })}`);
  assert.equal(trusted.drawn, live.drawn, 'a trusted notebook redraws every saved figure');
  assert.equal(trusted.tables, live.tables);
  assert.deepEqual(trusted.errors, []);
  await shoot(page, path.join(shots, 'lab-reopened-trusted.png'), '.mnist-nb-figure');

  await openNotebook(page, server, 'lab', `${folder}/untrusted.ipynb`);
  await page.waitForTimeout(2000);
  const untrusted = await pageState(page);
  t.diagnostic(`untrusted: ${JSON.stringify({ ...untrusted, text: undefined })}`);
  // Lab sanitises untrusted HTML: no scripts, so no plotly, but the PNG inside each figure's box stays.
  assert.equal(untrusted.drawn, 0);
  assert.equal(untrusted.fallbacks, live.figures, 'an untrusted figure shows no PNG fallback');
  assert.equal(untrusted.tables, live.tables, 'untrusted notebooks still show HTML tables');
  assert.equal(untrusted.pngs, live.pngs, 'untrusted notebooks still show PNG images');
  await shoot(page, path.join(shots, 'lab-reopened-untrusted.png'), '.mnist-nb-figure');
}

test(
  'JupyterLab 4 and Notebook 7: every notebook and a student copy run live through the UI',
  { timeout: 3_600_000 },
  async (t) => {
    if (!toolsPresent(t, missingJupyterTools())) return;
    const notebooks = listedNotebooks();
    const hashes = new Map(notebooks.map((f) => [f, sha256(path.join(root, 'notebooks', f))]));
    const tmp = workspace(notebooks);
    const served = path.join(tmp, 'notebooks');
    const rows: Row[] = [];
    let server: Server | undefined;
    let browser: Browser | undefined;
    try {
      server = await startJupyter([
        '--no-browser',
        '--quick',
        '--port',
        '0',
        '--notebook-dir',
        tmp,
      ]);
      browser = await chromium.launch({ executablePath: browserPath, args: CHROMIUM_ARGS });
      const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
      const pageErrors: string[] = [];
      // Errors thrown inside Jupyter's own bundles (Notebook 7 throws "Command 'filebrowser:open-path'
      // not registered" on its notebook page) are Jupyter's; the figures' and widgets' scripts are ours.
      const jupyterOwn = /\/static\/(lab|notebook)\/|\/lab\/extensions\//;
      page.on('pageerror', (e) => {
        if (jupyterOwn.test(e.stack ?? '')) t.diagnostic(`Jupyter's own page error: ${e.message}`);
        else pageErrors.push(`${e.message}\n${e.stack ?? ''}`);
      });

      for (const nb of notebooks) {
        rows.push(await runOne(t, page, server, 'lab', `notebooks/${nb}`, tmp));
        if (nb === '01-explore-data.ipynb') {
          const live = await pageState(page);
          await save(page);
          await reopenSaved(t, page, server, served, nb, live);
        }
        if (nb === '04-analyse-confusions.ipynb') {
          // The widget's script (build/browser/draw-pad.js, inlined in the output) runs live.
          const drawn = await drawOnWidget(page);
          t.diagnostic(`draw-a-digit widget: ${JSON.stringify(drawn)}`);
          assert.ok(drawn.widgets >= 1, 'no draw-a-digit widget mounted');
          assert.ok(Math.abs(drawn.probabilitySum - 1) < 1e-4, JSON.stringify(drawn));
          assert.equal(drawn.top, 1, `a drawn "1": ${drawn.guess}`);
          assert.match(drawn.guess, /^The model says: 1 \(\d+ % sure\)$/);
          await shoot(page, path.join(shots, 'lab-04-draw-widget.png'), '.mnist-draw-widget');
        }
        if (nb === '03-train.ipynb') {
          await t.test(
            'interrupting a training cell stops it, says so, and keeps the kernel',
            async () => {
              const text = await interruptTraining(page);
              assert.match(text, /Interrupted: training stops after the current batch/);
              const after = text.slice(text.indexOf('Interrupted'));
              assert.doesNotMatch(after, /epoch +\d+\/200/, 'training went on after the interrupt');
            },
          );
          await page.keyboard.press('Escape'); // a "kernel died" dialog, if the interrupt killed it
        }
        await shutDownKernels(server);
      }
      rows.push(await runOne(t, page, server, 'lab', 'students/02-build-mlp.ipynb', tmp));
      await shutDownKernels(server);
      rows.push(await runOne(t, page, server, 'notebook', 'notebooks/02-build-mlp.ipynb', tmp));
      await shutDownKernels(server);
      assert.deepEqual(pageErrors, [], 'the page threw');
    } finally {
      fs.mkdirSync(shots, { recursive: true });
      fs.writeFileSync(path.join(shots, 'times.json'), JSON.stringify(rows, null, 1) + '\n');
      await browser?.close();
      const code = server ? await stopJupyter(server) : 0;
      fs.rmSync(tmp, { recursive: true, force: true });
      assert.equal(code, 0, server?.log());
    }
    for (const [f, hash] of hashes)
      assert.equal(sha256(path.join(root, 'notebooks', f)), hash, `committed ${f} was modified`);
  },
);
