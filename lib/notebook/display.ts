// Showing figures, tables, digit images and markdown in a tslab notebook, or as short text outside one.
// Every show* returns a promise for the cell to await: a figure's PNG comes from a browser, which
// takes time, and one rule for all keeps errors in their cell (an unawaited rejection fails none).

import { randomBytes } from 'node:crypto';
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { digitGridPng, type DigitGridOptions } from '../viz/digit-images.js';
import { KitError } from '../core/errors.js';
import { figureTitle, type Figure } from '../viz/charts.js';
import {
  plotlySource,
  renderHtml,
  renderPng,
  scriptJson,
  setRendererIdleClose,
} from '../viz/render.js';
import { setting } from '../core/settings.js';
import {
  dataFrameToHtml,
  dataFrameToText,
  type TableInput,
  type TableOptions,
} from '../viz/tables.js';

/** The part of tslab's `display` object used here; each call emits one output of one MIME type. */
export interface Display {
  html(s: string): void;
  markdown(s: string): void;
  png(b: Uint8Array): void;
  text(s: string): void;
}

export interface ShowOptions {
  /** File name (without extension) in MNIST_NB_FIGURES_DIR; default: a slug of the title, else figure-N. */
  name?: string;
  /** Scale of the PNG written to MNIST_NB_FIGURES_DIR (the PNG shown in the notebook uses 1). Default 2. */
  fileScale?: number;
}

type TslabHook = { require?: (id: string) => unknown };

/**
 * tslab's display object when this code runs inside a tslab kernel, else undefined.
 * tslab's executor sets globalThis.__tslab__ and its require('tslab') returns the kernel's own
 * module, whose display is wired to the running cell, even if this file resolved another copy.
 */
export function kernelDisplay(): Display | undefined {
  const hook = (globalThis as { __tslab__?: TslabHook }).__tslab__;
  if (typeof hook?.require !== 'function') return undefined;
  try {
    const mod = hook.require('tslab') as { display?: Display } | undefined;
    return mod?.display && typeof mod.display.html === 'function' ? mod.display : undefined;
  } catch {
    return undefined;
  }
}

export function inNotebook(): boolean {
  return kernelDisplay() !== undefined;
}

export function staticMode(): boolean {
  return setting('MNIST_NB_STATIC');
}

function figuresDir(): string | undefined {
  return setting('MNIST_NB_FIGURES_DIR');
}

/** MNIST_NB_FIGURES_PLOTLY: a shared plotly.js the HTML figure files load (the runner sets ../plotly.min.js). */
function figuresPlotly(): string | undefined {
  return setting('MNIST_NB_FIGURES_PLOTLY');
}

let warnedNoPng = false;

/** One warning per process: later figures fall back silently. */
function warnNoPng(err: unknown): void {
  if (warnedNoPng) return;
  warnedNoPng = true;
  const why = err instanceof Error ? err.message : String(err);
  console.warn(
    `mnist-notebooks: figures cannot be drawn to PNG (${why}); showing interactive figures instead, and no PNG files are written.`,
  );
}

/** Writes `file` via a temporary file and a rename, so a failed run never leaves half a file. */
function writeAtomic(file: string, content: string | Uint8Array): void {
  const tmp = `${file}.tmp-${process.pid}`;
  try {
    writeFileSync(tmp, content);
    renameSync(tmp, file);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

let figureCount = 0;
let digitsCount = 0;

/** A file-name-safe slug: "Loss & accuracy<br>(test)" → "loss-accuracy-test". */
export function slug(text: string): string {
  return text
    .replace(/<[^>]*>/g, ' ')
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/%/g, ' pct ')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 60)
    .replace(/-+$/, '');
}

function checkName(name: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) {
    throw new KitError(
      'figure-name',
      `figure name "${name}" must be letters, digits, '.', '_' or '-' (it becomes a file name)`,
    );
  }
  return name;
}

// Set after the first interactive figure of this kernel process has carried plotly.js into the page.
let plotlyInlined = false;

