// Figures to PNG through one reused headless Chromium with plotly.js loaded, and to offline HTML pages.

import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Browser, Page } from 'playwright-core';
import { RenderError } from '../core/errors.js';
import { sigintHandledElsewhere } from '../core/interrupt.js';
import { setting } from '../core/settings.js';
import type { Figure } from './charts.js';
import { escapeHtml } from '../core/html.js';

export interface PngOptions {
  /** CSS pixels; default: the figure's layout width/height (700×450 for the kit's builders). */
  width?: number;
  height?: number;
  /** Device pixel ratio: the PNG is width·scale × height·scale pixels. Default 1. */
  scale?: number;
}

export interface RendererStats {
  launchMs?: number;
  plotlyLoadMs?: number;
  figures: number;
  lastFigureMs?: number;
}

const require = createRequire(import.meta.url);

/** The flags the environment notes found reliable for Debian's chromium in containers. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const RENDER_TIMEOUT_MS = 60_000;

interface Session {
  browser: Browser;
  page: Page;
}

let session: Promise<Session> | undefined;
let queue: Promise<unknown> = Promise.resolve();
let idleTimer: NodeJS.Timeout | undefined;
// A live browser keeps Node's event loop busy, so a script that forgot closeRenderer() would never
// exit: close it after a short idle time. In a notebook kernel the display module raises this.
let idleCloseMs = 2000;
const stats: RendererStats = { figures: 0 };
let bundleCache: string | undefined;

/**
 * Path of the plotly.js bundle in node_modules: the full build, minified (4.8 MB). plotly.js-dist-min
 * 4.1.1 draws the kit's figures to byte-identical PNGs as the unminified plotly.js-dist (10 MB) did.
 */
export function plotlyBundlePath(): string {
  return require.resolve('plotly.js-dist-min');
}

/** plotly.js source, safe to put inside a <script> element. */
export function plotlySource(): string {
  bundleCache ??= readFileSync(plotlyBundlePath(), 'utf8').replace(/<\/script/gi, '<\\/script');
  return bundleCache;
}

/** JSON that can sit inside a <script> element: no `</script>`, `<!--` or JS-breaking line separators. */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/** How long the browser may stay idle before it is closed (ms). Notebooks keep it longer. */
export function setRendererIdleClose(ms: number): void {
  idleCloseMs = ms;
}

export function rendererStats(): RendererStats {
  return { ...stats };
}

/**
 * The Chromium executable: $MNIST_NB_BROWSER, else /usr/bin/chromium, else playwright's own download.
 * Throws RenderError when none exists.
 */
export async function browserPath(): Promise<string> {
  const fromEnv = setting('MNIST_NB_BROWSER');
  if (fromEnv) {
    if (!existsSync(fromEnv)) {
      throw new RenderError(
        `MNIST_NB_BROWSER is ${fromEnv}, which does not exist; set it to a Chromium executable`,
      );
    }
    return fromEnv;
  }
  if (existsSync('/usr/bin/chromium')) return '/usr/bin/chromium';
  const pw = await loadPlaywright();
  let fallback: string | undefined;
  try {
    fallback = pw.chromium.executablePath();
  } catch {
    fallback = undefined;
  }
  if (fallback && existsSync(fallback)) return fallback;
  throw new RenderError(
    "no headless browser for PNG figures: install Debian's chromium (apt-get install chromium) or set MNIST_NB_BROWSER to a Chromium executable",
  );
}

async function loadPlaywright(): Promise<typeof import('playwright-core')> {
  try {
    return await import('playwright-core');
  } catch {
    throw new RenderError(
      'playwright-core is not installed, so figures cannot be drawn to PNG: run npm install',
    );
  }
}

async function startSession(): Promise<Session> {
  const executablePath = await browserPath();
  const pw = await loadPlaywright();
  const t0 = performance.now();
  let browser: Browser;
  try {
    browser = await pw.chromium.launch({
      executablePath,
      args: CHROMIUM_ARGS,
      headless: true,
      // Playwright's own Ctrl-C handler closes the browser and exits the process with 130: where
      // SIGINT already has a listener, that would turn a kernel interrupt (or a CLI's "stop after the
      // current batch") into an exit a few seconds later, so it is left to that listener. (After
      // the awaits above, so a tslab kernel's listener is in place; see sigintHandledElsewhere.)
      handleSIGINT: !sigintHandledElsewhere(),
    });
  } catch (err) {
    throw new RenderError(
      `the headless browser ${executablePath} did not start: ${firstLine(err)}`,
    );
  }
  stats.launchMs = performance.now() - t0;
  browser.on('disconnected', () => {
    session = undefined;
  });
  try {
    const page = await browser.newPage();
    const t1 = performance.now();
    await page.setContent(
      '<!doctype html><html><head><meta charset="utf-8"></head><body></body></html>',
    );
    await page.addScriptTag({ content: plotlySource() });
    const version = await page.evaluate(
      () => (globalThis as unknown as { Plotly?: { version: string } }).Plotly?.version,
    );
    if (!version) throw new Error('plotly.js did not define window.Plotly');
    stats.plotlyLoadMs = performance.now() - t1;
    return { browser, page };
  } catch (err) {
    await browser.close().catch(() => undefined);
    throw new RenderError(
      `plotly.js could not be loaded into the headless browser: ${firstLine(err)}`,
    );
  }
}

function firstLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return (
    text
      .split('\n')
      .find((l) => l.trim() !== '')
      ?.trim() ?? 'unknown error'
  );
}

