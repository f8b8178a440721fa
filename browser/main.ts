// The browser bundle's entry (npm run build → build/browser/draw-pad.js, global `mnistDrawPad`).
//
// One bundle serves both users of the pad: the demo page loads it with
// <script src="draw-pad.js" data-start="demo"> (its Content-Security-Policy forbids inline scripts,
// so the attribute starts it), and each notebook widget inlines it and calls mountWidget.
import { startDemoPage } from './demo-page.js';

export { mountWidget } from './widget.js';
export { startDemoPage };

const script = document.currentScript;
if (script instanceof HTMLScriptElement && script.dataset.start === 'demo') startDemoPage();
