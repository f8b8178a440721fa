// The draw-a-digit pad shared by the demo page and the notebook widget: strokes → 28×28 → a model → bars.
//
// The preprocessing is lib/data/preprocess.ts itself (bundled in at build time), so the page, the
// widget and the unit tests run one code path. What predicts is passed in: TensorFlow.js on the demo
// page, a small dense forward pass in the widget.
import { argMax, preprocessDrawing, rgbaToGray } from '../lib/data/preprocess.js';

/** The model's probabilities for one drawing (784 values in [0, 1], white ink on black). */
export type Predictor = (pixels: Float32Array) => ArrayLike<number>;

/** The page elements the pad drives; `bars` is an <ol> the pad fills with one <li> per class. */
export interface PadElements {
  readonly pad: HTMLCanvasElement;
  readonly seen: HTMLCanvasElement;
  readonly bars: HTMLElement;
  readonly guess: HTMLElement;
  readonly clear: HTMLElement;
}

/** One pass of the pipeline, as the test hooks return it. */
export interface PadResult {
  readonly empty: boolean;
  readonly pixels: number[];
  readonly probabilities: number[] | null;
  readonly top: number;
}

export interface DrawPad {
  /** Reads the pad, preprocesses it and runs the predictor: the whole pipeline, once. */
  predictNow(): PadResult;
  /** Paints a 28×28 image (values in [0, 1]) onto the pad as 10×10 blocks, then predicts. */
  paintDigit(pixels: ArrayLike<number>): PadResult;
  clear(): PadResult;
  last(): PadResult | null;
  /** One bar per class, labelled with these names. */
  setClassNames(names: readonly string[]): void;
  setPredictor(predict: Predictor | null): void;
}

// A pen about 1/14 of the pad wide: after scaling to 20 px the stroke is ~2 px, like MNIST's.
const PEN_WIDTH = 20;

function context2d(canvas: HTMLCanvasElement, willReadFrequently: boolean) {
  const ctx = canvas.getContext('2d', { willReadFrequently });
  if (!ctx) throw new Error('this browser gives no 2-D canvas context: the pad cannot draw');
  return ctx;
}

function barRow(name: string): HTMLLIElement {
  const li = document.createElement('li');
  const label = Object.assign(document.createElement('span'), { className: 'dp-label' });
  label.textContent = name;
  const track = Object.assign(document.createElement('span'), { className: 'dp-track' });
  track.append(Object.assign(document.createElement('span'), { className: 'dp-fill' }));
  const pct = Object.assign(document.createElement('span'), { className: 'dp-pct' });
  pct.textContent = '–';
  li.append(label, track, pct);
  li.title = name;
  return li;
}

