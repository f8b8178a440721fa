// The draw-a-digit page: pointer strokes on a canvas → MNIST-style 28×28 (lib/data/preprocess.ts) → the model (MLP or CNN) in TensorFlow.js → bars.
//
// Plain browser JavaScript (an ES module), no build step: the preprocessing it imports is
// lib/data/preprocess.ts, transpiled by the server, so the page and the unit tests share that code.
import { argMax, preprocessDrawing, rgbaToGray } from './preprocess.js';

/** @typedef {{ name: string, dir: string, available: boolean, hint: string, classNames: string[], testAccuracy?: number, kind: 'mlp' | 'cnn' }} ModelInfo */

const tf = /** @type {any} */ (window).tf; // the global from vendor/tf.min.js (no types in a plain JS file)
const pad = /** @type {HTMLCanvasElement} */ (document.getElementById('pad'));
const seen = /** @type {HTMLCanvasElement} */ (document.getElementById('seen'));
const bars = /** @type {HTMLOListElement} */ (document.getElementById('bars'));
const status = /** @type {HTMLElement} */ (document.getElementById('status'));
const guess = /** @type {HTMLElement} */ (document.getElementById('guess'));
const ctx = /** @type {CanvasRenderingContext2D} */ (
  pad.getContext('2d', { willReadFrequently: true })
);
const seenCtx = /** @type {CanvasRenderingContext2D} */ (seen.getContext('2d'));

// A pen about 1/14 of the pad wide: after scaling to 20 px the stroke is ~2 px, like MNIST's.
const PEN_WIDTH = 20;

/** @type {any} */ let model = null;
/** The shape one drawing is given to the model in: [1, 784] for the MLP, [1, 28, 28, 1] for the CNN. */
/** @type {number[]} */ let inputShape = [1, 784];
/** @type {string[]} */ let classNames = [];
/** The last result, for the page's test hook: { empty, pixels, probabilities, top }. */
let last = null;

function clearPad() {
  ctx.fillStyle = '#000';
  ctx.fillRect(0, 0, pad.width, pad.height);
}

function buildBars(names) {
  bars.replaceChildren(
    ...names.map((name) => {
      const li = document.createElement('li');
      li.innerHTML =
        '<span class="label"></span><span class="track"><span class="fill"></span></span><span class="pct">–</span>';
      li.querySelector('.label').textContent = name;
      li.title = name;
      return li;
    }),
  );
}

function showBars(probabilities) {
  const top = probabilities ? argMax(probabilities) : -1;
  [...bars.children].forEach((li, i) => {
    const p = probabilities ? probabilities[i] : 0;
    li.classList.toggle('top', i === top);
    /** @type {HTMLElement} */ (li.querySelector('.fill')).style.width = `${(100 * p).toFixed(1)}%`;
    li.querySelector('.pct').textContent = probabilities ? `${(100 * p).toFixed(1)} %` : '–';
  });
  guess.textContent = probabilities
    ? `The model says: ${classNames[top]} (${(100 * probabilities[top]).toFixed(0)} % sure)`
    : '';
}

/** Draws the 28×28 input (values in [0, 1]) onto the small canvas; CSS scales it up without smoothing. */
function showSeen(pixels) {
  const image = seenCtx.createImageData(28, 28);
  for (let i = 0; i < 784; i++) {
    const v = Math.round(pixels[i] * 255);
    image.data.set([v, v, v, 255], 4 * i);
  }
  seenCtx.putImageData(image, 0, 0);
}

/** Reads the pad, preprocesses it, runs the model: the whole pipeline, once. */
function predictNow() {
  const { data, width, height } = ctx.getImageData(0, 0, pad.width, pad.height);
  const result = preprocessDrawing(rgbaToGray(data, width, height));
  showSeen(result.pixels);
  let probabilities = null;
  if (!result.empty && model) {
    probabilities = tf.tidy(() => model.predict(tf.tensor(result.pixels, inputShape)).dataSync());
  }
  showBars(probabilities);
  if (result.empty) guess.textContent = model ? 'Draw a digit on the black pad.' : '';
  last = {
    empty: result.empty,
    pixels: Array.from(result.pixels),
    probabilities: probabilities && Array.from(probabilities),
    top: probabilities ? argMax(probabilities) : -1,
  };
  return last;
}

// Strokes redraw at pointer speed; predictions run at most once per animation frame.
let scheduled = false;
function schedulePredict() {
  if (scheduled) return;
  scheduled = true;
  requestAnimationFrame(() => {
    scheduled = false;
    predictNow();
  });
}

/** Pointer position in canvas pixels, whatever size CSS gives the canvas. */
function padPoint(event) {
  const rect = pad.getBoundingClientRect();
  return [
    ((event.clientX - rect.left) * pad.width) / rect.width,
    ((event.clientY - rect.top) * pad.height) / rect.height,
  ];
}

let drawing = false;
let lastPoint = [0, 0];