function getSession(): Promise<Session> {
  if (!session) {
    const started = startSession();
    session = started;
    // A failed launch must not be cached: the next figure tries again.
    started.catch(() => {
      if (session === started) session = undefined;
    });
  }
  return session;
}

/** Runs jobs one at a time on the single page, and arms the idle-close timer when the queue drains. */
function enqueue<T>(job: () => Promise<T>): Promise<T> {
  if (idleTimer) clearTimeout(idleTimer);
  idleTimer = undefined;
  const run = queue.then(job, job);
  queue = run.catch(() => undefined);
  const settled = queue;
  void settled.then(() => {
    if (queue === settled && session) armIdleClose();
  });
  return run;
}

function armIdleClose(): void {
  if (idleTimer) clearTimeout(idleTimer);
  idleTimer = setTimeout(() => void closeRenderer(), idleCloseMs);
  // The timer alone must not keep a process alive; the browser does that until it fires.
  idleTimer.unref();
}

function dimension(name: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback;
  if (!Number.isFinite(v) || v <= 0 || v > 10_000) {
    throw new RenderError(
      `cannot draw a figure with ${name} ${v}: expected a number of pixels between 1 and 10000`,
    );
  }
  return v;
}

/** Draws a plotly figure to PNG bytes (width·scale × height·scale pixels). */
export async function renderPng(fig: Figure, options: PngOptions = {}): Promise<Uint8Array> {
  const width = dimension('width', options.width, fig.layout.width ?? 700);
  const height = dimension('height', options.height, fig.layout.height ?? 450);
  const scale = dimension('scale', options.scale, 1);
  return enqueue(async () => {
    const { page } = await getSession();
    const t0 = performance.now();
    const url = await withTimeout(
      page.evaluate(
        ({ spec, w, h, s }) => {
          // Runs in the browser, where plotly.js defined window.Plotly.
          const P = (
            globalThis as unknown as {
              Plotly: { toImage(f: unknown, o: unknown): Promise<string> };
            }
          ).Plotly;
          return P.toImage(
            { data: spec.data, layout: spec.layout },
            { format: 'png', width: w, height: h, scale: s },
          );
        },
        { spec: JSON.parse(JSON.stringify(fig)) as Figure, w: width, h: height, s: scale },
      ),
      fig,
    );
    stats.figures++;
    stats.lastFigureMs = performance.now() - t0;
    const comma = url.indexOf(',');
    if (!url.startsWith('data:image/png') || comma < 0) {
      throw new RenderError(
        `plotly returned no PNG for the figure "${fig.layout.title?.text ?? ''}"`,
      );
    }
    return new Uint8Array(Buffer.from(url.slice(comma + 1), 'base64'));
  });
}

async function withTimeout<T>(p: Promise<T>, fig: Figure): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new RenderError(
            `drawing the figure "${fig.layout.title?.text ?? ''}" took over ${RENDER_TIMEOUT_MS / 1000} s`,
          ),
        ),
      RENDER_TIMEOUT_MS,
    );
  });
  try {
    return await Promise.race([p, timeout]);
  } catch (err) {
    if (err instanceof RenderError) throw err;
    throw new RenderError(
      `plotly could not draw the figure "${fig.layout.title?.text ?? ''}": ${firstLine(err)}`,
    );
  } finally {
    clearTimeout(timer);
  }
}

/** Closes the headless browser (if one is running); the next renderPng starts a new one. */
export async function closeRenderer(): Promise<void> {
  if (idleTimer) clearTimeout(idleTimer);
  idleTimer = undefined;
  const current = session;
  session = undefined;
  if (!current) return;
  try {
    const { browser } = await current;
    await browser.close();
  } catch {
    // It failed to start or already died: nothing left to close.
  }
}

/** The <div> + <script> pair that draws `fig` with an already loaded window.Plotly. */
export function figureDiv(fig: Figure, id: string): string {
  const w = fig.layout.width ?? 700;
  const h = fig.layout.height ?? 450;
  return (
    `<div id="${id}" class="mnist-nb-figure" style="width:${w}px;height:${h}px;max-width:100%"></div>\n` +
    `<script>Plotly.newPlot(${scriptJson(id)}, ${scriptJson(fig.data)}, ${scriptJson(fig.layout)}, ` +
    `{displaylogo: false, responsive: false});</script>`
  );
}

export interface HtmlOptions {
  /**
   * URL (usually relative, e.g. "../plotly.min.js") of a plotly.js file the page loads instead of
   * inlining it: many figure pages then share one copy. Default: inlined, so the page stands alone.
   */
  plotlySrc?: string;
}

/** A complete HTML page showing `fig` interactively, offline, from a file: plotly.js inlined or from `plotlySrc`. */
export function renderHtml(fig: Figure, options: HtmlOptions = {}): string {
  // Plotly titles may hold <br> and similar tags; a page title is plain text.
  const title = escapeHtml((fig.layout.title?.text ?? 'figure').replace(/<[^>]*>/g, ' '));
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    `<title>${title}</title>`,
    options.plotlySrc === undefined
      ? `<script>${plotlySource()}</script>`
      : `<script src="${escapeHtml(options.plotlySrc)}"></script>`,
    '</head>',
    '<body style="margin:16px;background:#fff">',
    figureDiv(fig, 'figure'),
    '</body>',
    '</html>',
    '',
  ].join('\n');
}
