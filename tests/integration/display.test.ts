// Tests for lib/notebook/display.ts: what show/showTable/showDigits emit inside a (simulated) tslab kernel and outside one.

import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, beforeEach, describe, test } from 'node:test';
import {
  inNotebook,
  interactiveHtml,
  reloadPlotly,
  show,
  showDigits,
  showMarkdown,
  showTable,
  slug,
  type Display,
} from '../../lib/notebook/display.js';
import { barChart } from '../../lib/viz/charts.js';
import { browserPath, closeRenderer } from '../../lib/viz/render.js';
import { firstDigits, pngHeader } from '../support/figures-fixtures.js';

type Call = [kind: keyof Display, value: string | Uint8Array];

/** Stands in for tslab's kernel: tslab's executor sets globalThis.__tslab__ with a require that hands out 'tslab'. */
function fakeKernel(): Call[] {
  const calls: Call[] = [];
  const display: Display = {
    html: (s) => calls.push(['html', s]),
    markdown: (s) => calls.push(['markdown', s]),
    png: (b) => calls.push(['png', b]),
    text: (s) => calls.push(['text', s]),
  };
  (globalThis as { __tslab__?: unknown }).__tslab__ = {
    require: (id: string) => (id === 'tslab' ? { display } : undefined),
  };
  return calls;
}

function leaveKernel(): void {
  delete (globalThis as { __tslab__?: unknown }).__tslab__;
}

/** Captures console.log / console.warn while `fn` runs. */
async function captureConsole(
  fn: () => Promise<void> | void,
): Promise<{ log: string[]; warn: string[] }> {
  const out = { log: [] as string[], warn: [] as string[] };
  const { log, warn } = console;
  console.log = (...a: unknown[]) => void out.log.push(a.join(' '));
  console.warn = (...a: unknown[]) => void out.warn.push(a.join(' '));
  try {
    await fn();
  } finally {
    Object.assign(console, { log, warn });
  }
  return out;
}

const { labels, images } = firstDigits(600);
const balance = barChart(
  ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
  [
    {
      name: 'train',
      values: Array.from({ length: 10 }, (_, c) => labels.filter((l) => l === c).length),
    },
  ],
  { title: 'Class balance (first 600)', yLabel: 'digits' },
);

const ENV = ['MNIST_NB_STATIC', 'MNIST_NB_FIGURES_DIR', 'MNIST_NB_BROWSER'] as const;
const savedEnv = Object.fromEntries(ENV.map((k) => [k, process.env[k]]));
let hasBrowser = true;
try {
  await browserPath();
} catch {
  hasBrowser = false;
}

