// Tests for lib/viz/render.ts: real PNGs from headless chromium, offline HTML, browser reuse and clear errors.

import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { RenderError } from '../../lib/core/errors.js';
import { confusionMatrixHeatmap, lineChart } from '../../lib/viz/charts.js';
import {
  browserPath,
  closeRenderer,
  plotlyBundlePath,
  renderHtml,
  renderPng,
  rendererStats,
} from '../../lib/viz/render.js';
import { decodePng, distinctColours, firstDigits, pngHeader } from '../support/figures-fixtures.js';
import { withEnv } from '../support/with-env.js';

const OUT = resolve('test-output');
const CLASSES = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];

/** Without a browser the PNG tests skip here, but CI must have one (.ci/run installs chromium). */
async function noBrowserReason(): Promise<string | false> {
  try {
    await browserPath();
    return false;
  } catch (err) {
    if (process.env.CI) throw err;
    return `no headless browser: ${(err as Error).message}`;
  }
}
const skip = await noBrowserReason();

/** A confusion matrix of real labels against a real but crude rule: "predict the previous digit's label". */
function realConfusion(): number[][] {
  const { labels } = firstDigits(1000, 't10k');
  const m = CLASSES.map(() => new Array<number>(10).fill(0));
  for (let i = 0; i < labels.length; i++)
    m[labels[i]][i % 3 === 0 ? labels[i] : labels[(i + 1) % labels.length]]++;
  return m;
}

const learningCurves = lineChart(
  [
    {
      name: 'train accuracy',
      y: [0.912, 0.951, 0.963, 0.97, 0.975, 0.979, 0.982, 0.984, 0.986, 0.988],
    },
    {
      name: 'validation accuracy',
      y: [0.92, 0.948, 0.958, 0.964, 0.968, 0.97, 0.972, 0.973, 0.974, 0.975],
      dash: 'dash',
    },
    {
      name: 'test accuracy',
      y: [0.919, 0.947, 0.957, 0.963, 0.967, 0.969, 0.971, 0.972, 0.973, 0.974],
      dash: 'dot',
    },
  ],
  {
    title: 'Learning curves (MLP 784-128-10)',
    yLabel: 'accuracy',
    percent: true,
    references: [
      { x: 1, y: 0.923 },
      { x: 5, y: 0.971 },
      { x: 10, y: 0.982 },
    ],
  },
);

describe('renderPng', { skip }, () => {
  before(() => mkdirSync(OUT, { recursive: true }));
  after(closeRenderer);

  test('a confusion matrix becomes a real, non-blank PNG of the asked size × scale', async () => {
    const fig = confusionMatrixHeatmap(realConfusion(), CLASSES, {
      title: 'Confusion matrix (1000 test digits)',
    });
    const png = await renderPng(fig, { width: 650, height: 600, scale: 2 });
    writeFileSync(join(OUT, 'confusion-matrix.png'), png);
    assert.deepEqual(pngHeader(png), { width: 1300, height: 1200 });
    const img = decodePng(png);
    assert.equal(img.width, 1300);
    assert.ok(distinctColours(img) > 20, 'shades of the colour scale, text and white background');
    // The diagonal cell of class 0 (top-left of the matrix) must be dark blue, not white.
    let dark = 0;
    for (let i = 0; i < img.data.length; i += 4)
      if (img.data[i] < 60 && img.data[i + 2] > 80) dark++;
    assert.ok(dark > 10_000, `expected dark blue diagonal cells, found ${dark} such pixels`);
  });

  test('the browser is reused: a second figure launches nothing new and takes the layout size', async () => {
    const before = rendererStats();
    const png = await renderPng(learningCurves, { scale: 2 });
    writeFileSync(join(OUT, 'learning-curves.png'), png);
    const after = rendererStats();
    assert.equal(after.figures, before.figures + 1);
    assert.equal(after.launchMs, before.launchMs, 'no second launch');
    assert.deepEqual(pngHeader(png), { width: 1400, height: 900 });
    assert.ok(distinctColours(decodePng(png)) > 10);
  });

  test('after closeRenderer the next figure starts a new browser', async () => {
    await closeRenderer();
    const png = await renderPng(learningCurves, { width: 300, height: 200 });
    assert.deepEqual(pngHeader(png), { width: 300, height: 200 });
  });

  test('where SIGINT has a listener (a tslab kernel), a SIGINT leaves the browser open and the process running', async () => {
    await closeRenderer();
    const kernelListener = () => undefined; // like tslab's: the signal no longer ends the process
    process.on('SIGINT', kernelListener);
    try {
      await renderPng(learningCurves, { width: 300, height: 200 });
      const launched = rendererStats();
      const handled = new Promise((resolve) => process.once('SIGINT', resolve));
      process.kill(process.pid, 'SIGINT');
      await handled;
      // Playwright's default handler would now be closing the browser, then exit the process (130).
      const png = await renderPng(learningCurves, { width: 300, height: 200 });
      assert.deepEqual(pngHeader(png), { width: 300, height: 200 });
      const after = rendererStats();
      assert.equal(after.launchMs, launched.launchMs, 'the interrupt closed the browser');
      assert.equal(after.figures, launched.figures + 1);
    } finally {
      process.off('SIGINT', kernelListener);
    }
  });

  test('bad sizes and a missing MNIST_NB_BROWSER give a RenderError naming the value', async () => {
    await assert.rejects(renderPng(learningCurves, { width: 0 }), RenderError);
    await closeRenderer();
    await withEnv({ MNIST_NB_BROWSER: '/nonexistent/chromium' }, () =>
      assert.rejects(renderPng(learningCurves), (err: Error) => {
        assert.ok(err instanceof RenderError);
        assert.match(err.message, /MNIST_NB_BROWSER is \/nonexistent\/chromium/);
        return true;
      }),
    );
  });
});

