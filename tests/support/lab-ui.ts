// Driving JupyterLab 4 and Notebook 7 like a person (menus, dialogs, toolbar) and reading what their pages show, for the browser tests.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { startScript } from './run-script.js';

export interface Server {
  child: ChildProcess;
  base: string;
  token: string;
  log: () => string;
}

/** Starts `npm run jupyter` (scripts/jupyter/jupyter.ts) with `args`; resolves once it prints its address. */
export async function startJupyter(args: string[]): Promise<Server> {
  const child = startScript('jupyter', args);
  let log = '';
  child.stderr?.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-200_000)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no URL within 180 s:\n${log}`)), 180_000);
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
  const u = new URL(url);
  return { child, base: u.origin, token: u.searchParams.get('token') ?? '', log: () => log };
}

/** Stops the command as Ctrl-C would (it shuts the kernels down, then the server); its exit code. */
export async function stopJupyter(server: Server): Promise<number | null> {
  const { child } = server;
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGINT');
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    await exited;
    clearTimeout(timer);
  }
  return child.exitCode;
}

export async function api<T>(server: Server, route: string, method = 'GET'): Promise<T> {
  const res = await fetch(`${server.base}/api/${route}`, {
    method,
    headers: { Authorization: `token ${server.token}` },
  });
  assert.ok(res.ok, `${method} /api/${route}: ${res.status}`);
  return (method === 'DELETE' ? undefined : await res.json()) as T;
}

/** Shuts every kernel down, so the next notebook starts on a quiet machine. */
export async function shutDownKernels(server: Server): Promise<void> {
  const sessions = await api<{ id: string }[]>(server, 'sessions');
  for (const s of sessions) await api(server, `sessions/${s.id}`, 'DELETE');
}

export type Ui = 'lab' | 'notebook';

const STATUS = '.jp-Notebook-ExecutionIndicator';

/** Opens `file` (relative to the served folder) and waits for the TypeScript kernel to be idle. */
export async function openNotebook(page: Page, server: Server, ui: Ui, file: string) {
  // ?reset: a fresh workspace, so Lab does not reopen the tabs of the notebooks opened before.
  const route = ui === 'lab' ? 'lab/tree' : 'notebooks';
  const reset = ui === 'lab' ? 'reset&' : '';
  await page.goto(`${server.base}/${route}/${file}?${reset}token=${server.token}`);
  await page.waitForSelector('.jp-NotebookPanel .jp-Cell', { timeout: 120_000 });
  // Lab labels the kernel button; Notebook 7 shows the name as the button's text.
  try {
    await page.waitForFunction(
      `[...document.querySelectorAll('.jp-KernelName, .jp-KernelName jp-button, .jp-Toolbar-kernelName')]` +
        `.some((e) => e.getAttribute('aria-label') === 'TypeScript' || e.textContent?.trim() === 'TypeScript')`,
      null,
      { timeout: 120_000 },
    );
  } catch (e) {
    await page.screenshot({ path: `test-output/jupyterlab/${ui}-kernel-name-timeout.png` });
    throw e;
  }
  await waitIdle(page);
  // Lab's "get notified about Jupyter news?" toast covers the lower right corner of screenshots.
  const no = page.locator('.jp-toast-button:has-text("No")');
  if (await no.count()) await no.first().click();
}

async function status(page: Page): Promise<string> {
  return (await page.getAttribute(STATUS, 'data-status').catch(() => null)) ?? '';
}

/** Waits until the kernel is idle and no cell is queued or running ("[*]"), twice 0.5 s apart. */
export async function waitIdle(page: Page, timeout = 600_000): Promise<void> {
  const deadline = Date.now() + timeout;
  let calm = 0;
  while (calm < 2) {
    assert.ok(Date.now() < deadline, `the notebook was still busy after ${timeout / 1000} s`);
    const busy = await page.evaluate(
      `[...document.querySelectorAll('.jp-InputPrompt')].some((p) => p.textContent.includes('*'))`,
    );
    calm = !busy && (await status(page)) === 'idle' ? calm + 1 : 0;
    await page.waitForTimeout(500);
  }
}

/** Kernel → "Restart Kernel and Run All Cells…" → Restart, then waits for the last cell. */
export async function restartAndRunAll(page: Page): Promise<void> {
  await page.click('.lm-MenuBar-item:has-text("Kernel")');
  await page.click('.lm-Menu-item[data-command="runmenu:restart-and-run-all"]');
  await page.click('.jp-Dialog .jp-Dialog-button.jp-mod-accept');
  // The restart first: until the kernel is busy, "idle" is the old kernel's.
  await page.waitForFunction(
    `document.querySelector('${STATUS}')?.getAttribute('data-status') === 'busy' || ` +
      `[...document.querySelectorAll('.jp-InputPrompt')].some((p) => p.textContent.includes('*'))`,
    null,
    { timeout: 120_000, polling: 100 },
  );
  await waitIdle(page);
}

/** Save through the toolbar's save button; waits until the tab is no longer marked dirty. */
export async function save(page: Page): Promise<void> {
  await page.click('.jp-NotebookPanel:not(.lm-mod-hidden) [data-command="docmanager:save"]');
  await page.waitForFunction(`!document.querySelector('.jp-mod-dirty')`, null, { timeout: 60_000 });
}

export interface PageState {
  codeCells: number;
  cellsWithOutput: number;
  /** stderr and error outputs (tslab writes errors to stderr). */
  errors: string[];
  figures: number;
  drawn: number;
  fallbacks: number;
  missingPlotly: number;
  tables: number;
  pngs: number;
  collapsedInputs: number;
  text: string;
}

// A string, not a function: tsx compiles this file with esbuild's keepNames, whose __name helper does not exist in the page.
const PAGE_STATE = `(() => {
  const q = (s) => Array.from(document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) ' + s));
  const code = q('.jp-CodeCell');
  return {
    codeCells: code.length,
    cellsWithOutput: code.filter((c) => c.querySelector('.jp-OutputArea-output')).length,
    errors: q('[data-mime-type="application/vnd.jupyter.stderr"], [data-mime-type="application/vnd.jupyter.error"]')
      .map((e) => (e.textContent || '').slice(0, 400)),
    figures: q('.mnist-nb-figure').length,
    drawn: q('.mnist-nb-figure').filter((f) => f.querySelector('svg.main-svg')).length,
    fallbacks: q('.mnist-nb-figure img.mnist-nb-fallback').filter((i) => i.complete && i.naturalWidth > 0).length,
    missingPlotly: q('.mnist-nb-figure p').filter((p) => (p.textContent || '').includes('needs plotly.js')).length,
    tables: q('.jp-RenderedHTMLCommon table').length,
    pngs: q('.jp-RenderedImage img').length,
    collapsedInputs: q('.jp-CodeCell .jp-InputPlaceholder').length,
    text: q('.jp-OutputArea-output').map((e) => e.textContent || '').join('\\n'),
  };
})()`;

export async function pageState(page: Page): Promise<PageState> {
  return (await page.evaluate(PAGE_STATE)) as PageState;
}

/** Where a person would point at a figure: the middle of a few of its bars or markers, then a grid. */
async function pointsToTry(figure: Locator): Promise<{ x: number; y: number }[]> {
  const points: { x: number; y: number }[] = [];
  const area = await figure.locator('.nsewdrag').first().boundingBox();
  if (!area) return points;
  // The biggest marks, as far as they show: a bar on a log axis starts far below the plot (log 0), so
  // the centre of its whole box lies outside the figure; a person points at the part they see.
  const boxes = await figure.locator('.point').evaluateAll((els) =>
    els.slice(0, 500).map((e) => {
      const r = e.getBoundingClientRect();
      return { left: r.left, right: r.right, top: r.top, bottom: r.bottom };
    }),
  );
  const visible = boxes.map((b) => {
    const left = Math.max(b.left, area.x);
    const right = Math.min(b.right, area.x + area.width);
    const top = Math.max(b.top, area.y);
    const bottom = Math.min(b.bottom, area.y + area.height);
    const shown = right > left && bottom > top;
    return {
      x: (left + right) / 2,
      y: (top + bottom) / 2,
      area: shown ? (right - left) * (bottom - top) : 0,
    };
  });
  visible.sort((a, b) => b.area - a.area);
  for (const b of visible.slice(0, 3)) if (b.area > 0) points.push({ x: b.x, y: b.y });
  for (const fy of [0.5, 0.3, 0.7])
    for (const fx of [0.5, 0.25, 0.75, 0.1, 0.9])
      points.push({ x: area.x + area.width * fx, y: area.y + area.height * fy });
  return points;
}

type HoverablePlot = HTMLElement & { on(event: string, f: () => void): void; hovered?: boolean };

/**
 * Points the mouse at each drawn figure until plotly shows a hover label, or at least answers the
 * pointer with its plotly_hover event. Returns how many figures showed a label and how many only
 * had the event.
 */
export async function hoverFigures(page: Page): Promise<{ labels: number; events: number }> {
  const figures = page.locator(
    '.jp-NotebookPanel:not(.lm-mod-hidden) .mnist-nb-figure.js-plotly-plot',
  );
  const result = { labels: 0, events: 0 };
  for (let i = 0; i < (await figures.count()); i++) {
    const figure = figures.nth(i);
    await figure.scrollIntoViewIfNeeded();
    await figure.evaluate((el: HoverablePlot) => {
      el.hovered = false;
      el.on('plotly_hover', () => (el.hovered = true));
    });
    let label = false;
    for (const p of await pointsToTry(figure)) {
      await page.mouse.move(p.x, p.y, { steps: 4 });
      await page.waitForTimeout(300);
      label = (await figure.locator('.hoverlayer > *').count()) > 0;
      if (label) break;
    }
    if (label) result.labels++;
    else if (await figure.evaluate((el: HoverablePlot) => el.hovered === true)) result.events++;
    await page.mouse.move(0, 0);
  }
  return result;
}

/** Types `code` into a new cell at the end (insertText: no auto-closed brackets) and runs it. */
export async function addAndRunCell(page: Page, code: string): Promise<void> {
  const cells = page.locator('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Cell');
  await cells.last().click({ position: { x: 5, y: 5 } });
  await page.keyboard.press('Escape');
  await page.keyboard.press('b'); // command mode: insert a cell below
  await page.keyboard.press('Enter'); // edit it
  await page.keyboard.insertText(code);
  await page.keyboard.press('Control+Enter'); // run it and stay: it remains the last cell
}

/**
 * Screenshots the page, scrolled to `selector`'s first match when there is one. A cell scrolled into
 * view paints on a later frame (Lab 4 and Notebook 7 skip off-screen cells: content-visibility), so
 * this waits until the element is what the page shows at its own position, then for two frames.
 */
export async function shoot(page: Page, file: string, selector?: string): Promise<void> {
  if (selector) {
    const el = page.locator(selector).first();
    if (await el.count()) {
      await el.scrollIntoViewIfNeeded();
      const shown = await el.evaluate(async (e) => {
        let hit = false;
        for (let i = 0; i < 600 && !hit; i++) {
          const r = e.getBoundingClientRect();
          const at = document.elementFromPoint(
            r.left + Math.min(r.width / 2, 40),
            Math.max(r.top, 0) + Math.min(r.height / 2, 20),
          );
          hit = at !== null && (e.contains(at) || at.contains(e));
          if (!hit) await new Promise((r) => requestAnimationFrame(r));
        }
        // No named helper here: tsx's keepNames would wrap it in a __name the page lacks.
        for (let i = 0; i < 2; i++) await new Promise((r) => requestAnimationFrame(r));
        return hit;
      });
      assert.ok(shown, `${file}: ${selector} was scrolled to but is not what the page shows there`);
    }
  }
  fs.mkdirSync(path.dirname(file), { recursive: true });
  await page.screenshot({ path: file });
  assert.ok(fs.statSync(file).size > 5000, `${file} is nearly empty`);
}

export interface WidgetDrawing {
  /** Draw-a-digit widgets mounted in the page (window.mnistDigitWidgets). */
  widgets: number;
  top: number;
  probabilitySum: number;
  guess: string;
}

/** Draws a "1" on the open notebook's draw-a-digit widget with the mouse; what the widget shows then. */
export async function drawOnWidget(page: Page): Promise<WidgetDrawing> {
  const widget = page.locator('.jp-NotebookPanel:not(.lm-mod-hidden) .mnist-draw-widget').first();
  await widget.scrollIntoViewIfNeeded();
  const box = await widget.locator('.dw-pad').boundingBox();
  assert.ok(box, 'the draw-a-digit widget shows no pad');
  await page.mouse.move(box.x + 150, box.y + 40);
  await page.mouse.down();
  await page.mouse.move(box.x + 138, box.y + 245, { steps: 25 });
  await page.mouse.up();
  // Strings, not functions: see PAGE_STATE. Predictions run on the next animation frame.
  const last = `(window.mnistDigitWidgets || []).map((w) => w.last()).find((r) => r && !r.empty)`;
  await page.waitForFunction(`Boolean(${last})`, null, { timeout: 10_000 });
  const result = (await page.evaluate(
    `(() => { const r = ${last}; return { widgets: window.mnistDigitWidgets.length, top: r.top,` +
      ` probabilitySum: r.probabilities.reduce((a, b) => a + b, 0) }; })()`,
  )) as Omit<WidgetDrawing, 'guess'>;
  return { ...result, guess: (await widget.locator('.dw-guess').textContent()) ?? '' };
}
