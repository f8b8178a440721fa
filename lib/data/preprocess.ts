// MNIST-style preprocessing of a drawing (crop, fit in 20×20, centre of mass at 14,14): pure math, no DOM, no imports.
//
// This module must stay import-free and Node-free: the draw-a-digit page (npm run demo) and the notebook
// widget run this very file in the browser, transpiled as is, so page and unit tests share one code path.
//
// Coordinates are pixel indices: pixel (x, y) sits at (x, y). MNIST puts each digit's centre of mass at
// (14, 14) in these coordinates (measured on the 10,000 MNIST test digits: mean 14.0, standard deviation 0.3), which is half a
// pixel right of and below the geometric middle (13.5, 13.5) of a 28×28 image. We do the same, so a
// drawing reaches the model where its training digits were.

/** Side of an MNIST image. */
export const MNIST_SIDE = 28;
/** MNIST scales each digit so the longer side of its ink's bounding box is 20 pixels. */
export const MNIST_BOX = 20;

/** A grayscale image, row-major, values in [0, 1], 1 = ink. */
export interface GrayImage {
  readonly data: Float32Array;
  readonly width: number;
  readonly height: number;
}

/** Pixel rectangle [x0, x1) × [y0, y1). */
export interface Box {
  readonly x0: number;
  readonly y0: number;
  readonly x1: number;
  readonly y1: number;
}

export interface PreprocessOptions {
  /** A pixel counts as ink for the bounding box above this value; default 0.1 (ignores faint smudges). */
  readonly threshold?: number;
  /** Scale the result so its brightest pixel is 1, as in MNIST (default true). */
  readonly normalize?: boolean;
}

export interface Preprocessed {
  /** 28×28 = 784 values in [0, 1], white ink on black: what the model sees. */
  readonly pixels: Float32Array;
  /** True when no pixel was above the threshold: `pixels` is all zeros. */
  readonly empty: boolean;
  /** The ink's bounding box in the input image (null when empty). */
  readonly box: Box | null;
  /** Centre of mass of the result, ≈ (14, 14) (null when empty). */
  readonly centre: { readonly x: number; readonly y: number } | null;
}

function checkImage(image: GrayImage): void {
  const { width, height, data } = image;
  if (
    !Number.isInteger(width) ||
    !Number.isInteger(height) ||
    width < 1 ||
    height < 1 ||
    data.length !== width * height
  ) {
    throw new RangeError(
      `expected a grayscale image of width×height values, got ${data.length} values for ${width}×${height}`,
    );
  }
}

/**
 * RGBA bytes (a canvas's ImageData) → ink in [0, 1] from luminance. The demo canvas is white ink on
 * black like MNIST; `inkIsDark` handles dark ink on white paper instead. Transparent pixels count as
 * background.
 */
export function rgbaToGray(
  rgba: ArrayLike<number>,
  width: number,
  height: number,
  inkIsDark = false,
): GrayImage {
  if (rgba.length !== width * height * 4) {
    throw new RangeError(
      `expected ${width}×${height}×4 = ${width * height * 4} RGBA bytes, got ${rgba.length}`,
    );
  }
  const data = new Float32Array(width * height);
  for (let i = 0; i < data.length; i++) {
    const alpha = rgba[4 * i + 3] / 255;
    const luminance =
      (0.299 * rgba[4 * i] + 0.587 * rgba[4 * i + 1] + 0.114 * rgba[4 * i + 2]) / 255;
    const ink = inkIsDark ? 1 - luminance : luminance;
    data[i] = Math.min(1, Math.max(0, ink * alpha));
  }
  return { data, width, height };
}

/** The smallest rectangle holding every pixel above `threshold`, or null when there is none. */
export function inkBoundingBox(image: GrayImage, threshold = 0.1): Box | null {
  checkImage(image);
  const { data, width, height } = image;
  let x0 = width;
  let y0 = height;
  let x1 = -1;
  let y1 = -1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (data[y * width + x] > threshold) {
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
        if (y < y0) y0 = y;
        if (y > y1) y1 = y;
      }
    }
  }
  return x1 < 0 ? null : { x0, y0, x1: x1 + 1, y1: y1 + 1 };
}

/** Copies a rectangle out of an image. */
export function crop(image: GrayImage, box: Box): GrayImage {
  checkImage(image);
  const width = box.x1 - box.x0;
  const height = box.y1 - box.y0;
  if (
    box.x0 < 0 ||
    box.y0 < 0 ||
    box.x1 > image.width ||
    box.y1 > image.height ||
    width < 1 ||
    height < 1
  ) {
    throw new RangeError(
      `crop box ${JSON.stringify(box)} does not lie inside the ${image.width}×${image.height} image`,
    );
  }
  const data = new Float32Array(width * height);
  for (let y = 0; y < height; y++) {
    const from = (box.y0 + y) * image.width + box.x0;
    data.set(image.data.subarray(from, from + width), y * width);
  }
  return { data, width, height };
}