describe('renderHtml', () => {
  const tricky = lineChart([{ name: 'a </script><script>alert(1)</script>', y: [1, 2, 3] }], {
    title: 'Title <br>with tag & "quotes"',
  });
  const html = renderHtml(tricky);

  test('inlines plotly.js from node_modules: no script loaded from the network', () => {
    assert.doesNotMatch(html, /<script[^>]*\ssrc=/i);
    assert.ok(html.includes('plotly.js v4.'), 'the bundle header is inlined');
    assert.ok(html.length > 3_000_000, `self-contained page is ${html.length} characters`);
  });

  test('figure text cannot close the script element', () => {
    const scripts = html.match(/<script>/g)?.length;
    const closes = html.match(/<\/script>/gi)?.length;
    assert.equal(scripts, 2);
    assert.equal(closes, 2);
    assert.match(html, /<title>Title {2}with tag &#38; &#34;quotes&#34;<\/title>/);
  });

  test(
    'the page draws the figure in a browser with all network requests blocked',
    { skip },
    async () => {
      mkdirSync(OUT, { recursive: true });
      const file = join(OUT, 'learning-curves.html');
      writeFileSync(file, renderHtml(learningCurves));
      const { chromium } = await import('playwright-core');
      const browser = await chromium.launch({
        executablePath: await browserPath(),
        args: ['--no-sandbox', '--disable-gpu'],
      });
      try {
        const page = await browser.newPage();
        const external: string[] = [];
        await page.route(/^https?:/, (route) => {
          external.push(route.request().url());
          return route.abort();
        });
        await page.goto(pathToFileURL(file).href);
        await page.waitForSelector('#figure .main-svg', { timeout: 30_000 });
        const traces = await page.locator('#figure .scatterlayer .trace').count();
        assert.equal(traces, 4, 'three curves and the reference points');
        assert.deepEqual(external, []);
      } finally {
        await browser.close();
      }
    },
  );

  test(
    'with plotlySrc the page loads one shared plotly.js file instead of inlining it, and still draws offline',
    { skip },
    async () => {
      const page = renderHtml(learningCurves, { plotlySrc: '../plotly.min.js' });
      assert.match(page, /<script src="\.\.\/plotly\.min\.js"><\/script>/);
      assert.ok(page.length < 50_000, `page is ${page.length} characters`);
      const dir = join(OUT, 'shared-plotly');
      mkdirSync(join(dir, 'nb'), { recursive: true });
      copyFileSync(plotlyBundlePath(), join(dir, 'plotly.min.js'));
      const file = join(dir, 'nb', 'learning-curves.html');
      writeFileSync(file, page);
      const { chromium } = await import('playwright-core');
      const browser = await chromium.launch({
        executablePath: await browserPath(),
        args: ['--no-sandbox', '--disable-gpu'],
      });
      try {
        const tab = await browser.newPage();
        const external: string[] = [];
        await tab.route(/^https?:/, (route) => {
          external.push(route.request().url());
          return route.abort();
        });
        await tab.goto(pathToFileURL(file).href);
        await tab.waitForSelector('#figure .main-svg', { timeout: 30_000 });
        assert.equal(await tab.locator('#figure .scatterlayer .trace').count(), 4);
        assert.deepEqual(external, []);
      } finally {
        await browser.close();
      }
    },
  );
});
