// Tests for `npm run demo`: a real trained model served on 127.0.0.1, path traversal refused, and headless chromium drawing digits.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { loadDataset } from '../../lib/data/datasets.js';
import type { Dataset } from '../../lib/data/types.js';
import { createCnn, trainCnn } from '../../lib/ml/cnn.js';
import { createMlp, type MlpConfig } from '../../lib/ml/model.js';
import { saveModel } from '../../lib/ml/persist.js';
import { drawDigitWidget, drawPadBundlePath } from '../../lib/notebook/draw-widget.js';
import { preprocessDrawing, type GrayImage } from '../../lib/data/preprocess.js';
import { CHROMIUM_ARGS } from '../../lib/viz/render.js';
import { trainModel } from '../../lib/ml/train.js';
import { quickMnist, useWasm } from '../support/helpers.js';
import { browserPath } from '../support/system-tools.js';
import { root, runScript, startScript } from '../support/run-script.js';

const outDir = path.join(root, 'test-output');

/** Debian's chromium with a fresh profile folder (playwright passes it as --user-data-dir). */
function launch(
  profile: string,
  viewport: { width: number; height: number },
): Promise<BrowserContext> {
  return chromium.launchPersistentContext(profile, {
    executablePath: browserPath,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport,
  });
}

interface Server {
  child: ChildProcess;
  url: string;
  port: number;
  stdout: () => string;
}

/** Starts `npm run demo` on a free port and resolves once it prints its URL. */
function startServer(modelArg: string): Promise<Server> {
  const child = startScript('demo', ['--port', '0', '--model', modelArg]);
  let out = '';
  let err = '';
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /Draw-a-digit demo: (http:\/\/127\.0\.0\.1:(\d+)\/)/.exec(out);
      // Resolve after the whole start-up message (it ends with the Ctrl-C line).
      if (m && out.includes('Ctrl-C'))
        resolve({ child, url: m[1], port: Number(m[2]), stdout: () => out });
    });
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    child.on('exit', (code) =>
      reject(new Error(`demo server exited with ${code} before listening: ${err}${out}`)),
    );
  });
}

/** SIGTERM and wait: resolves with the exit code. */
function stopServer(server: Server | undefined): Promise<number | null> {
  if (!server || server.child.exitCode !== null)
    return Promise.resolve(server?.child.exitCode ?? null);
  return new Promise((resolve) => {
    server.child.once('exit', (code) => resolve(code));
    server.child.kill('SIGTERM');
  });
}

interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** A request whose path is sent byte for byte (no URL normalisation, unlike fetch). */
function rawGet(
  port: number,
  requestPath: string,
  options: { method?: string; host?: string } = {},
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        path: requestPath,
        method: options.method ?? 'GET',
        headers: { Host: options.host ?? `127.0.0.1:${port}` },
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks),
          }),
        );
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** Nearest-neighbour ×10, exactly as the page's paintDigit draws a 28×28 digit onto its 280×280 pad. */
function upscale10(pixels: Float32Array): GrayImage {
  const data = new Float32Array(280 * 280);
  for (let y = 0; y < 280; y++)
    for (let x = 0; x < 280; x++)
      data[y * 280 + x] =
        Math.round(pixels[Math.floor(y / 10) * 28 + Math.floor(x / 10)] * 255) / 255;
  return { data, width: 280, height: 280 };
}

interface DemoResult {
  empty: boolean;
  pixels: number[];
  probabilities: number[] | null;
  top: number;
}

/** Paints a 28×28 digit on the demo page's pad (its paintDigit) and returns what the page computed. */
async function paintOnDemo(page: Page, pixels: Float32Array): Promise<DemoResult> {
  return (await page.evaluate(
    (px) =>
      (
        window as unknown as { digitDemo: { paintDigit(p: number[]): unknown } }
      ).digitDemo.paintDigit(px),
    Array.from(pixels),
  )) as DemoResult;
}

/** The largest absolute difference between two lists of the same length. */
function largestGap(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let gap = 0;
  for (let i = 0; i < a.length; i++) gap = Math.max(gap, Math.abs(a[i] - b[i]));
  return gap;
}

