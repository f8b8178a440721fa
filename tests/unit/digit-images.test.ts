// Tests for lib/viz/digit-images.ts and lib/viz/bitmap-font.ts: digit grids as PNG, pixel-exact, with readable captions.

import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, test } from 'node:test';
import {
  ADVANCE,
  GLYPH_HEIGHT,
  GLYPH_WIDTH,
  drawText,
  glyph,
  hasGlyph,
  textWidth,
} from '../../lib/viz/bitmap-font.js';
import {
  digitGalleryPng,
  digitGridLayout,
  digitGridPng,
  galleryIndices,
  wrapCaption,
} from '../../lib/viz/digit-images.js';
import { ConfigError } from '../../lib/core/errors.js';
import { decodePng, pngHeader } from '../support/figures-fixtures.js';
import { firstDigits } from '../support/figures-fixtures.js';

const OUT = resolve('test-output');
const { images, labels } = firstDigits(500);

function pixel(img: ReturnType<typeof decodePng>, x: number, y: number): [number, number, number] {
  const o = (y * img.width + x) * 4;
  return [img.data[o], img.data[o + 1], img.data[o + 2]];
}

describe('digitGridPng', () => {
  const indices = [0, 1, 2, 3, 4, 5, 6, 7];
  const captions = indices.map((i) => `true ${labels[i]} → pred ${(labels[i] + 3) % 10} (87%)`);
  const png = digitGridPng(images, indices, captions, { cols: 4, scale: 3 });
  const img = decodePng(png);
  const layout = digitGridLayout(captions, { cols: 4, scale: 3 });

  test('is a PNG of the layout size: 4 columns, 2 rows of 84-pixel digits', () => {
    mkdirSync(OUT, { recursive: true });
    writeFileSync(join(OUT, 'digit-grid.png'), png);
    assert.deepEqual(pngHeader(png), { width: layout.width, height: layout.height });
    assert.equal(layout.rows, 2);
    assert.ok(layout.width >= 4 * 84 && layout.height >= 2 * 84);
  });

  test('the first real MNIST training digit (a 5) appears pixel for pixel, upscaled ×3, ink black on white', () => {
    assert.equal(labels[0], 5);
    const cell = layout.cells[0];
    let inked = 0;
    for (let y = 0; y < 28 * 3; y++) {
      for (let x = 0; x < 28 * 3; x++) {
        const v = images[Math.floor(y / 3) * 28 + Math.floor(x / 3)];
        const want = 255 - Math.round(v * 255);
        assert.deepEqual(
          pixel(img, cell.imageX + x, cell.imageY + y),
          [want, want, want],
          `pixel ${x},${y}`,
        );
        if (want < 128) inked++;
      }
    }
    assert.ok(inked > 9 * 50, 'a real digit has ink');
  });

  test('captions are drawn below each digit and wrap to two lines', () => {
    const cell = layout.cells[0];
    assert.deepEqual(cell.lines, ['true 5 →', `pred 8 (87%)`]);
    let dark = 0;
    for (let y = cell.captionY; y < cell.captionY + 2 * 9 * 2; y++) {
      for (let x = cell.imageX - 40; x < cell.imageX + 84 + 40; x++)
        if (pixel(img, x, y)[0] < 100) dark++;
    }
    assert.ok(dark > 100, `caption ink expected, found ${dark} dark pixels`);
  });

  test('white on black and caption colours', () => {
    const inv = decodePng(
      digitGridPng(images, [0], ['x'], { inkOnWhite: false, captionColors: ['#cc0000'] }),
    );
    const l = digitGridLayout(['x'], {});
    const v = images[14 * 28 + 14];
    const level = Math.round(v * 255);
    assert.deepEqual(pixel(inv, l.cells[0].imageX + 14 * 3, l.cells[0].imageY + 14 * 3), [
      level,
      level,
      level,
    ]);
    assert.deepEqual(pixel(inv, 0, 0), [0, 0, 0]);
    let red = 0;
    for (let i = 0; i < inv.data.length; i += 4)
      if (inv.data[i] === 0xcc && inv.data[i + 1] === 0) red++;
    assert.equal(red, 4 * countInk('x'), 'the caption "x" in red at font scale 2');
  });

  test('bad input is rejected with a ConfigError naming it', () => {
    assert.throws(() => digitGridPng(images, [500]), /index 500 is outside the 500 images/);
    assert.throws(() => digitGridPng(images, [0, 1], ['one']), /1 captions for 2 digits/);
    assert.throws(() => digitGridPng(images, []), ConfigError);
    assert.throws(
      () => digitGridPng(new Float32Array(100), [0]),
      /not a whole number of 28×28 images/,
    );
    assert.throws(
      () =>
        digitGridPng(
          images.map((v) => v * 255),
          [0],
        ),
      /expected values in \[0, 1\]/,
    );
    assert.throws(
      () => digitGridPng(images, [0], ['a'], { captionColors: ['red'] }),
      /not a colour/,
    );
  });
});

