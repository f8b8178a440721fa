// Tests for lib/data/preprocess.ts: MNIST-style crop, fit-to-20 and centre-of-mass placement, on synthetic strokes and real MNIST digits.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import type { Dataset } from '../../lib/data/types.js';
import {
  centreByMass,
  centreOfMass,
  fitSize,
  inkBoundingBox,
  preprocessDrawing,
  resizeArea,
  rgbaToGray,
  type GrayImage,
} from '../../lib/data/preprocess.js';
import { quickMnist } from '../support/helpers.js';

/** A black w×h canvas with white filled discs along a polyline, like a thick pen stroke. */
function stroke(
  width: number,
  height: number,
  points: Array<[number, number]>,
  radius: number,
): GrayImage {
  const data = new Float32Array(width * height);
  for (let s = 0; s + 1 < points.length; s++) {
    const [ax, ay] = points[s];
    const [bx, by] = points[s + 1];
    const steps = Math.ceil(Math.hypot(bx - ax, by - ay)) + 1;
    for (let t = 0; t <= steps; t++) {
      const cx = ax + ((bx - ax) * t) / steps;
      const cy = ay + ((by - ay) * t) / steps;
      for (let y = Math.floor(cy - radius); y <= Math.ceil(cy + radius); y++) {
        for (let x = Math.floor(cx - radius); x <= Math.ceil(cx + radius); x++) {
          if (
            x >= 0 &&
            y >= 0 &&
            x < width &&
            y < height &&
            Math.hypot(x + 0.5 - cx, y + 0.5 - cy) <= radius
          )
            data[y * width + x] = 1;
        }
      }
    }
  }
  return { data, width, height };
}

/** Nearest-neighbour upscale of a 28×28 digit, as if it had been drawn on a big canvas. */
function upscale(pixels: Float32Array, factor: number): GrayImage {
  const side = 28 * factor;
  const data = new Float32Array(side * side);
  for (let y = 0; y < side; y++)
    for (let x = 0; x < side; x++)
      data[y * side + x] = pixels[Math.floor(y / factor) * 28 + Math.floor(x / factor)];
  return { data, width: side, height: side };
}

function boxSides(pixels: Float32Array): { w: number; h: number } {
  const box = inkBoundingBox({ data: pixels, width: 28, height: 28 }, 0);
  assert.ok(box, 'the result has ink');
  return { w: box.x1 - box.x0, h: box.y1 - box.y0 };
}

function correlation(a: Float32Array, b: Float32Array): number {
  const n = a.length;
  const ma = a.reduce((s, v) => s + v, 0) / n;
  const mb = b.reduce((s, v) => s + v, 0) / n;
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < n; i++) {
    ab += (a[i] - ma) * (b[i] - mb);
    aa += (a[i] - ma) ** 2;
    bb += (b[i] - mb) ** 2;
  }
  return ab / Math.sqrt(aa * bb);
}

describe('building blocks', () => {
  test('rgbaToGray reads luminance, honours alpha, and inverts dark ink on request', () => {
    const rgba = [255, 255, 255, 255, 0, 0, 0, 255, 255, 255, 255, 0, 128, 128, 128, 255];
    const white = rgbaToGray(rgba, 2, 2);
    assert.deepEqual(
      Array.from(white.data, (v) => Math.round(v * 100) / 100),
      [1, 0, 0, 0.5],
    );
    const dark = rgbaToGray(rgba, 2, 2, true);
    assert.deepEqual(
      Array.from(dark.data, (v) => Math.round(v * 100) / 100),
      [0, 1, 0, 0.5],
    );
    assert.throws(() => rgbaToGray(rgba, 3, 2), /expected 3×2×4 = 24 RGBA bytes, got 16/);
  });

  test('inkBoundingBox finds the ink and ignores values at or below the threshold', () => {
    const img = stroke(
      50,
      40,
      [
        [10, 5],
        [30, 25],
      ],
      2,
    );
    img.data[0] = 0.05; // a faint smudge far away
    const box = inkBoundingBox(img, 0.1);
    assert.ok(box);
    assert.ok(box.x0 >= 7 && box.x0 <= 9 && box.x1 >= 32 && box.x1 <= 33, JSON.stringify(box));
    assert.ok(box.y0 >= 2 && box.y0 <= 4 && box.y1 >= 27 && box.y1 <= 28, JSON.stringify(box));
    assert.equal(inkBoundingBox({ data: new Float32Array(12), width: 4, height: 3 }), null);
  });

  test('resizeArea keeps the mean brightness (mass per area) when shrinking and growing', () => {
    const img = stroke(
      280,
      280,
      [
        [60, 40],
        [200, 240],
      ],
      10,
    );
    const mean = (g: GrayImage) => g.data.reduce((s, v) => s + v, 0) / g.data.length;
    for (const [w, h] of [
      [20, 20],
      [28, 13],
      [7, 9],
      [400, 300],
    ]) {
      const out = resizeArea(img, w, h);
      assert.equal(out.data.length, w * h);
      assert.ok(Math.abs(mean(out) - mean(img)) < 1e-4, `${w}×${h}: ${mean(out)} vs ${mean(img)}`);
    }
  });

  test('fitSize scales the longer side to 20 and keeps the aspect ratio', () => {
    assert.deepEqual(fitSize(200, 100), { width: 20, height: 10 });
    assert.deepEqual(fitSize(30, 240), { width: 3, height: 20 });
    assert.deepEqual(fitSize(1, 500), { width: 1, height: 20 });
    assert.deepEqual(fitSize(7, 7), { width: 20, height: 20 });
  });

  test('centreOfMass uses pixel-index coordinates', () => {
    const img = { data: new Float32Array(4 * 3), width: 4, height: 3 };
    img.data[1 * 4 + 3] = 1; // pixel x=3, y=1
    img.data[1 * 4 + 1] = 3; // pixel x=1, y=1, three times heavier
    assert.deepEqual(centreOfMass(img), { x: 1.5, y: 1 });
  });

  test('centreByMass moves the centre of mass to (14, 14) within half a pixel', () => {
    const img = stroke(
      20,
      20,
      [
        [2, 2],
        [6, 18],
        [18, 18],
      ],
      1.5,
    ); // an "L": mass far from the box centre
    const before = centreOfMass(img)!;
    assert.ok(Math.abs(before.x - 10) > 1, 'the fixture is off-centre');
    const placed = centreByMass(img);
    const after = centreOfMass(placed)!;
    assert.ok(
      Math.abs(after.x - 14) <= 0.5 && Math.abs(after.y - 14) <= 0.5,
      JSON.stringify(after),
    );
    assert.equal(
      centreByMass({ data: new Float32Array(4), width: 2, height: 2 }).data.every((v) => v === 0),
      true,
    );
  });
});