describe('npm run demo', { timeout: 300_000 }, () => {
  let work: string;
  let modelDir: string;
  let model: tf.Sequential;
  let config: MlpConfig;
  let mnist: Dataset;
  let server: Server | undefined;

  before(async () => {
    await useWasm();
    work = mkdtempSync(path.join(tmpdir(), 'demo-test-'));
    const data = await quickMnist();
    ({ model, config } = createMlp());
    const result = await trainModel(model, config, data, { epochs: 3, batchSize: 128 });
    const classNames = [...data.classNames];
    modelDir = await saveModel(
      model,
      {
        config,
        history: result.history,
        dataset: {
          name: data.name,
          source: data.source,
          trainSamples: data.train.count,
          classNames,
        },
      },
      path.join(work, 'small-mlp'),
    );
    mnist = await loadDataset({ dataset: 'mnist' });
    server = await startServer(modelDir);
  });

  after(async () => {
    await stopServer(server);
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test('listens on 127.0.0.1 only and prints its URL', () => {
    assert.match(server!.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    assert.ok(server!.port > 0);
    assert.match(server!.stdout(), /test accuracy \d+\.\d %/);
  });

  test('serves the page, the draw-pad bundle, TensorFlow.js and the model with the right types', async () => {
    const expected: Array<[string, RegExp]> = [
      ['/', /^text\/html/],
      ['/index.html', /^text\/html/],
      ['/draw-pad.js', /^text\/javascript/],
      ['/style.css', /^text\/css/],
      ['/vendor/tf.min.js', /^text\/javascript/],
      ['/info.json', /^application\/json/],
      ['/model/model.json', /^application\/json/],
      ['/model/meta.json', /^application\/json/],
      ['/model/weights.bin', /^application\/octet-stream$/],
    ];
    for (const [p, type] of expected) {
      const res = await rawGet(server!.port, p);
      assert.equal(res.status, 200, p);
      assert.match(String(res.headers['content-type']), type, p);
      assert.equal(res.headers['x-content-type-options'], 'nosniff', p);
      assert.equal(Number(res.headers['content-length']), res.body.length, p);
    }
    const weights = await rawGet(server!.port, '/model/weights.bin');
    assert.deepEqual(weights.body, readFileSync(path.join(modelDir, 'weights.bin')));
    const tfjs = await rawGet(server!.port, '/vendor/tf.min.js');
    assert.deepEqual(
      tfjs.body,
      readFileSync(path.join(root, 'node_modules/@tensorflow/tfjs/dist/tf.min.js')),
    );
    // The page loads the very file the notebook widget inlines (tests/draw-widget.test.ts).
    const pad = await rawGet(server!.port, '/draw-pad.js');
    assert.deepEqual(pad.body, readFileSync(drawPadBundlePath()));
    assert.match(
      pad.body.toString(),
      /function preprocessDrawing\(/,
      'preprocess.ts is bundled in',
    );
    assert.doesNotMatch(pad.body.toString(), /^\s*import\s/m, 'the bundle imports nothing');
    const head = await rawGet(server!.port, '/draw-pad.js', { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.body.length, 0);
  });

  test('refuses path traversal, encoded or not, absolute paths, NUL bytes and directory listings', async () => {
    const port = server!.port;
    const attacks = [
      '/../package.json',
      '/%2e%2e/package.json',
      '/%2E%2E/package.json',
      '/..%2fpackage.json',
      '/..%2Fpackage.json',
      '/demo/../../package.json',
      '/model/../../package.json',
      '/model/..%2f..%2fpackage.json',
      '/%252e%252e/package.json',
      '/%252e%252e%252fpackage.json',
      '/%25252e%25252e/package.json',
      '/..%5cpackage.json',
      '/%2e%2e%5cpackage.json',
      '/etc/passwd',
      '//etc/passwd',
      '/%2fetc%2fpasswd',
      '/index.html%00',
      '/model/model.json%00.png',
      '/%00',
      '/package.json',
      '/scripts/cli/demo.ts',
      '/lib/preprocess.ts',
      '/node_modules/@tensorflow/tfjs/dist/tf.min.js',
      '/demo/index.html',
      '/model/',
      '/model',
      '/vendor/',
      '/model/model.json/',
      '/.git/config',
      '/%',
      `http://127.0.0.1:${port}/../package.json`,
      '*',
    ];
    const packageJson = readFileSync(path.join(root, 'package.json'));
    for (const attack of attacks) {
      const res = await rawGet(port, attack);
      assert.ok(res.status === 400 || res.status === 404, `${attack} → ${res.status}`);
      assert.ok(!res.body.includes(packageJson.subarray(0, 40)), `${attack} leaked package.json`);
      assert.ok(res.body.length < 200, `${attack} returned a ${res.body.length}-byte body`);
    }
  });

  test('answers only GET/HEAD, and only for its own host names (DNS rebinding)', async () => {
    const post = await rawGet(server!.port, '/', { method: 'POST' });
    assert.equal(post.status, 405);
    assert.equal(post.headers.allow, 'GET, HEAD');
    const foreign = await rawGet(server!.port, '/model/weights.bin', { host: 'attacker.example' });
    assert.equal(foreign.status, 403);
    assert.equal(
      (await rawGet(server!.port, '/', { host: `localhost:${server!.port}` })).status,
      200,
    );
  });

  describe(
    'in headless chromium',
    { skip: existsSync(browserPath) ? false : `no browser at ${browserPath}` },
    () => {
      let browser: BrowserContext;
      let page: Page;
      let profile: string;
      const problems: string[] = [];

      before(async () => {
        profile = mkdtempSync(path.join(tmpdir(), 'demo-chromium-'));
        browser = await launch(profile, { width: 1040, height: 620 });
        page = browser.pages()[0] ?? (await browser.newPage());
        page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
        page.on('console', (m) => m.type() === 'error' && problems.push(`console: ${m.text()}`));
        page.on(
          'request',
          (r) => !r.url().startsWith(server!.url) && problems.push(`outside request: ${r.url()}`),
        );
        await page.goto(server!.url);
        await page.evaluate(
          () => (window as unknown as { digitDemo: { ready: Promise<unknown> } }).digitDemo.ready,
        );
        mkdirSync(outDir, { recursive: true });
      });

      after(async () => {
        await browser?.close();
        if (profile) rmSync(profile, { recursive: true, force: true });
      });

      test('loads TensorFlow.js and the model offline, with no errors and no outside requests', async () => {
        const status = await page.locator('#status').textContent();
        assert.match(status ?? '', /Model “.*small-mlp” loaded .* TensorFlow\.js 4\.22\.0/);
        assert.equal(await page.locator('#bars li').count(), 10);
        assert.deepEqual(problems, []);
      });

      test('real MNIST test digits painted on the pad get the same input and probabilities as in Node, and the right label', async () => {
        let agreeing = 0;
        let nodeCorrect = 0;
        for (let i = 0; i < 10; i++) {
          const original = mnist.test.images.slice(i * 784, (i + 1) * 784);
          const label = mnist.test.labels[i];
          const result = await paintOnDemo(page, original);
          const expected = preprocessDrawing(upscale10(original)).pixels;
          const maxPixelDiff = largestGap(result.pixels, expected);
          assert.ok(
            maxPixelDiff < 1e-5,
            `digit ${i}: the page's 28×28 differs from Node's by ${maxPixelDiff}`,
          );
          const nodeProbs = tf.tidy(() =>
            (model.predict(tf.tensor2d(expected, [1, 784])) as tf.Tensor).dataSync(),
          );
          const maxProbDiff = largestGap(result.probabilities!, nodeProbs);
          assert.ok(
            maxProbDiff < 1e-3,
            `digit ${i}: browser and Node probabilities differ by ${maxProbDiff}`,
          );
          const nodeTop = nodeProbs.indexOf(Math.max(...nodeProbs));
          assert.equal(result.top, nodeTop, `digit ${i}: same top class`);
          if (nodeTop === label) {
            nodeCorrect++;
            if (result.top === label) agreeing++;
          }
        }
        assert.ok(
          nodeCorrect >= 8,
          `the small model gets ${nodeCorrect} of the first 10 test digits right`,
        );
        assert.equal(agreeing, nodeCorrect);
        const digit = mnist.test.images.slice(0, 784);
        await paintOnDemo(page, digit);
        await page.screenshot({ path: path.join(outDir, 'demo-mnist-digit.png') });
      });

      test('a "1" drawn with the mouse (pointer events) is recognised as 1', async () => {
        await page.click('#clear');
        const cleared = (await page.evaluate(() =>
          (window as unknown as { digitDemo: { last(): unknown } }).digitDemo.last(),
        )) as DemoResult;
        assert.equal(cleared.empty, true);
        const box = (await page.locator('#pad').boundingBox())!;
        await page.mouse.move(box.x + 150, box.y + 40);
        await page.mouse.down();
        await page.mouse.move(box.x + 138, box.y + 245, { steps: 25 });
        await page.mouse.up();
        // Predictions run on the next animation frame after a stroke.
        await page.waitForFunction(() => {
          const r = (
            window as unknown as { digitDemo: { last(): { empty: boolean } | null } }
          ).digitDemo.last();
          return r !== null && !r.empty;
        });
        await page.evaluate(() => new Promise(requestAnimationFrame));
        const drawn = (await page.evaluate(() =>
          (window as unknown as { digitDemo: { last(): unknown } }).digitDemo.last(),
        )) as DemoResult;
        assert.equal(
          drawn.top,
          1,
          `probabilities ${JSON.stringify(drawn.probabilities?.map((p) => +p.toFixed(3)))}`,
        );
        // The page showed it: the top bar is highlighted and the sentence names it.
        assert.equal(await page.locator('#bars li.dp-top .dp-label').textContent(), '1');
        assert.match(
          (await page.locator('#guess').textContent()) ?? '',
          /The model says: 1 \(\d+ % sure\)/,
        );
        // The bar is drawn to scale: its filled share of the track is the probability.
        const share = await page
          .locator('#bars li.dp-top .dp-fill')
          .evaluate(
            (el) =>
              el.getBoundingClientRect().width / el.parentElement!.getBoundingClientRect().width,
          );
        assert.ok(
          Math.abs(share - drawn.probabilities![1]) < 0.02,
          `top bar fills ${share.toFixed(3)} of its track for p = ${drawn.probabilities![1].toFixed(3)}`,
        );
        await page.screenshot({ path: path.join(outDir, 'demo-drawn-1.png') });
        assert.deepEqual(problems, []);
      });

      test('the notebook widget (drawDigitWidget) carries the model inline: same probabilities as Node, and a drawn "1" is 1', async () => {
        const html = await drawDigitWidget({ model: model, config: config });
        assert.ok(
          !/<script[^>]+src=/.test(html),
          'no external script: it must work in a notebook without a server',
        );
        const widgetPage = await browser.newPage();
        const widgetProblems: string[] = [];
        widgetPage.on('pageerror', (e) => widgetProblems.push(e.message));
        widgetPage.on(
          'request',
          (r) => !r.url().startsWith('data:') && widgetProblems.push(`request: ${r.url()}`),
        );
        await widgetPage.setContent(
          `<!doctype html><html><head><meta charset="utf-8"></head><body>${html}</body></html>`,
        );
        type Widget = { paintDigit(p: number[]): unknown; last(): unknown };
        for (let i = 0; i < 5; i++) {
          const original = mnist.test.images.slice(i * 784, (i + 1) * 784);
          const result = (await widgetPage.evaluate(
            (px) =>
              (
                window as unknown as { mnistDigitWidgets: Widget[] }
              ).mnistDigitWidgets[0].paintDigit(px),
            Array.from(original),
          )) as DemoResult;
          const expected = preprocessDrawing(upscale10(original)).pixels;
          const nodeProbs = tf.tidy(() =>
            (model.predict(tf.tensor2d(expected, [1, 784])) as tf.Tensor).dataSync(),
          );
          const maxProbDiff = largestGap(result.probabilities!, nodeProbs);
          assert.ok(
            maxProbDiff < 1e-4,
            `digit ${i}: widget and Node probabilities differ by ${maxProbDiff}`,
          );
        }
        await widgetPage.click('.dw-clear');
        const box = (await widgetPage.locator('.dw-pad').boundingBox())!;
        await widgetPage.mouse.move(box.x + 150, box.y + 40);
        await widgetPage.mouse.down();
        await widgetPage.mouse.move(box.x + 138, box.y + 245, { steps: 25 });
        await widgetPage.mouse.up();
        await widgetPage.evaluate(() => new Promise(requestAnimationFrame));
        await widgetPage.evaluate(() => new Promise(requestAnimationFrame));
        const drawn = (await widgetPage.evaluate(() =>
          (window as unknown as { mnistDigitWidgets: Widget[] }).mnistDigitWidgets[0].last(),
        )) as DemoResult;
        assert.equal(drawn.empty, false);
        assert.equal(
          drawn.top,
          1,
          `probabilities ${JSON.stringify(drawn.probabilities?.map((p) => +p.toFixed(3)))}`,
        );
        assert.match(
          (await widgetPage.locator('.dw-guess').textContent()) ?? '',
          /The model says: 1/,
        );
        await widgetPage.screenshot({ path: path.join(outDir, 'demo-widget.png') });
        assert.deepEqual(widgetProblems, []);
        await widgetPage.close();
      });
    },
  );
});

describe(
  'npm run demo with a CNN',
  {
    timeout: 300_000,
    skip: existsSync(browserPath) ? false : `no browser at ${browserPath}`,
  },
  () => {
    let work: string;
    let model: tf.Sequential;
    let mnist: Dataset;
    let server: Server | undefined;
    let browser: BrowserContext | undefined;
    let profile: string;

    before(async () => {
      await useWasm();
      work = mkdtempSync(path.join(tmpdir(), 'demo-cnn-test-'));
      profile = mkdtempSync(path.join(tmpdir(), 'demo-chromium-'));
      const data = await quickMnist();
      // Dropout > 0 puts the kit's SeededDropout layer in the saved topology: the page must load it too.
      // 1 epoch on 2,000 digits: about 80 % right, so the browser's answers can be checked against labels.
      const cnn = createCnn({
        filters: [8, 16],
        denseUnits: 32,
        dropout: 0.25,
        learningRate: 3e-3,
      });
      model = cnn.model;
      const train = {
        images: data.train.images.subarray(0, 2000 * 784),
        labels: data.train.labels.subarray(0, 2000),
        count: 2000,
      };
      const result = await trainCnn(model, cnn.config, { train }, { epochs: 1, batchSize: 32 });
      const dir = await saveModel(
        model,
        {
          kind: 'cnn',
          config: cnn.config,
          history: result.history,
          dataset: {
            name: data.name,
            source: data.source,
            trainSamples: train.count,
            classNames: [...data.classNames],
          },
        },
        path.join(work, 'small-cnn'),
      );
      mnist = await loadDataset({ dataset: 'mnist' });
      server = await startServer(dir);
      browser = await launch(profile, { width: 1040, height: 620 });
    });

    after(async () => {
      await browser?.close();
      await stopServer(server);
      if (work) rmSync(work, { recursive: true, force: true });
      if (profile) rmSync(profile, { recursive: true, force: true });
    });

    test('serves the CNN: the page feeds it 28×28×1 images and shows the same probabilities as Node', async () => {
      assert.match(server!.stdout(), /small-cnn\/, a CNN/);
      const info = JSON.parse((await rawGet(server!.port, '/info.json')).body.toString()) as {
        kind: string;
      };
      assert.equal(info.kind, 'cnn');
      const page = browser!.pages()[0] ?? (await browser!.newPage());
      const problems: string[] = [];
      page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
      page.on('console', (m) => m.type() === 'error' && problems.push(`console: ${m.text()}`));
      await page.goto(server!.url);
      const ready = (await page.evaluate(
        () => (window as unknown as { digitDemo: { ready: Promise<unknown> } }).digitDemo.ready,
      )) as { model: boolean; kind: string; inputShape: number[] };
      assert.deepEqual(
        [ready.model, ready.kind, ready.inputShape],
        [true, 'cnn', [1, 28, 28, 1]],
        JSON.stringify(problems),
      );
      assert.match((await page.locator('#status').textContent()) ?? '', /^CNN “small-cnn” loaded/);
      let correct = 0;
      for (let i = 0; i < 10; i++) {
        const original = mnist.test.images.slice(i * 784, (i + 1) * 784);
        const result = await paintOnDemo(page, original);
        const expected = preprocessDrawing(upscale10(original)).pixels;
        const nodeProbs = tf.tidy(() =>
          (model.predict(tf.tensor4d(expected, [1, 28, 28, 1])) as tf.Tensor).dataSync(),
        );
        const maxProbDiff = largestGap(result.probabilities!, nodeProbs);
        assert.ok(
          maxProbDiff < 1e-3,
          `digit ${i}: browser and Node probabilities differ by ${maxProbDiff}`,
        );
        assert.equal(result.top, nodeProbs.indexOf(Math.max(...nodeProbs)), `digit ${i}`);
        if (result.top === mnist.test.labels[i]) correct++;
      }
      assert.ok(
        correct >= 6,
        `the small CNN in the page gets ${correct} of the first 10 test digits`,
      );
      mkdirSync(outDir, { recursive: true });
      await page.screenshot({ path: path.join(outDir, 'demo-cnn.png') });
      assert.deepEqual(problems, []);
    });
  },
);

describe('npm run demo without a trained model', { timeout: 120_000 }, () => {
  test('still starts, the CLI and the page say how to train one, and SIGTERM stops it cleanly', async () => {
    const missing = path.join(tmpdir(), `demo-no-model-${process.pid}`, 'nothing-here');
    const server = await startServer(missing);
    let browser: BrowserContext | undefined;
    const profile = mkdtempSync(path.join(tmpdir(), 'demo-chromium-'));
    try {
      assert.match(
        server.stdout(),
        /No trained model in .*nothing-here\/ yet\. Point --model at a folder written by saveModel, or train the default one with npm run train -- --save mlp and run npm run demo\./,
      );
      assert.equal((await rawGet(server.port, '/model/model.json')).status, 404);
      const info = JSON.parse((await rawGet(server.port, '/info.json')).body.toString()) as {
        available: boolean;
        hint: string;
      };
      assert.equal(info.available, false);
      if (existsSync(browserPath)) {
        browser = await launch(profile, { width: 1040, height: 720 });
        const page = browser.pages()[0] ?? (await browser.newPage());
        await page.goto(server.url);
        await page.evaluate(
          () => (window as unknown as { digitDemo: { ready: Promise<unknown> } }).digitDemo.ready,
        );
        assert.equal(await page.locator('#missing').isVisible(), true);
        assert.match(
          (await page.locator('#missing').textContent()) ?? '',
          /npm run train -- --save mlp/,
        );
        assert.equal(
          await page.locator('#missing code').first().textContent(),
          'npm run train -- --save mlp',
        );
        mkdirSync(outDir, { recursive: true });
        await page.screenshot({ path: path.join(outDir, 'demo-no-model.png') });
      }
    } finally {
      await browser?.close();
      rmSync(profile, { recursive: true, force: true });
      const code = await stopServer(server);
      assert.equal(code, 0, 'exit code after SIGTERM');
      assert.match(server.stdout(), /SIGTERM: stopping the demo server/);
    }
  });

  test('rejects a bad --port with a one-line error and exit code 2', async () => {
    const r = await runScript('demo', ['--port', '70000']);
    assert.equal(r.code, 2);
    assert.equal(
      r.stderr.trim(),
      'error: --port: expected an integer from 0 to 65535 (0 picks a free port), got "70000"',
    );
  });
});