function countInk(text: string): number {
  let n = 0;
  drawText(text, 0, 0, 1, () => n++);
  return n;
}

describe('gallery', () => {
  test('galleryIndices picks the first examples of each class in order', () => {
    const rows = galleryIndices(labels, 10, 5);
    rows.forEach((row, c) => {
      assert.equal(row.length, 5);
      for (const i of row) assert.equal(labels[i], c);
      assert.deepEqual(
        row,
        [...row].sort((a, b) => a - b),
      );
    });
    assert.equal(rows[5][0], 0, 'the first training digit is the first 5');
  });

  test('digitGalleryPng: ten rows of digits with class names on the left', () => {
    const png = digitGalleryPng(images, labels, { perClass: 8, scale: 2 });
    writeFileSync(join(OUT, 'digit-gallery.png'), png);
    const { width, height } = pngHeader(png);
    const layout = digitGridLayout(new Array(80).fill(''), {
      cols: 8,
      scale: 2,
      rowLabels: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
    });
    assert.deepEqual({ width, height }, { width: layout.width, height: layout.height });
    assert.equal(layout.rows, 10);
    assert.throws(
      () => digitGalleryPng(images.subarray(0, 784 * 20), labels.subarray(0, 20), { perClass: 8 }),
      /has \d+ examples; the gallery needs 8/,
    );
  });
});

describe('bitmap font', () => {
  test('every glyph is 5×7 and the characters of captions are all present', () => {
    for (const ch of 'true 4 → pred 9 (87%) ABCXYZ abcxyz 0123456789 .,:;-+=/_#*?!\'"<>|[]×←·') {
      assert.ok(hasGlyph(ch), `glyph for "${ch}"`);
      const g = glyph(ch);
      assert.equal(g.length, GLYPH_HEIGHT);
      assert.ok(g.every((row) => row.length === GLYPH_WIDTH));
    }
    assert.deepEqual(glyph('€'), glyph('?'));
    assert.equal(textWidth('abc'), 3 * ADVANCE - 1);
  });

  test('distinct characters have distinct glyphs (no copy-paste slips)', () => {
    const chars = [...'0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ%()→'];
    const seen = new Map<string, string>();
    for (const ch of chars) {
      const key = glyph(ch)
        .map((r) => r.map((b) => (b ? '#' : '.')).join(''))
        .join('/');
      assert.ok(!seen.has(key), `"${ch}" looks exactly like "${seen.get(key)}"`);
      seen.set(key, ch);
    }
  });

  test('wrapCaption breaks at spaces and honours newlines', () => {
    assert.deepEqual(wrapCaption('true 4 → pred 9 (87%)', 12), ['true 4 →', 'pred 9 (87%)']);
    assert.deepEqual(wrapCaption('a\nb c', 10), ['a', 'b c']);
    assert.deepEqual(wrapCaption('averyveryverylongword x', 5), ['averyveryverylongword', 'x']);
  });
});
