// The notebook widget's side of the bundle: mounts the shared pad on the HTML that draw-widget.ts writes.
import type { WidgetModel } from '../lib/notebook/widget-model.js';
import { denseForward } from './dense-forward.js';
import { createDrawPad, type DrawPad } from './draw-pad.js';

interface MountedWidget extends Pick<DrawPad, 'predictNow' | 'paintDigit' | 'clear' | 'last'> {
  readonly id: string;
}

declare global {
  interface Window {
    /** Every widget on the page, in mounting order: a hook for tests and curious learners. */
    mnistDigitWidgets?: MountedWidget[];
  }
}

function part<T extends Element>(root: Element, selector: string, type: new () => T): T {
  const found = root.querySelector(selector);
  if (!(found instanceof type))
    throw new Error(`draw-a-digit widget #${root.id}: no ${type.name} at ${selector}`);
  return found;
}

/** Starts the widget in `root` (the div draw-widget.ts writes) with the model it carries inline. */
export function mountWidget(root: HTMLElement | null, model: WidgetModel): void {
  if (!root) throw new Error('draw-a-digit widget: its element is not on the page');
  const pad = createDrawPad({
    pad: part(root, '.dw-pad', HTMLCanvasElement),
    seen: part(root, '.dw-seen', HTMLCanvasElement),
    bars: part(root, '.dw-bars', HTMLElement),
    guess: part(root, '.dw-guess', HTMLElement),
    clear: part(root, '.dw-clear', HTMLElement),
  });
  pad.setClassNames(model.classNames);
  pad.setPredictor(denseForward(model));
  pad.predictNow();
  const { predictNow, paintDigit, clear, last } = pad;
  (window.mnistDigitWidgets ??= []).push({ id: root.id, predictNow, paintDigit, clear, last });
}