/**
 * Area-weighted resampling: each output pixel is the mean of the input area it covers (fractional
 * overlaps weighted). Shrinking a 280-pixel drawing this way anti-aliases it as MNIST's scanner-era
 * processing did, instead of dropping thin strokes as nearest-neighbour sampling would.
 */
export function resizeArea(image: GrayImage, width: number, height: number): GrayImage {
  checkImage(image);
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new RangeError(`expected a positive whole target size, got ${width}×${height}`);
  }
  const sx = image.width / width;
  const sy = image.height / height;
  // Horizontal pass then vertical pass: the 2-D box filter is separable.
  const rows = new Float32Array(width * image.height);
  for (let y = 0; y < image.height; y++) {
    for (let x = 0; x < width; x++)
      rows[y * width + x] = coverageMean(image.data, y * image.width, 1, x * sx, (x + 1) * sx);
  }
  const data = new Float32Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++)
      data[y * width + x] = coverageMean(rows, x, width, y * sy, (y + 1) * sy);
  }
  return { data, width, height };
}

/** Mean of samples src[offset + k·stride] over the continuous interval [from, to), weighting partial samples. */
function coverageMean(
  src: Float32Array,
  offset: number,
  stride: number,
  from: number,
  to: number,
): number {
  let sum = 0;
  for (let k = Math.floor(from); k < to; k++) {
    const weight = Math.min(k + 1, to) - Math.max(k, from);
    if (weight > 0) sum += weight * src[offset + k * stride];
  }
  return sum / (to - from);
}

/** Centre of mass in pixel-index coordinates, or null for an all-zero image. */
export function centreOfMass(image: GrayImage): { x: number; y: number } | null {
  checkImage(image);
  const { data, width, height } = image;
  let mass = 0;
  let mx = 0;
  let my = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const v = data[y * width + x];
      mass += v;
      mx += v * x;
      my += v * y;
    }
  }
  return mass > 0 ? { x: mx / mass, y: my / mass } : null;
}

/**
 * Pastes `image` into a side×side black canvas so its centre of mass lands on pixel (side/2, side/2),
 * shifted by whole pixels: the centre ends within half a pixel of it and no interpolation blurs the
 * strokes. Ink shifted past the border is cut off.
 */
export function centreByMass(image: GrayImage, side = MNIST_SIDE): GrayImage {
  checkImage(image);
  const data = new Float32Array(side * side);
  const com = centreOfMass(image);
  if (!com) return { data, width: side, height: side };
  const dx = Math.round(side / 2 - com.x);
  const dy = Math.round(side / 2 - com.y);
  for (let y = 0; y < image.height; y++) {
    const ty = y + dy;
    if (ty < 0 || ty >= side) continue;
    for (let x = 0; x < image.width; x++) {
      const tx = x + dx;
      if (tx >= 0 && tx < side) data[ty * side + tx] = image.data[y * image.width + x];
    }
  }
  return { data, width: side, height: side };
}

/** The target size of a w×h box scaled so its longer side is `box` pixels, aspect ratio kept. */
export function fitSize(
  width: number,
  height: number,
  box = MNIST_BOX,
): { width: number; height: number } {
  const scale = box / Math.max(width, height);
  return {
    width: Math.max(1, Math.round(width * scale)),
    height: Math.max(1, Math.round(height * scale)),
  };
}

/**
 * A drawing (any size, white ink on black, values in [0, 1]) → the 28×28 input MNIST models expect:
 * crop to the ink, scale the longer side to 20 pixels keeping the aspect ratio, centre the centre of
 * mass at (14, 14). An empty drawing gives 784 zeros and `empty: true`.
 */
export function preprocessDrawing(image: GrayImage, options: PreprocessOptions = {}): Preprocessed {
  const { threshold = 0.1, normalize = true } = options;
  const box = inkBoundingBox(image, threshold);
  if (!box)
    return {
      pixels: new Float32Array(MNIST_SIDE * MNIST_SIDE),
      empty: true,
      box: null,
      centre: null,
    };
  const inked = crop(image, box);
  const size = fitSize(inked.width, inked.height);
  const placed = centreByMass(resizeArea(inked, size.width, size.height));
  const pixels = placed.data;
  let max = 0;
  for (const v of pixels) if (v > max) max = v;
  if (normalize && max > 0)
    for (let i = 0; i < pixels.length; i++) pixels[i] = Math.min(1, pixels[i] / max);
  return { pixels, empty: false, box, centre: centreOfMass(placed) };
}

/** Index of the largest value (the predicted class); -1 for an empty list. */
export function argMax(values: ArrayLike<number>): number {
  let best = -1;
  for (let i = 0; i < values.length; i++) if (best < 0 || values[i] > values[best]) best = i;
  return best;
}