/** Makes the next interactive figure carry plotly.js again (after clearing all outputs in the page). */
export function reloadPlotly(): void {
  plotlyInlined = false;
}

/**
 * Interactive HTML for one figure. The first figure of a kernel process inlines plotly.js (4.8 MB);
 * later ones reuse window.Plotly, which stays in the page because Notebook, JupyterLab and VS Code
 * render all outputs of a notebook in one page. A figure whose page lacks Plotly says how to fix it.
 * `fallbackPng`, when given, is shown inside the figure's box until plotly draws there: where scripts
 * do not run (an untrusted notebook: JupyterLab and Notebook 7 strip them, keep the image) it stays.
 */
export function interactiveHtml(
  fig: Figure,
  id: string,
  withPlotly: boolean,
  fallbackPng?: Uint8Array,
): string {
  const w = fig.layout.width ?? 700;
  const h = fig.layout.height ?? 450;
  const missing =
    '<p style="color:#a00;font-family:sans-serif">This figure needs plotly.js, which the first figure of this kernel session loaded into the page, ' +
    'and that output is gone (cleared, or the page was reloaded without it). Run <code>reloadPlotly()</code> and this cell again, ' +
    'or run the notebook from the top.</p>';
  const draw =
    `(function () {\n` +
    `  var id = ${scriptJson(id)};\n` +
    `  function draw() { var el = document.getElementById(id); if (el) el.innerHTML = ''; window.Plotly.newPlot(id, ${scriptJson(fig.data)}, ${scriptJson(fig.layout)}, {displaylogo: false}); }\n` +
    `  if (window.Plotly) { draw(); return; }\n` +
    `  var tries = 0, timer = setInterval(function () {\n` +
    `    if (window.Plotly) { clearInterval(timer); draw(); }\n` +
    `    else if (++tries > 50) { clearInterval(timer); var el = document.getElementById(id); if (el) { el.style.height = 'auto'; el.insertAdjacentHTML('afterbegin', ${scriptJson(missing)}); } }\n` +
    `  }, 100);\n` +
    `})();`;
  const fallback = fallbackPng
    ? `<img class="mnist-nb-fallback" alt="${escapeAttribute(figureTitle(fig) ?? 'figure')}" ` +
      `style="max-width:100%" src="data:image/png;base64,${Buffer.from(fallbackPng).toString('base64')}">`
    : '';
  return (
    `<div id="${id}" class="mnist-nb-figure" style="width:${w}px;min-height:${h}px;max-width:100%">${fallback}</div>\n` +
    (withPlotly ? `<script>${plotlySource()}</script>\n` : '') +
    `<script>${draw}</script>`
  );
}

function escapeAttribute(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
}

function describe(fig: Figure): string {
  const kinds = new Map<string, number>();
  for (const t of fig.data) kinds.set(t.type, (kinds.get(t.type) ?? 0) + 1);
  const traces = [...kinds].map(([k, n]) => `${n} ${k}`).join(', ');
  return `[figure "${figureTitle(fig) ?? 'untitled'}": ${traces || 'no'} trace(s), ${fig.layout.width}×${fig.layout.height}]`;
}

/** PNG bytes, or undefined (after one warning per process) when no browser can draw them. */
async function tryPng(fig: Figure, scale: number): Promise<Uint8Array | undefined> {
  try {
    return await renderPng(fig, { scale });
  } catch (err) {
    if (!(err instanceof KitError)) throw err;
    warnNoPng(err);
    return undefined;
  }
}

function emit(display: Display | undefined, output: () => void, fallback: string): void {
  if (!display) {
    console.log(fallback);
    return;
  }
  try {
    output();
  } catch {
    // tslab throws "Not ready" when no cell is running (e.g. a show() nobody awaited); say it as text.
    console.log(fallback);
  }
}

/**
 * Shows a figure. In a notebook: interactive plotly (default) or, with MNIST_NB_STATIC=1, a PNG that
 * GitHub and untrusted notebooks display. With MNIST_NB_FIGURES_DIR set, also writes <name>.png and
 * <name>.html there (the page loads plotly.js from MNIST_NB_FIGURES_PLOTLY when set, else inlines it). Outside a notebook prints a one-line description.
 */