describe('preprocessDrawing', () => {
  test('strokes anywhere on a big canvas end up 20 px tall, centred by mass, in [0, 1]', () => {
    const cases: Array<[string, GrayImage]> = [
      [
        'a "1" near the top-left',
        stroke(
          280,
          280,
          [
            [40, 20],
            [45, 150],
          ],
          9,
        ),
      ],
      [
        'a wide "-" at the bottom',
        stroke(
          280,
          280,
          [
            [30, 250],
            [260, 255],
          ],
          8,
        ),
      ],
      [
        'a "7" on a non-square canvas',
        stroke(
          300,
          200,
          [
            [100, 30],
            [220, 30],
            [140, 190],
          ],
          10,
        ),
      ],
      [
        'a "0" ring',
        stroke(
          280,
          280,
          Array.from({ length: 41 }, (_, i): [number, number] => [
            140 + 60 * Math.cos(i / 6.4),
            140 + 90 * Math.sin(i / 6.4),
          ]),
          9,
        ),
      ],
    ];
    for (const [name, img] of cases) {
      const out = preprocessDrawing(img);
      assert.equal(out.empty, false, name);
      assert.equal(out.pixels.length, 784, name);
      assert.ok(
        out.pixels.every((v) => v >= 0 && v <= 1),
        `${name}: values in [0, 1]`,
      );
      assert.equal(Math.max(...out.pixels), 1, `${name}: normalised so the brightest pixel is 1`);
      const { w, h } = boxSides(out.pixels);
      assert.equal(Math.max(w, h), 20, `${name}: longest side ${w}×${h}`);
      const com = centreOfMass({ data: out.pixels, width: 28, height: 28 })!;
      assert.ok(
        Math.abs(com.x - 14) <= 0.5 && Math.abs(com.y - 14) <= 0.5,
        `${name}: centre of mass ${JSON.stringify(com)}`,
      );
      assert.deepEqual(out.centre, com, `${name}: reported centre`);
    }
  });

  test('the aspect ratio is kept: a tall thin "1" stays thin', () => {
    const out = preprocessDrawing(
      stroke(
        280,
        280,
        [
          [140, 30],
          [140, 250],
        ],
        10,
      ),
    );
    const { w, h } = boxSides(out.pixels);
    assert.equal(h, 20);
    assert.ok(w <= 3, `width ${w}`);
  });

  test('an empty canvas gives 784 zeros and says so; a faint smudge counts as empty', () => {
    for (const data of [new Float32Array(280 * 280), new Float32Array(280 * 280).fill(0.05)]) {
      const out = preprocessDrawing({ data, width: 280, height: 280 });
      assert.equal(out.empty, true);
      assert.equal(out.box, null);
      assert.equal(out.centre, null);
      assert.equal(out.pixels.length, 784);
      assert.ok(out.pixels.every((v) => v === 0));
    }
  });

  test('a malformed image is rejected with its size in the message', () => {
    assert.throws(
      () => preprocessDrawing({ data: new Float32Array(10), width: 4, height: 4 }),
      /got 10 values for 4×4/,
    );
  });

  describe('on real MNIST test digits', () => {
    let data: Dataset;
    before(async () => {
      data = await quickMnist();
    });

    test('a digit drawn 10× larger and re-preprocessed stays close to the original', () => {
      const correlations: number[] = [];
      for (let i = 0; i < 50; i++) {
        const original = data.test.images.slice(i * 784, (i + 1) * 784);
        const out = preprocessDrawing(upscale(original, 10));
        correlations.push(correlation(original, out.pixels));
        const com = out.centre!;
        assert.ok(
          Math.abs(com.x - 14) <= 0.5 && Math.abs(com.y - 14) <= 0.5,
          `digit ${i}: ${JSON.stringify(com)}`,
        );
      }
      correlations.sort((a, b) => a - b);
      assert.ok(correlations[0] > 0.95, `worst correlation ${correlations[0].toFixed(3)}`);
    });

    test('re-preprocessing a 28×28 digit as is changes it little (MNIST digits are already normalised this way)', () => {
      let totalAbs = 0;
      for (let i = 0; i < 50; i++) {
        const original = data.test.images.slice(i * 784, (i + 1) * 784);
        const out = preprocessDrawing({ data: original, width: 28, height: 28 });
        for (let p = 0; p < 784; p++) totalAbs += Math.abs(out.pixels[p] - original[p]);
      }
      const meanAbs = totalAbs / (50 * 784);
      assert.ok(meanAbs < 0.01, `mean absolute pixel change ${meanAbs.toFixed(4)}`);
    });
  });
});
