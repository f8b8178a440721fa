// The page of `npm run demo`: the shared pad with a TensorFlow.js model (MLP or CNN) from the server.
import type * as tfjs from '@tensorflow/tfjs';
import { createDrawPad, type DrawPad } from './draw-pad.js';

/** /info.json, written by scripts/demo.ts. */
interface ModelInfo {
  readonly name: string;
  readonly dir: string;
  readonly available: boolean;
  readonly hint: string;
  readonly classNames: string[];
  readonly testAccuracy?: number;
  readonly kind: 'mlp' | 'cnn';
}

interface Ready {
  readonly model: boolean;
  readonly backend?: string;
  readonly kind?: ModelInfo['kind'];
  readonly inputShape?: number[];
}

declare global {
  interface Window {
    /** The global of vendor/tf.min.js, loaded by a <script> before this bundle. */
    tf?: typeof tfjs;
    /** A small hook for automated tests (and curious learners in the console). */
    digitDemo?: Pick<DrawPad, 'predictNow' | 'paintDigit' | 'clear' | 'last'> & {
      ready: Promise<Ready>;
    };
  }
}

function byId<T extends HTMLElement>(id: string, type: new () => T): T {
  const found = document.getElementById(id);
  if (!(found instanceof type)) throw new Error(`the demo page has no ${type.name} #${id}`);
  return found;
}

/** Shows the server's hint, whose backticks mark commands, as text and <code> (never as HTML). */
function showMissing(info: ModelInfo, status: HTMLElement): void {
  byId('missing-text', HTMLElement).replaceChildren(
    ...info.hint.split('`').map((part, i) => {
      if (i % 2 === 0) return document.createTextNode(part);
      const code = document.createElement('code');
      code.textContent = part;
      return code;
    }),
  );
  byId('missing', HTMLElement).hidden = false;
  status.textContent = 'You can draw, but there is no model to ask yet.';
}

/**
 * The kit's CNN trains with a seeded dropout layer (lib/ml/cnn.ts SeededDropout), saved under that
 * class name. Dropout does nothing at inference, so the page only needs a layer of that name that
 * passes its input through: without one, loadLayersModel fails with "Unknown layer: SeededDropout".
 */
function registerSeededDropout(tf: typeof tfjs): void {
  interface Config {
    name?: string;
    trainable?: boolean;
    rate: number;
    seed: number;
  }
  class SeededDropout extends tf.layers.Layer {
    static className = 'SeededDropout';
    private readonly rate: number;
    private readonly seed: number;
    constructor(config: Config) {
      super({ name: config.name, trainable: config.trainable });
      this.rate = config.rate;
      this.seed = config.seed;
    }
    call(inputs: tfjs.Tensor | tfjs.Tensor[]): tfjs.Tensor {
      return Array.isArray(inputs) ? inputs[0] : inputs;
    }
    getConfig(): tfjs.serialization.ConfigDict {
      return { ...super.getConfig(), rate: this.rate, seed: this.seed };
    }
  }
  tf.serialization.registerClass(SeededDropout);
}

/** [1, …the model's input shape without the batch axis], checked to hold one 28×28 drawing. */
function inputShapeOf(model: tfjs.LayersModel): number[] {
  const shape = [1, ...model.inputs[0].shape.slice(1).map(Number)];
  if (shape.reduce((a, b) => a * b, 1) !== 784)
    throw new Error(`the model takes ${shape.slice(1).join('×')} inputs, not one 28×28 drawing`);
  return shape;
}

async function start(pad: DrawPad, status: HTMLElement): Promise<Ready> {
  const info = (await (await fetch('info.json', { cache: 'no-store' })).json()) as ModelInfo;
  pad.setClassNames(info.classNames);
  const tf = window.tf;
  if (!tf) throw new Error('TensorFlow.js did not load (vendor/tf.min.js)');
  if (!info.available) {
    showMissing(info, status);
    pad.predictNow();
    return { model: false };
  }
  registerSeededDropout(tf);
  const model = await tf.loadLayersModel('model/model.json');
  const inputShape = inputShapeOf(model);
  // Compile the backend's kernels before the first stroke.
  tf.tidy(() => model.predict(tf.zeros(inputShape)));
  pad.setPredictor((pixels) =>
    tf.tidy(() => (model.predict(tf.tensor(pixels, inputShape)) as tfjs.Tensor).dataSync()),
  );
  const acc =
    info.testAccuracy === undefined
      ? ''
      : `, ${(100 * info.testAccuracy).toFixed(1)} % on its test set`;
  const what = info.kind === 'cnn' ? 'CNN' : 'Model';
  status.textContent = `${what} “${info.name}” loaded (${info.dir}${acc}), running on TensorFlow.js ${tf.version.tfjs} with the ${tf.getBackend()} backend. Draw!`;
  pad.predictNow();
  return { model: true, backend: tf.getBackend(), kind: info.kind, inputShape };
}

/** Starts the page: the pad at once, the model as soon as it has loaded. */
export function startDemoPage(): void {
  const status = byId('status', HTMLElement);
  const pad = createDrawPad({
    pad: byId('pad', HTMLCanvasElement),
    seen: byId('seen', HTMLCanvasElement),
    bars: byId('bars', HTMLElement),
    guess: byId('guess', HTMLElement),
    clear: byId('clear', HTMLElement),
  });
  const ready = start(pad, status).catch((error: unknown) => {
    status.textContent = `Something went wrong: ${error instanceof Error ? error.message : String(error)}`;
    throw error;
  });
  const { predictNow, paintDigit, clear, last } = pad;
  window.digitDemo = { ready, predictNow, paintDigit, clear, last };
}
