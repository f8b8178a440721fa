// A draw-a-digit widget for notebooks: one self-contained HTML output (canvas, the 28×28 the model sees, live probabilities).
//
// The page of `npm run demo` loads TensorFlow.js and the model over HTTP; a notebook output has no
// server, so this widget carries everything inline: the browser bundle the demo page loads too
// (browser/, built into build/browser/draw-pad.js: the pad, lib/data/preprocess.ts, a plain dense
// forward pass that spares every output the 1.5 MB of tf.min.js) and the model's weights as base64.
// Jupyter runs the script when the notebook is trusted (always for outputs you just produced).
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import { kernelDisplay, staticMode } from './display.js';
import { KitError } from '../core/errors.js';
import type { MlpConfig } from '../ml/model.js';
import { projectRoot } from '../core/paths.js';
import { loadModel } from '../ml/persist.js';
import type { WidgetModel } from './widget-model.js';

/** The browser bundle both the widget and the demo page load (browser/main.ts, built by npm run build). */
export function drawPadBundlePath(): string {
  return path.join(projectRoot(), 'build', 'browser', 'draw-pad.js');
}

/** The bundle's source; a clear error naming the file and the command when it was never built. */
export function drawPadBundle(file = drawPadBundlePath()): string {
  if (!existsSync(file))
    throw new KitError(
      'draw-pad-missing',
      `${file} is missing: build the browser code with npm run build (npm ci runs it too)`,
    );
  return readFileSync(file, 'utf8');
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

function widgetCss(id: string): string {
  const r = `#${id}`;
  return [
    `${r}{display:flex;flex-wrap:wrap;gap:16px;align-items:flex-start;font-family:system-ui,sans-serif;color:#1b1b1b;padding:6px 0}`,
    `${r} .dw-pad{width:280px;height:280px;background:#000;border-radius:4px;cursor:crosshair;touch-action:none;display:block}`,
    `${r} .dw-seen{width:140px;height:140px;background:#000;border-radius:4px;image-rendering:pixelated;display:block}`,
    `${r} .dw-title{font-weight:600;margin:0 0 6px}`,
    `${r} .dw-note{font-size:12px;color:#5a5a5a;max-width:280px;margin:6px 0 0}`,
    `${r} button{font:inherit;padding:2px 12px;margin-top:6px;cursor:pointer}`,
    `${r} .dw-bars{width:260px;list-style:none;margin:0;padding:0}`,
    `${r} .dw-bars li{display:grid;grid-template-columns:5.5em 1fr 4.4em;gap:6px;align-items:center;margin:2px 0;font-variant-numeric:tabular-nums}`,
    `${r} .dp-label{text-align:right;font-weight:600;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}`,
    `${r} .dp-track{background:#e8eef3;height:16px;border-radius:3px;overflow:hidden}`,
    `${r} .dp-fill{display:block;background:#9bb8cc;height:100%;width:0}`,
    `${r} .dp-top .dp-fill{background:#0072b2}`,
    `${r} .dp-top .dp-label{color:#0072b2}`,
    `${r} .dp-pct{text-align:right;font-size:13px;white-space:nowrap}`,
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
  const bundle = drawPadBundle().replace(/<\/script/gi, '<\\/script');
  const id = `mnist-draw-${randomBytes(6).toString('hex')}`;
  return (
    `<div id="${id}" class="mnist-draw-widget">\n<style>${widgetCss(id)}</style>\n` +
    `<div><p class="dw-title">Draw a digit</p><canvas class="dw-pad" width="280" height="280"></canvas>` +
    `<button type="button" class="dw-clear">Clear</button><p class="dw-note">White ink on black, like MNIST.</p></div>\n` +
    `<div><p class="dw-title">What the model sees</p><canvas class="dw-seen" width="28" height="28"></canvas>` +
    `<p class="dw-note">Cropped, longer side scaled to 20 px, centre of mass at (14, 14).</p></div>\n` +
    `<div><p class="dw-title">Probabilities</p><ol class="dw-bars"></ol><p class="dw-guess"></p></div>\n` +
    `<script>${bundle}\nmnistDrawPad.mountWidget(document.getElementById(${inlineJson(id)}), ${inlineJson(model)});</script>\n</div>`
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
