// A draw-a-digit widget for notebooks: one self-contained HTML output (canvas, the 28×28 the model sees, live probabilities).
//
// The page of `npm run demo` loads TensorFlow.js and the model over HTTP; a notebook output has no
// server, so this widget carries everything inline: the preprocessing (lib/data/preprocess.ts, the same
// code the unit tests check) and the model's weights as base64. The forward pass is a few lines of
// plain JavaScript (dense layers + activation + softmax; dropout does nothing at inference), which
// spares every output the 1.5 MB of tf.min.js. Jupyter runs the script when the notebook is trusted
// (always for outputs you just produced).
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import { kernelDisplay, staticMode } from './display.js';
import { KitError } from '../core/errors.js';
import type { MlpConfig } from '../ml/model.js';
import { projectRoot } from '../core/paths.js';
import { loadModel } from '../ml/persist.js';

/**
 * lib/data/preprocess.ts transpiled for the browser. `module: 'esm'` gives an ES module (the demo page
 * imports it); 'cjs' gives code that fills an `exports` object (the widget wraps it in a function).
 * TypeScript is loaded only when this runs, so importing the kit stays fast.
 */
export async function preprocessBrowserSource(module: 'esm' | 'cjs' = 'esm'): Promise<string> {
  const ts = (await import('typescript')).default;
  const file = path.join(projectRoot(), 'lib', 'data', 'preprocess.ts');
  const out = ts.transpileModule(readFileSync(file, 'utf8'), {
    compilerOptions: {
      target: ts.ScriptTarget.ES2020,
      module: module === 'esm' ? ts.ModuleKind.ESNext : ts.ModuleKind.CommonJS,
    },
    fileName: file,
  }).outputText;
  // Shipped to the browser as is, so it must not import anything (a Node module would not load there).
  if (/^\s*import[\s{*'"]|\brequire\(/m.test(out)) {
    throw new KitError(
      'preprocess-imports',
      `${file} imports other modules; the browser needs it self-contained`,
    );
  }
  return out;
}

export interface DrawDigitWidgetOptions {
  /** A model saved under data/models/NAME (or a folder path); default 'mlp'. Ignored when `model` is given. */
  readonly name?: string;
  /** A model in memory (e.g. just trained, or `ready.model` in notebook 04), with its config. */
  readonly model?: tf.LayersModel;
  readonly config?: MlpConfig;
  /** Labels of the 10 bars; default the digits 0–9 (or the class names saved with the model). */
  readonly classNames?: readonly string[];
}

interface WidgetModel {
  readonly activation: string;
  readonly layers: Array<{
    readonly inputs: number;
    readonly units: number;
    readonly kernel: string;
    readonly bias: string;
  }>;
  readonly classNames: readonly string[];
}

const toBase64 = (values: Float32Array) =>
  Buffer.from(values.buffer, values.byteOffset, values.byteLength).toString('base64');

async function widgetModel(options: DrawDigitWidgetOptions): Promise<WidgetModel> {
  let model = options.model;
  let config = options.config;
  let classNames = options.classNames;
  if (!model) {
    const loaded = await loadModel(options.name ?? 'mlp');
    if (loaded.kind !== 'mlp') {
      loaded.model.dispose();
      throw new KitError(
        'widget-kind',
        `drawDigitWidget runs MLPs only; ${loaded.dir} holds a CNN: serve it with npm run demo -- --model ${options.name ?? 'mlp'}`,
      );
    }
    model = loaded.model;
    config = loaded.config;
    classNames ??= loaded.meta.dataset?.classNames;
  }
  if (!config)
    throw new KitError(
      'widget-config',
      'drawDigitWidget: pass `config` together with `model` (createMlp returns both)',
    );
  if (config.inputSize !== 784)
    throw new KitError(
      'widget-input',
      `drawDigitWidget needs a model with 784 inputs (28×28), this one has ${config.inputSize}`,
    );
  // [kernel1, bias1, kernel2, bias2, …]: the order createMlp builds and saveModel writes.
  const weights = model.getWeights().map((w) => w.dataSync() as Float32Array);
  const sizes = [config.inputSize, ...config.hidden, config.numClasses];
  if (weights.length !== 2 * (sizes.length - 1))
    throw new KitError(
      'widget-layers',
      `expected ${sizes.length - 1} dense layers, the model has ${weights.length} weight tensors`,
    );
  const layers = sizes.slice(1).map((units, i) => ({
    inputs: sizes[i],
    units,
    kernel: toBase64(weights[2 * i]),
    bias: toBase64(weights[2 * i + 1]),
  }));
  const names = classNames ?? Array.from({ length: config.numClasses }, (_, i) => String(i));
  return { activation: config.activation, layers, classNames: [...names] };
}

// The widget's script: plain ES2020, runs once per output; `P` is lib/data/preprocess.ts, `M` the model.
const WIDGET_SCRIPT = String.raw`
(function (root, P, M) {
  function decode(b64) { var s = atob(b64), bytes = new Uint8Array(s.length); for (var i = 0; i < s.length; i++) bytes[i] = s.charCodeAt(i); return new Float32Array(bytes.buffer); }
  var layers = M.layers.map(function (l) { return { inputs: l.inputs, units: l.units, kernel: decode(l.kernel), bias: decode(l.bias) }; });
  var act = { relu: function (v) { return v > 0 ? v : 0; }, sigmoid: function (v) { return 1 / (1 + Math.exp(-v)); }, tanh: Math.tanh,
              elu: function (v) { return v > 0 ? v : Math.exp(v) - 1; }, linear: function (v) { return v; } }[M.activation];
  function forward(x) {
    layers.forEach(function (l, li) {
      var y = new Float32Array(l.units);
      for (var j = 0; j < l.units; j++) y[j] = l.bias[j];
      for (var i = 0; i < l.inputs; i++) { var xi = x[i]; if (xi === 0) continue; var row = i * l.units; for (var k = 0; k < l.units; k++) y[k] += xi * l.kernel[row + k]; }
      if (li < layers.length - 1) for (var h = 0; h < l.units; h++) y[h] = act(y[h]);
      x = y;
    });
    var max = Math.max.apply(null, Array.from(x)), sum = 0;
    for (var c = 0; c < x.length; c++) { x[c] = Math.exp(x[c] - max); sum += x[c]; }
    for (var d = 0; d < x.length; d++) x[d] /= sum;
    return x;
  }
  var pad = root.querySelector('.dw-pad'), seen = root.querySelector('.dw-seen'), bars = root.querySelector('.dw-bars'), guess = root.querySelector('.dw-guess');
  var ctx = pad.getContext('2d', { willReadFrequently: true }), seenCtx = seen.getContext('2d');
  M.classNames.forEach(function (name) {
    var row = document.createElement('div'); row.className = 'dw-row';
    row.innerHTML = '<span class="dw-label"></span><span class="dw-track"><span class="dw-fill"></span></span><span class="dw-pct">–</span>';
    row.querySelector('.dw-label').textContent = name; bars.appendChild(row);
  });
  var last = null, scheduled = false, drawing = false, lastPoint = [0, 0];
  function clear() { ctx.fillStyle = '#000'; ctx.fillRect(0, 0, pad.width, pad.height); }
  function predictNow() {
    var img = ctx.getImageData(0, 0, pad.width, pad.height);
    var r = P.preprocessDrawing(P.rgbaToGray(img.data, img.width, img.height));
    var seenImg = seenCtx.createImageData(28, 28);
    for (var i = 0; i < 784; i++) { var v = Math.round(r.pixels[i] * 255); seenImg.data.set([v, v, v, 255], 4 * i); }
    seenCtx.putImageData(seenImg, 0, 0);
    var probs = r.empty ? null : forward(r.pixels), top = probs ? P.argMax(probs) : -1;
    Array.prototype.forEach.call(bars.children, function (row, c) {
      var p = probs ? probs[c] : 0;
      row.classList.toggle('dw-top', c === top);
      row.querySelector('.dw-fill').style.width = (100 * p).toFixed(1) + '%';
      row.querySelector('.dw-pct').textContent = probs ? (100 * p).toFixed(1) + ' %' : '–';
    });
    guess.textContent = probs ? 'The model says: ' + M.classNames[top] + ' (' + (100 * probs[top]).toFixed(0) + ' % sure)' : 'Draw a digit on the black pad.';
    last = { empty: r.empty, pixels: Array.from(r.pixels), probabilities: probs && Array.from(probs), top: top };
    return last;
  }
  function schedule() { if (scheduled) return; scheduled = true; requestAnimationFrame(function () { scheduled = false; predictNow(); }); }
  function point(e) { var b = pad.getBoundingClientRect(); return [(e.clientX - b.left) * pad.width / b.width, (e.clientY - b.top) * pad.height / b.height]; }
  function strokeTo(p) {
    ctx.strokeStyle = '#fff'; ctx.lineWidth = 20; ctx.lineCap = 'round'; ctx.lineJoin = 'round';
    ctx.beginPath(); ctx.moveTo(lastPoint[0], lastPoint[1]); ctx.lineTo(p[0], p[1]); ctx.stroke(); lastPoint = p;
  }
  pad.addEventListener('pointerdown', function (e) { if (e.button !== 0) return; drawing = true; pad.setPointerCapture(e.pointerId); lastPoint = point(e); strokeTo(lastPoint); schedule(); e.preventDefault(); });
  pad.addEventListener('pointermove', function (e) {
    if (!drawing) return;
    var moves = typeof e.getCoalescedEvents === 'function' ? e.getCoalescedEvents() : [];
    (moves.length ? moves : [e]).forEach(function (m) { strokeTo(point(m)); }); schedule();
  });
  ['pointerup', 'pointercancel'].forEach(function (t) { pad.addEventListener(t, function () { if (drawing) { drawing = false; schedule(); } }); });
  root.querySelector('.dw-clear').addEventListener('click', function () { clear(); predictNow(); });
  function paintDigit(pixels) {
    var img = ctx.createImageData(pad.width, pad.height), s = pad.width / 28;
    for (var y = 0; y < pad.height; y++) for (var x = 0; x < pad.width; x++) { var v = Math.round(pixels[Math.floor(y / s) * 28 + Math.floor(x / s)] * 255); img.data.set([v, v, v, 255], 4 * (y * pad.width + x)); }
    ctx.putImageData(img, 0, 0); return predictNow();
  }
  clear(); predictNow();
  (window.mnistDigitWidgets = window.mnistDigitWidgets || []).push({ id: root.id, predictNow: predictNow, paintDigit: paintDigit, clear: function () { clear(); return predictNow(); }, last: function () { return last; } });
})`;

function widgetCss(id: string): string {
  const r = `#${id}`;
  return [
    `${r}{display:flex;flex-wrap:wrap;gap:16px;align-items:flex-start;font-family:system-ui,sans-serif;color:#1b1b1b;padding:6px 0}`,
    `${r} .dw-pad{width:280px;height:280px;background:#000;border-radius:4px;cursor:crosshair;touch-action:none;display:block}`,
    `${r} .dw-seen{width:140px;height:140px;background:#000;border-radius:4px;image-rendering:pixelated;display:block}`,
    `${r} .dw-title{font-weight:600;margin:0 0 6px}`,
    `${r} .dw-note{font-size:12px;color:#5a5a5a;max-width:280px;margin:6px 0 0}`,
    `${r} button{font:inherit;padding:2px 12px;margin-top:6px;cursor:pointer}`,
    `${r} .dw-bars{width:260px}`,
    `${r} .dw-row{display:grid;grid-template-columns:5.5em 1fr 4.4em;gap:6px;align-items:center;margin:2px 0;font-variant-numeric:tabular-nums}`,
    `${r} .dw-label{text-align:right;font-weight:600;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}`,
    `${r} .dw-track{background:#e8eef3;height:16px;border-radius:3px;overflow:hidden}`,
    `${r} .dw-fill{display:block;background:#9bb8cc;height:100%;width:0}`,
    `${r} .dw-top .dw-fill{background:#0072b2}`,
    `${r} .dw-top .dw-label{color:#0072b2}`,
    `${r} .dw-pct{text-align:right;font-size:13px;white-space:nowrap}`,
    `${r} .dw-guess{margin:8px 0 0;font-size:16px;min-height:1.3em}`,
  ].join('\n');
}

/** `</script>`-safe JSON for an inline script. */
function inlineJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c');
}

/**
 * HTML for a draw-a-digit widget (about 1.3 MB for the model of record, mostly the weights): draw with
 * the mouse, a pen or a finger, see the 28×28 input and the model's probabilities live. In a tslab
 * notebook: `tslab.display.html(await kit.drawDigitWidget())`, or simply `await kit.showDrawDigit()`.
 */
export async function drawDigitWidget(options: DrawDigitWidgetOptions = {}): Promise<string> {
  const model = await widgetModel(options);
  const preprocess = await preprocessBrowserSource('cjs');
  const id = `mnist-draw-${randomBytes(6).toString('hex')}`;
  const preprocessFactory = `(function () { var exports = {}; ${preprocess}\nreturn exports; })()`;
  return (
    `<div id="${id}" class="mnist-draw-widget">\n<style>${widgetCss(id)}</style>\n` +
    `<div><p class="dw-title">Draw a digit</p><canvas class="dw-pad" width="280" height="280"></canvas>` +
    `<button type="button" class="dw-clear">Clear</button><p class="dw-note">White ink on black, like MNIST.</p></div>\n` +
    `<div><p class="dw-title">What the model sees</p><canvas class="dw-seen" width="28" height="28"></canvas>` +
    `<p class="dw-note">Cropped, longer side scaled to 20 px, centre of mass at (14, 14).</p></div>\n` +
    `<div><p class="dw-title">Probabilities</p><div class="dw-bars"></div><p class="dw-guess"></p></div>\n` +
    `<script>${WIDGET_SCRIPT}(document.getElementById(${inlineJson(id)}), ${preprocessFactory}, ${inlineJson(model)});</script>\n</div>`
  );
}

/** Shows the widget in a tslab notebook; outside one prints where to find the stand-alone page. */
export async function showDrawDigit(options: DrawDigitWidgetOptions = {}): Promise<void> {
  const display = kernelDisplay();
  if (display && staticMode()) {
    // A headless run writes notebooks for reading (GitHub, untrusted notebooks), where the widget's
    // script never runs: 1.3 MB of dead HTML helps nobody there.
    display.markdown(
      '*The draw-a-digit widget appears here when you run this cell live in Jupyter (or run `npm run demo`).*',
    );
    return;
  }
  const html = await drawDigitWidget(options);
  if (display) display.html(html);
  else
    console.log(
      '[draw-a-digit widget: shows in a notebook; outside one, run `npm run demo` for the same page in a browser]',
    );
}