function strokeTo(point) {
  ctx.strokeStyle = '#fff';
  ctx.lineWidth = PEN_WIDTH;
  ctx.lineCap = 'round';
  ctx.lineJoin = 'round';
  ctx.beginPath();
  ctx.moveTo(lastPoint[0], lastPoint[1]);
  ctx.lineTo(point[0], point[1]);
  ctx.stroke();
  lastPoint = point;
}

pad.addEventListener('pointerdown', (event) => {
  if (event.button !== 0) return;
  drawing = true;
  pad.setPointerCapture(event.pointerId);
  lastPoint = padPoint(event);
  strokeTo(lastPoint); // a tap leaves a dot
  schedulePredict();
  event.preventDefault();
});
pad.addEventListener('pointermove', (event) => {
  if (!drawing) return;
  // Coalesced events keep fast strokes smooth where the browser merges moves into one frame.
  const moves = typeof event.getCoalescedEvents === 'function' ? event.getCoalescedEvents() : [];
  for (const e of moves.length ? moves : [event]) strokeTo(padPoint(e));
  schedulePredict();
});
for (const type of ['pointerup', 'pointercancel']) {
  pad.addEventListener(type, () => {
    if (!drawing) return;
    drawing = false;
    schedulePredict();
  });
}
document.getElementById('clear').addEventListener('click', () => {
  clearPad();
  predictNow();
});

/** Paints a 28×28 image (values in [0, 1]) onto the pad, each pixel as a 10×10 block: for tests and demos. */
function paintDigit(pixels) {
  const image = ctx.createImageData(pad.width, pad.height);
  const scale = pad.width / 28;
  for (let y = 0; y < pad.height; y++) {
    for (let x = 0; x < pad.width; x++) {
      const v = Math.round(pixels[Math.floor(y / scale) * 28 + Math.floor(x / scale)] * 255);
      image.data.set([v, v, v, 255], 4 * (y * pad.width + x));
    }
  }
  ctx.putImageData(image, 0, 0);
  return predictNow();
}

function showMissing(info) {
  const box = document.getElementById('missing');
  const text = document.getElementById('missing-text');
  // The hint marks commands with backticks; show them as code without trusting it as HTML.
  text.replaceChildren(
    ...info.hint.split('`').map((part, i) => {
      if (i % 2 === 0) return document.createTextNode(part);
      const code = document.createElement('code');
      code.textContent = part;
      return code;
    }),
  );
  box.hidden = false;
  status.textContent = 'You can draw, but there is no model to ask yet.';
}

/**
 * The kit's CNN trains with a seeded dropout layer (lib/ml/cnn.ts SeededDropout), saved under that class
 * name. Dropout does nothing at inference, so the page only needs a layer of that name that passes its
 * input through: without one, loadLayersModel fails with "Unknown layer: SeededDropout".
 */
function registerSeededDropout() {
  class SeededDropout extends tf.layers.Layer {
    static className = 'SeededDropout';
    constructor(config) {
      super({ name: config.name, trainable: config.trainable });
      this.rate = config.rate;
      this.seed = config.seed;
    }
    call(inputs) {
      return Array.isArray(inputs) ? inputs[0] : inputs;
    }
    getConfig() {
      return { ...super.getConfig(), rate: this.rate, seed: this.seed };
    }
  }
  tf.serialization.registerClass(SeededDropout);
}

/** [1, …the model's input shape without the batch axis], checked to hold one 28×28 drawing. */
function inputShapeOf(loaded) {
  const shape = [1, ...loaded.inputs[0].shape.slice(1)];
  const size = shape.reduce((a, b) => a * b, 1);
  if (size !== 784)
    throw new Error(`the model takes ${shape.slice(1).join('×')} inputs, not one 28×28 drawing`);
  return shape;
}

async function start() {
  clearPad();
  /** @type {ModelInfo} */
  const info = await (await fetch('info.json', { cache: 'no-store' })).json();
  classNames = info.classNames;
  buildBars(classNames);
  if (!tf) throw new Error('TensorFlow.js did not load (vendor/tf.min.js)');
  if (!info.available) {
    showMissing(info);
    predictNow();
    return { model: false };
  }
  registerSeededDropout();
  model = await tf.loadLayersModel('model/model.json');
  inputShape = inputShapeOf(model);
  tf.tidy(() => model.predict(tf.zeros(inputShape))); // compile the backend's kernels before the first stroke
  const acc =
    info.testAccuracy === undefined
      ? ''
      : `, ${(100 * info.testAccuracy).toFixed(1)} % on its test set`;
  const what = info.kind === 'cnn' ? 'CNN' : 'Model';
  status.textContent = `${what} “${info.name}” loaded (${info.dir}${acc}), running on TensorFlow.js ${tf.version.tfjs} with the ${tf.getBackend()} backend. Draw!`;
  predictNow();
  return { model: true, backend: tf.getBackend(), kind: info.kind, inputShape };
}

const ready = start().catch((error) => {
  status.textContent = `Something went wrong: ${error.message}`;
  throw error;
});

// A small hook for automated tests (and curious learners in the console).
/** @type {any} */ (window).digitDemo = {
  ready,
  predictNow,
  paintDigit,
  clear: () => (clearPad(), predictNow()),
  last: () => last,
};
