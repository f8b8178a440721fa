// Digit images as PNG without a browser: a captioned grid (e.g. mistakes) and a per-class gallery.

import { PNG } from 'pngjs';
import { ADVANCE, GLYPH_HEIGHT, LINE_HEIGHT, drawText, textWidth } from './bitmap-font.js';
import { ConfigError } from '../core/errors.js';

export interface DigitGridOptions {
  /** Digits per row; default min(10, count). */
  cols?: number;
  /** Each image pixel becomes scale×scale PNG pixels (nearest neighbour, crisp). Default 3. */
  scale?: number;
  /** Caption font pixel size; default 2 when scale ≥ 3, else 1 (the font is 5×7). */
  fontScale?: number;
  /** Image side lengths; MNIST is 28×28. */
  imageHeight?: number;
  imageWidth?: number;
  /** Black ink on white paper (default) or white on black like the raw data. */
  inkOnWhite?: boolean;
  /** Caption colour per digit as '#rrggbb' (e.g. red for mistakes); default near-black. */
  captionColors?: readonly (string | undefined)[];
  /** Labels written left of each row (the gallery uses this for class names). */
  rowLabels?: readonly string[];
  /** Wrap captions at this many characters; default: the digit's width, or 12 if a caption is longer. */
  captionChars?: number;
}

/** Row labels are never drawn smaller than 2× the 5×7 font. */
function labelScale(fontScale: number): number {
  return Math.max(2, fontScale);
}

export interface CellPlace {
  /** Top-left of the digit image in the PNG. */
  imageX: number;
  imageY: number;
  /** Caption lines after wrapping to the cell width. */
  lines: string[];
  /** Top of the first caption line. */
  captionY: number;
}

export interface GridLayout {
  width: number;
  height: number;
  cols: number;
  rows: number;
  cellWidth: number;
  cellHeight: number;
  cells: CellPlace[];
}

const MARGIN = 8;
const GAP = 16;
const CAPTION_GAP = 4;

function positiveInt(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1)
    throw new ConfigError(name, `${value} is not a positive whole number`);
  return value;
}

/** Splits a caption into lines that fit `maxChars`, breaking at spaces; explicit '\n' always breaks. */
export function wrapCaption(caption: string, maxChars: number): string[] {
  const lines: string[] = [];
  for (const paragraph of caption.split('\n')) {
    let line = '';
    for (const word of paragraph.split(' ').filter((w) => w !== '')) {
      if (line === '') line = word;
      else if ([...line].length + 1 + [...word].length <= maxChars) line += ` ${word}`;
      else {
        lines.push(line);
        line = word;
      }
    }
    lines.push(line);
  }
  return lines;
}