/** Wires a pad: pointer strokes, the 28×28 view, the bars and the guess sentence. */
export function createDrawPad(el: PadElements): DrawPad {
  const ctx = context2d(el.pad, true);
  const seenCtx = context2d(el.seen, false);
  let classNames: readonly string[] = [];
  let predict: Predictor | null = null;
  let last: PadResult | null = null;

  const clearPad = () => {
    ctx.fillStyle = '#000';
    ctx.fillRect(0, 0, el.pad.width, el.pad.height);
  };

  const showSeen = (pixels: Float32Array) => {
    const image = seenCtx.createImageData(28, 28);
    for (let i = 0; i < 784; i++) {
      const v = Math.round(pixels[i] * 255);
      image.data.set([v, v, v, 255], 4 * i);
    }
    seenCtx.putImageData(image, 0, 0);
  };

  const showBars = (probabilities: number[] | null, top: number) => {
    [...el.bars.children].forEach((li, i) => {
      const p = probabilities ? probabilities[i] : 0;
      li.classList.toggle('dp-top', i === top);
      const fill = li.querySelector<HTMLElement>('.dp-fill');
      if (fill) fill.style.width = `${(100 * p).toFixed(1)}%`;
      const pct = li.querySelector('.dp-pct');
      if (pct) pct.textContent = probabilities ? `${(100 * p).toFixed(1)} %` : '–';
    });
  };

  const guessText = (result: PadResult) => {
    if (result.probabilities) {
      const sure = (100 * result.probabilities[result.top]).toFixed(0);
      return `The model says: ${classNames[result.top]} (${sure} % sure)`;
    }
    return predict ? 'Draw a digit on the black pad.' : '';
  };

  const predictNow = (): PadResult => {
    const { data, width, height } = ctx.getImageData(0, 0, el.pad.width, el.pad.height);
    const drawing = preprocessDrawing(rgbaToGray(data, width, height));
    showSeen(drawing.pixels);
    const probabilities = !drawing.empty && predict ? Array.from(predict(drawing.pixels)) : null;
    const top = probabilities ? argMax(probabilities) : -1;
    last = { empty: drawing.empty, pixels: Array.from(drawing.pixels), probabilities, top };
    showBars(probabilities, top);
    el.guess.textContent = guessText(last);
    return last;
  };

  // Strokes redraw at pointer speed; predictions run at most once per animation frame.
  let scheduled = false;
  const schedulePredict = () => {
    if (scheduled) return;
    scheduled = true;
    requestAnimationFrame(() => {
      scheduled = false;
      predictNow();
    });
  };

  wireStrokes(el.pad, ctx, schedulePredict);
  el.clear.addEventListener('click', () => {
    clearPad();
    predictNow();
  });

  const paintDigit = (pixels: ArrayLike<number>): PadResult => {
    const image = ctx.createImageData(el.pad.width, el.pad.height);
    const scale = el.pad.width / 28;
    for (let y = 0; y < el.pad.height; y++) {
      for (let x = 0; x < el.pad.width; x++) {
        const v = Math.round(pixels[Math.floor(y / scale) * 28 + Math.floor(x / scale)] * 255);
        image.data.set([v, v, v, 255], 4 * (y * el.pad.width + x));
      }
    }
    ctx.putImageData(image, 0, 0);
    return predictNow();
  };

  clearPad();
  return {
    predictNow,
    paintDigit,
    clear: () => (clearPad(), predictNow()),
    last: () => last,
    setClassNames: (names) => {
      classNames = [...names];
      el.bars.replaceChildren(...classNames.map(barRow));
    },
    setPredictor: (p) => {
      predict = p;
    },
  };
}

/** Pointer strokes (mouse, pen or finger) in white ink; `changed` runs after each stroke segment. */
function wireStrokes(pad: HTMLCanvasElement, ctx: CanvasRenderingContext2D, changed: () => void) {
  let drawing = false;
  let lastPoint: [number, number] = [0, 0];
  // Pointer position in canvas pixels, whatever size CSS gives the canvas.
  const padPoint = (event: PointerEvent): [number, number] => {
    const rect = pad.getBoundingClientRect();
    return [
      ((event.clientX - rect.left) * pad.width) / rect.width,
      ((event.clientY - rect.top) * pad.height) / rect.height,
    ];
  };
  const strokeTo = (point: [number, number]) => {
    ctx.strokeStyle = '#fff';
    ctx.lineWidth = PEN_WIDTH;
    ctx.lineCap = 'round';
    ctx.lineJoin = 'round';
    ctx.beginPath();
    ctx.moveTo(lastPoint[0], lastPoint[1]);
    ctx.lineTo(point[0], point[1]);
    ctx.stroke();
    lastPoint = point;
  };
  pad.addEventListener('pointerdown', (event) => {
    if (event.button !== 0) return;
    drawing = true;
    pad.setPointerCapture(event.pointerId);
    lastPoint = padPoint(event);
    strokeTo(lastPoint); // a tap leaves a dot
    changed();
    event.preventDefault();
  });
  pad.addEventListener('pointermove', (event) => {
    if (!drawing) return;
    // Coalesced events keep fast strokes smooth where the browser merges moves into one frame;
    // older Safari has no getCoalescedEvents.
    const moves = typeof event.getCoalescedEvents === 'function' ? event.getCoalescedEvents() : [];
    for (const e of moves.length ? moves : [event]) strokeTo(padPoint(e));
    changed();
  });
  for (const type of ['pointerup', 'pointercancel'] as const) {
    pad.addEventListener(type, () => {
      if (!drawing) return;
      drawing = false;
      changed();
    });
  }
}