describe('display', () => {
  let dir = '';
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'mnist-nb-figures-'));
    for (const k of ENV) delete process.env[k];
  });
  afterEach(() => {
    leaveKernel();
    rmSync(dir, { recursive: true, force: true });
    for (const k of ENV)
      if (savedEnv[k] === undefined) delete process.env[k];
      else process.env[k] = savedEnv[k];
  });
  after(closeRenderer);

  test('outside a notebook show() prints a one-line description instead of failing', async () => {
    assert.equal(inNotebook(), false);
    const out = await captureConsole(() => show(balance));
    assert.deepEqual(out.log, ['[figure "Class balance (first 600)": 1 bar trace(s), 700×450]']);
  });

  test('live mode inlines plotly.js in the first figure only, later ones reuse window.Plotly', async () => {
    const calls = fakeKernel();
    assert.equal(inNotebook(), true);
    reloadPlotly();
    await show(balance);
    await show(balance);
    assert.deepEqual(
      calls.map((c) => c[0]),
      ['html', 'html'],
    );
    const [first, second] = calls.map((c) => c[1] as string);
    assert.ok(first.includes('plotly.js v4.'), 'first output carries the bundle');
    assert.ok(first.length > 3_000_000);
    assert.ok(
      // The PNG fallback inside the box adds tens of kB; the 3 MB bundle must not come again.
      !second.includes('plotly.js v4.') && second.length < 100_000,
      `second output is ${second.length} chars`,
    );
    assert.match(second, /window\.Plotly\.newPlot/);
    assert.doesNotMatch(first + second, /<script[^>]*\ssrc=/i, 'nothing from a CDN');
    assert.notEqual(
      first.match(/id="([^"]+)"/)![1],
      second.match(/id="([^"]+)"/)![1],
      'distinct div ids',
    );
  });

  test(
    'static mode shows a PNG and writes <name>.png and <name>.html atomically',
    { skip: !hasBrowser },
    async () => {
      const calls = fakeKernel();
      process.env.MNIST_NB_STATIC = '1';
      process.env.MNIST_NB_FIGURES_DIR = dir;
      await show(balance);
      await show(balance, 'balance');
      assert.deepEqual(
        calls.map((c) => c[0]),
        ['png', 'png'],
      );
      assert.deepEqual(pngHeader(calls[0][1] as Uint8Array), { width: 700, height: 450 });
      assert.deepEqual(readdirSync(dir).sort(), [
        'balance.html',
        'balance.png',
        'class-balance-first-600.html',
        'class-balance-first-600.png',
      ]);
      assert.deepEqual(pngHeader(readFileSync(join(dir, 'balance.png'))), {
        width: 1400,
        height: 900,
      });
      assert.match(readFileSync(join(dir, 'balance.html'), 'utf8'), /^<!doctype html>/);
    },
  );

  test('without a browser: interactive output, HTML file still written, exactly one warning', async () => {
    const calls = fakeKernel();
    process.env.MNIST_NB_STATIC = '1';
    process.env.MNIST_NB_FIGURES_DIR = dir;
    process.env.MNIST_NB_BROWSER = '/nonexistent/chromium';
    await closeRenderer();
    const out = await captureConsole(async () => {
      await show(balance, 'a');
      await show(balance, 'b');
    });
    assert.deepEqual(
      calls.map((c) => c[0]),
      ['html', 'html'],
    );
    assert.equal(out.warn.length, 1);
    assert.match(out.warn[0], /MNIST_NB_BROWSER is \/nonexistent\/chromium/);
    assert.deepEqual(readdirSync(dir).sort(), ['a.html', 'b.html']);
  });

  test('a figure name that is not a safe file name is rejected', async () => {
    await assert.rejects(show(balance, '../escape'), /must be letters, digits/);
  });

  test('showTable: HTML in a notebook, aligned text outside', async () => {
    const rows = [
      { digit: '5', count: 3 },
      { digit: '0', count: 12 },
    ];
    const calls = fakeKernel();
    await showTable(rows, { caption: 'counts' });
    assert.equal(calls[0][0], 'html');
    assert.match(calls[0][1] as string, /^<table/);
    leaveKernel();
    const out = await captureConsole(() => showTable(rows, { caption: 'counts' }));
    assert.equal(out.log[0].split('\n')[0], 'counts');
    assert.match(out.log[0], /5\s+3\n0\s+12$/);
  });

  test('showDigits shows a PNG and writes it to the figures dir; showMarkdown emits markdown', async () => {
    const calls = fakeKernel();
    process.env.MNIST_NB_FIGURES_DIR = dir;
    await showDigits(images, [0, 1, 2], ['5', '0', '4'], { name: 'first-three' });
    await showMarkdown('**bold**');
    assert.deepEqual(
      calls.map((c) => c[0]),
      ['png', 'markdown'],
    );
    assert.deepEqual(
      readFileSync(join(dir, 'first-three.png')),
      Buffer.from(calls[0][1] as Uint8Array),
    );
    assert.ok(!readdirSync(dir).some((f) => f.includes('.tmp')), 'no temporary files left');
    assert.ok(existsSync(join(dir, 'first-three.png')));
    // Like show, a bad name rejects the promise the cell awaits, and writes nothing.
    await assert.rejects(showDigits(images, [0], [], { name: '../escape' }), /must be letters/);
    assert.equal(calls.length, 2);
  });

  test('slug makes file names from titles', () => {
    assert.equal(slug('Loss & accuracy<br>(test set)'), 'loss-accuracy-test-set');
    assert.equal(slug('Accuracy 97.1 %'), 'accuracy-97-1-pct');
    assert.equal(slug('Précision'), 'precision');
    assert.equal(slug('<br>'), '');
  });

  test('interactive HTML says how to recover when plotly.js is missing from the page', () => {
    const html = interactiveHtml(balance, 'x1', false);
    assert.match(html, /reloadPlotly\(\)/);
    assert.ok(!html.includes('plotly.js v4.'));
  });

  test('interactive HTML carries a PNG fallback inside the figure box, which drawing replaces', () => {
    const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]);
    const html = interactiveHtml(balance, 'x2', false, png);
    const box = /<div id="x2" class="mnist-nb-figure"[^>]*>(.*?)<\/div>/.exec(html);
    assert.ok(box, 'no figure box');
    assert.match(
      box[1],
      /^<img class="mnist-nb-fallback" alt="[^"]+" style="max-width:100%" src="data:image\/png;base64,iVBORwECAw==">$/,
    );
    assert.match(html, /el\.innerHTML = ''; window\.Plotly\.newPlot/);
    assert.doesNotMatch(interactiveHtml(balance, 'x3', false), /<img/);
  });
});