export async function show(fig: Figure, nameOrOptions?: string | ShowOptions): Promise<void> {
  const options =
    typeof nameOrOptions === 'string' ? { name: nameOrOptions } : (nameOrOptions ?? {});
  figureCount++;
  const display = kernelDisplay();
  // A kernel is long-lived and draws figures minutes apart: keep the browser instead of relaunching.
  if (display) setRendererIdleClose(10 * 60_000);
  const name = checkName(options.name ?? (slug(figureTitle(fig) ?? '') || `figure-${figureCount}`));
  const written = await writeFigureFiles(fig, name, options.fileScale ?? 2);
  const note = written.length ? ` → ${written.join(', ')}` : '';
  if (display && staticMode()) {
    const png = await tryPng(fig, 1);
    if (png) {
      emit(display, () => display.png(png), describe(fig) + note);
      return;
    }
  }
  if (display) {
    // Unique across kernel restarts too: outputs of earlier sessions stay in the page.
    const html = interactiveHtml(
      fig,
      `mnist-nb-fig-${randomBytes(6).toString('hex')}`,
      !plotlyInlined,
      await tryPng(fig, 1),
    );
    emit(display, () => display.html(html), describe(fig) + note);
    plotlyInlined = true;
    return;
  }
  console.log(describe(fig) + note);
}

async function writeFigureFiles(fig: Figure, name: string, scale: number): Promise<string[]> {
  const dir = figuresDir();
  if (!dir) return [];
  mkdirSync(dir, { recursive: true });
  const written: string[] = [];
  const png = await tryPng(fig, scale);
  if (png) {
    writeAtomic(join(dir, `${name}.png`), png);
    written.push(join(dir, `${name}.png`));
  }
  writeAtomic(join(dir, `${name}.html`), renderHtml(fig, { plotlySrc: figuresPlotly() }));
  written.push(join(dir, `${name}.html`));
  return written;
}

/** Shows a danfo DataFrame/Series or an array of row objects as a styled HTML table (aligned text outside a notebook). */
export async function showTable(data: TableInput, options: TableOptions = {}): Promise<void> {
  const display = kernelDisplay();
  const text = dataFrameToText(data, options);
  emit(display, () => display!.html(dataFrameToHtml(data, options)), text);
}

export interface ShowDigitsOptions extends DigitGridOptions {
  /** File name (without extension) in MNIST_NB_FIGURES_DIR; default digits-N. */
  name?: string;
}

/** Shows PNG bytes (e.g. from digitGalleryPng) and writes <name>.png to MNIST_NB_FIGURES_DIR when set. */
export async function showPng(png: Uint8Array, name?: string): Promise<void> {
  digitsCount++;
  const fileName = checkName(name ?? `digits-${digitsCount}`);
  const dir = figuresDir();
  let note = '';
  if (dir) {
    mkdirSync(dir, { recursive: true });
    writeAtomic(join(dir, `${fileName}.png`), png);
    note = ` → ${join(dir, `${fileName}.png`)}`;
  }
  const display = kernelDisplay();
  emit(
    display,
    () => display!.png(png),
    `[image "${fileName}": ${pngSize(png)} PNG, ${png.length} bytes]${note}`,
  );
}

/** Shows a captioned grid of digits (see digitGridPng) as a PNG, which every notebook viewer displays. */
export async function showDigits(
  images: Float32Array,
  indices: readonly number[],
  captions: readonly string[] = [],
  options: ShowDigitsOptions = {},
): Promise<void> {
  await showPng(digitGridPng(images, indices, captions, options), options.name);
}

function pngSize(png: Uint8Array): string {
  if (png.length < 24) return '?×?';
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  return `${view.getUint32(16)}×${view.getUint32(20)}`;
}

/** Shows markdown in a notebook; prints it as is outside one. */
export async function showMarkdown(markdown: string): Promise<void> {
  const display = kernelDisplay();
  emit(display, () => display!.markdown(markdown), markdown);
}