/** Where each digit and caption goes: shared by the drawing code and the tests. */
export function digitGridLayout(
  captions: readonly string[],
  options: DigitGridOptions = {},
): GridLayout {
  const count = captions.length;
  const scale = positiveInt('scale', options.scale ?? 3);
  const fontScale = positiveInt('fontScale', options.fontScale ?? (scale >= 3 ? 2 : 1));
  const cols = positiveInt('cols', options.cols ?? Math.max(1, Math.min(10, count)));
  const imgW = positiveInt('imageWidth', options.imageWidth ?? 28) * scale;
  const imgH = positiveInt('imageHeight', options.imageHeight ?? 28) * scale;
  const rows = Math.max(1, Math.ceil(count / cols));
  const fitsImage = Math.max(1, Math.floor((imgW + fontScale) / (ADVANCE * fontScale)));
  // Captions a little wider than the digit read far better than ones broken into three lines.
  const needsMore = captions.some((c) => c.split('\n').some((l) => [...l].length > fitsImage));
  const maxChars = options.captionChars ?? (needsMore ? Math.max(fitsImage, 12) : fitsImage);
  const wrapped = captions.map((c) => (c === '' ? [] : wrapCaption(c, maxChars)));
  const widest = Math.max(0, ...wrapped.flat().map((l) => textWidth(l) * fontScale));
  const cellWidth = Math.max(imgW, widest);
  const maxLines = Math.max(0, ...wrapped.map((l) => l.length));
  const captionHeight = maxLines === 0 ? 0 : CAPTION_GAP + maxLines * LINE_HEIGHT * fontScale;
  const cellHeight = imgH + captionHeight;
  const labels = options.rowLabels ?? [];
  const labelWidth =
    labels.length === 0
      ? 0
      : Math.max(...labels.map((l) => textWidth(l))) * labelScale(fontScale) + GAP;
  const cells = wrapped.map((lines, i) => {
    const x = MARGIN + labelWidth + (i % cols) * (cellWidth + GAP);
    const y = MARGIN + Math.floor(i / cols) * (cellHeight + GAP);
    return {
      imageX: x + Math.floor((cellWidth - imgW) / 2),
      imageY: y,
      lines,
      captionY: y + imgH + CAPTION_GAP,
    };
  });
  return {
    width: 2 * MARGIN + labelWidth + cols * cellWidth + (cols - 1) * GAP,
    height: 2 * MARGIN + rows * cellHeight + (rows - 1) * GAP,
    cols,
    rows,
    cellWidth,
    cellHeight,
    cells,
  };
}

function parseColor(
  hex: string | undefined,
  fallback: [number, number, number],
): [number, number, number] {
  if (hex === undefined) return fallback;
  const m = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(hex);
  if (!m) throw new ConfigError('captionColors', `"${hex}" is not a colour like #cc0000`);
  return [parseInt(m[1], 16), parseInt(m[2], 16), parseInt(m[3], 16)];
}

/** An RGB canvas on pngjs's RGBA buffer. */
class Canvas {
  readonly png: PNG;
  constructor(width: number, height: number, background: number) {
    this.png = new PNG({ width, height });
    this.png.data.fill(background);
    for (let i = 3; i < this.png.data.length; i += 4) this.png.data[i] = 255;
  }
  set(x: number, y: number, [r, g, b]: readonly number[]): void {
    if (x < 0 || y < 0 || x >= this.png.width || y >= this.png.height) return;
    const o = (y * this.png.width + x) * 4;
    this.png.data[o] = r;
    this.png.data[o + 1] = g;
    this.png.data[o + 2] = b;
  }
  encode(): Uint8Array {
    // RGB without alpha: a third smaller, and the canvas is opaque anyway.
    return new Uint8Array(PNG.sync.write(this.png, { colorType: 2 }));
  }
}

/**
 * PNG of the digits `images[indices[k]]` (images: count×h×w floats in [0, 1], row-major),
 * in a grid with `captions[k]` under each, e.g. "true 4 → pred 9 (87%)".
 */
