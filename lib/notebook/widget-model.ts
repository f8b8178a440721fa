// The model the draw-a-digit widget carries inline: an MLP's dense layers, float32 weights as base64.
//
// Types only and no imports: lib/notebook/draw-widget.ts writes this JSON in Node and the browser
// bundle (browser/widget.ts) reads it, so both sides type-check against this one definition.

export interface WidgetLayer {
  readonly inputs: number;
  readonly units: number;
  /** inputs × units float32 values, row-major (one row per input), little-endian, base64. */
  readonly kernel: string;
  /** units float32 values, base64. */
  readonly bias: string;
}

export interface WidgetModel {
  /** The hidden layers' activation (the output layer is softmax). */
  readonly activation: string;
  readonly layers: readonly WidgetLayer[];
  readonly classNames: readonly string[];
}