export function digitGridPng(
  images: Float32Array,
  indices: readonly number[],
  captions: readonly string[] = [],
  options: DigitGridOptions = {},
): Uint8Array {
  const h = options.imageHeight ?? 28;
  const w = options.imageWidth ?? 28;
  const pixels = h * w;
  const available = Math.floor(images.length / pixels);
  if (images.length % pixels !== 0) {
    throw new ConfigError(
      'images',
      `holds ${images.length} values, not a whole number of ${h}×${w} images`,
    );
  }
  if (indices.length === 0)
    throw new ConfigError('indices', 'no digits to draw: the list of indices is empty');
  if (captions.length !== 0 && captions.length !== indices.length) {
    throw new ConfigError('captions', `${captions.length} captions for ${indices.length} digits`);
  }
  for (const i of indices) {
    if (!Number.isInteger(i) || i < 0 || i >= available) {
      throw new ConfigError('indices', `index ${i} is outside the ${available} images given`);
    }
  }
  const layout = digitGridLayout(captions.length ? captions : indices.map(() => ''), options);
  const scale = options.scale ?? 3;
  const fontScale = options.fontScale ?? (scale >= 3 ? 2 : 1);
  const inkOnWhite = options.inkOnWhite ?? true;
  const canvas = new Canvas(layout.width, layout.height, inkOnWhite ? 255 : 0);
  const textColor: [number, number, number] = inkOnWhite ? [20, 20, 20] : [235, 235, 235];
  indices.forEach((index, k) => {
    const cell = layout.cells[k];
    drawDigit(
      canvas,
      images.subarray(index * pixels, (index + 1) * pixels),
      w,
      h,
      cell.imageX,
      cell.imageY,
      scale,
      inkOnWhite,
      index,
    );
    const color = parseColor(options.captionColors?.[k], textColor);
    cell.lines.forEach((line, n) => {
      const lineW = textWidth(line) * fontScale;
      const x = cell.imageX + Math.floor((w * scale - lineW) / 2);
      drawText(line, x, cell.captionY + n * LINE_HEIGHT * fontScale, fontScale, (px, py) =>
        canvas.set(px, py, color),
      );
    });
  });
  (options.rowLabels ?? []).forEach((label, r) => {
    const ls = labelScale(fontScale);
    const y =
      MARGIN + r * (layout.cellHeight + GAP) + Math.floor((h * scale - GLYPH_HEIGHT * ls) / 2);
    drawText(label, MARGIN, y, ls, (px, py) => canvas.set(px, py, textColor));
  });
  return canvas.encode();
}

function drawDigit(
  canvas: Canvas,
  img: Float32Array,
  w: number,
  h: number,
  x0: number,
  y0: number,
  scale: number,
  inkOnWhite: boolean,
  index: number,
): void {
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const v = img[y * w + x];
      if (!(v >= 0 && v <= 1.0001)) {
        throw new ConfigError(
          'images',
          `image ${index} has pixel value ${v} at row ${y}, column ${x}; expected values in [0, 1]`,
        );
      }
      const level = Math.round(Math.min(1, v) * 255);
      const g = inkOnWhite ? 255 - level : level;
      for (let dy = 0; dy < scale; dy++)
        for (let dx = 0; dx < scale; dx++)
          canvas.set(x0 + x * scale + dx, y0 + y * scale + dy, [g, g, g]);
    }
  }
}

/** The first `perClass` indices of each class 0…classes-1, in class order (fewer where a class has fewer). */
export function galleryIndices(
  labels: Int32Array | readonly number[],
  classes: number,
  perClass: number,
): number[][] {
  const rows: number[][] = Array.from({ length: classes }, () => []);
  for (let i = 0; i < labels.length; i++) {
    const c = labels[i];
    if (c >= 0 && c < classes && rows[c].length < perClass) rows[c].push(i);
  }
  return rows;
}

export interface GalleryOptions extends Omit<
  DigitGridOptions,
  'cols' | 'rowLabels' | 'captionColors'
> {
  perClass?: number;
  classNames?: readonly string[];
}

/** A gallery PNG: one row per class with its name on the left, the first `perClass` examples of that class. */
export function digitGalleryPng(
  images: Float32Array,
  labels: Int32Array | readonly number[],
  options: GalleryOptions = {},
): Uint8Array {
  const classNames = options.classNames ?? Array.from({ length: 10 }, (_, i) => String(i));
  const perClass = positiveInt('perClass', options.perClass ?? 10);
  const rows = galleryIndices(labels, classNames.length, perClass);
  const missing = rows.findIndex((r) => r.length < perClass);
  if (missing >= 0) {
    throw new ConfigError(
      'labels',
      `class ${classNames[missing]} has ${rows[missing].length} examples; the gallery needs ${perClass}`,
    );
  }
  return digitGridPng(images, rows.flat(), [], {
    ...options,
    cols: perClass,
    rowLabels: classNames,
  });
}
