// Tests for lib/viz/charts.ts: figure specs built from real MNIST data have the right shapes, labels and titles.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConfigError } from '../../lib/core/errors.js';
import {
  barChart,
  binCounts,
  confusionMatrixHeatmap,
  digitHeatmap,
  figureTitle,
  histogram,
  lineChart,
  type Figure,
} from '../../lib/viz/charts.js';
import { firstDigits } from '../support/figures-fixtures.js';

const CLASSES = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];

/** A real (weak) classifier: nearest class mean, trained on the first training digits. */
function nearestCentroidConfusion(trainCount: number, testCount: number): number[][] {
  const train = firstDigits(trainCount);
  const test = firstDigits(testCount, 't10k');
  const means = CLASSES.map(() => new Float64Array(784));
  const counts = new Array<number>(10).fill(0);
  for (let i = 0; i < trainCount; i++) {
    counts[train.labels[i]]++;
    for (let p = 0; p < 784; p++) means[train.labels[i]][p] += train.images[i * 784 + p];
  }
  means.forEach((m, c) => m.forEach((_, p) => (m[p] /= counts[c])));
  const matrix = CLASSES.map(() => new Array<number>(10).fill(0));
  for (let i = 0; i < testCount; i++) {
    let best = 0;
    let bestD = Infinity;
    means.forEach((m, c) => {
      let d = 0;
      for (let p = 0; p < 784; p++) d += (test.images[i * 784 + p] - m[p]) ** 2;
      if (d < bestD) [best, bestD] = [c, d];
    });
    matrix[test.labels[i]][best]++;
  }
  return matrix;
}

function assertJsonSafe(fig: Figure): void {
  assert.deepEqual(
    JSON.parse(JSON.stringify(fig)),
    fig,
    'a figure must survive JSON (no typed arrays, no NaN)',
  );
}

describe('lineChart', () => {
  const loss = [0.45, 0.21, 0.15, 0.12, 0.1];
  const acc = [0.88, 0.94, 0.955, 0.963, 0.968];
  const fig = lineChart(
    [
      { name: 'train accuracy', y: acc },
      { name: 'validation accuracy', y: acc.map((a) => a - 0.01), dash: 'dash' },
      { name: 'train loss', y: loss, rightAxis: true },
    ],
    {
      title: 'Learning curves',
      yLabel: 'accuracy',
      y2Label: 'loss',
      percent: true,
      references: [
        { x: 1, y: 0.923 },
        { x: 5, y: 0.971 },
      ],
    },
  );

  test('one trace per series plus one for the reference points, epochs counted from 1', () => {
    assert.equal(fig.data.length, 4);
    assert.deepEqual(fig.data[0].x, [1, 2, 3, 4, 5]);
    assert.deepEqual(fig.data[0].y, acc);
    assert.deepEqual(
      fig.data.map((t) => t.name),
      ['train accuracy', 'validation accuracy', 'train loss', 'reference'],
    );
    assert.deepEqual(fig.data[3].text, ['92.3%', '97.1%']);
  });

  test('loss goes on a right-hand axis, percentages on the left, sizes and title set', () => {
    assert.equal(fig.data[2].yaxis, 'y2');
    assert.equal((fig.layout.yaxis2 as { side: string }).side, 'right');
    assert.match(String((fig.layout.yaxis as { tickformat: string }).tickformat), /%/);
    assert.equal((fig.layout.xaxis as { title: { text: string } }).title.text, 'epoch');
    assert.equal(figureTitle(fig), 'Learning curves');
    assert.equal(fig.layout.width, 700);
    assert.equal(fig.layout.height, 450);
    assertJsonSafe(fig);
  });

  test('rejects x and y of different lengths and an empty series list', () => {
    assert.throws(
      () => lineChart([{ name: 'a', x: [1, 2], y: [1, 2, 3] }], { title: 't' }),
      ConfigError,
    );
    assert.throws(() => lineChart([], { title: 't' }), ConfigError);
  });
});

describe('barChart', () => {
  test('class balance of real train and test labels: one bar per class and split, totals kept', () => {
    const train = firstDigits(6000).labels;
    const test = firstDigits(1000, 't10k').labels;
    const count = (labels: Int32Array) =>
      CLASSES.map((_, c) => labels.filter((l) => l === c).length);
    const fig = barChart(
      CLASSES,
      [
        { name: 'train', values: count(train).map((n) => n / train.length) },
        { name: 'test', values: count(test).map((n) => n / test.length) },
      ],
      {
        title: 'Class balance',
        xLabel: 'digit',
        yLabel: 'share of split',
        percent: true,
        valueLabels: true,
      },
    );
    assert.equal(fig.data.length, 2);
    assert.equal(fig.layout.barmode, 'group');
    for (const t of fig.data) {
      assert.equal(t.type, 'bar');
      assert.deepEqual(t.x, CLASSES);
      const sum = (t.y as number[]).reduce((a, b) => a + b, 0);
      assert.ok(Math.abs(sum - 1) < 1e-9, `shares of ${t.name} sum to ${sum}`);
      assert.equal((t.text as string[]).length, 10);
    }
    assertJsonSafe(fig);
  });

  test('rejects a group whose length differs from the categories, and NaN values', () => {
    assert.throws(
      () => barChart(['a', 'b'], [{ name: 'g', values: [1] }], { title: 't' }),
      /1 values for 2 categories/,
    );
    assert.throws(
      () => barChart(['a'], [{ name: 'g', values: [NaN] }], { title: 't' }),
      ConfigError,
    );
  });
});

describe('histogram', () => {
  const { images } = firstDigits(100);

  test('binCounts counts every pixel of 100 real digits once, most of them in the zero bin', () => {
    const b = binCounts(images, 32, [0, 1]);
    assert.equal(b.counts.length, 32);
    assert.equal(b.counts.reduce((a, c) => a + c, 0) + b.skipped, images.length);
    assert.equal(b.skipped, 0);
    assert.equal(b.counts.indexOf(Math.max(...b.counts)), 0);
    assert.ok(b.counts[31] > 0, 'full-ink pixels (1.0) land in the last bin');
    assert.equal(b.width, 1 / 32);
  });

  test('binCounts skips NaN and out-of-range values', () => {
    const b = binCounts([0, 0.5, NaN, 2, -1, 1], 2, [0, 1]);
    assert.deepEqual(b.counts, [1, 2]);
    assert.equal(b.skipped, 3);
  });

  test('histogram sends bin counts, not raw values', () => {
    const fig = histogram(images, {
      title: 'Pixel intensities',
      xLabel: 'intensity',
      bins: 20,
      logY: true,
    });
    assert.equal(fig.data.length, 1);
    assert.equal((fig.data[0].y as number[]).length, 20);
    assert.equal(
      (fig.data[0].y as number[]).reduce((a, b) => a + b, 0),
      images.length,
    );
    assert.equal((fig.layout.yaxis as { type: string }).type, 'log');
    const two = histogram(
      [
        { name: 'first 50', values: images.subarray(0, 50 * 784) },
        { name: 'last 50', values: images.subarray(50 * 784) },
      ],
      { title: 'Two sets' },
    );
    assert.equal(two.data.length, 2);
    assert.deepEqual(two.data[0].x, two.data[1].x, 'both sets share one set of bins');
    assertJsonSafe(two);
  });
});

describe('digitHeatmap', () => {
  const { images, labels } = firstDigits(1);
  const pixels = images.subarray(0, 784);

  test('the first training digit becomes a 28×28 z matrix, row 0 at the top, square pixels', () => {
    const fig = digitHeatmap(pixels, { title: `label ${labels[0]}` });
    const z = fig.data[0].z!;
    assert.equal(z.length, 28);
    assert.ok(z.every((row) => row.length === 28));
    for (let r = 0; r < 28; r++)
      for (let c = 0; c < 28; c++) assert.equal(z[r][c], pixels[r * 28 + c]);
    assert.equal((fig.layout.yaxis as { autorange: string }).autorange, 'reversed');
    assert.equal((fig.layout.yaxis as { scaleanchor: string }).scaleanchor, 'x');
    assert.equal(figureTitle(fig), 'label 5');
    assertJsonSafe(fig);
  });

  test('annotate writes 0–255 values in inked cells only', () => {
    const fig = digitHeatmap(pixels, { annotate: true });
    const text = fig.data[0].text as string[][];
    const inked = Array.from(pixels).filter((v) => v > 0).length;
    assert.equal(text.flat().filter((t) => t !== '').length, inked);
    const r = 14;
    const c = text[r].findIndex((t) => t !== '');
    assert.equal(text[r][c], String(Math.round(pixels[r * 28 + c] * 255)));
  });

  test('rejects a wrong pixel count', () => {
    assert.throws(() => digitHeatmap(new Float32Array(100)), /expected 28×28 = 784/);
  });
});

describe('confusionMatrixHeatmap', () => {
  const matrix = nearestCentroidConfusion(2000, 300);
  const fig = confusionMatrixHeatmap(matrix, CLASSES, { title: 'Nearest class mean' });

  test('100 annotations holding the counts, axes "true" and "predicted" with class names', () => {
    const ann = fig.layout.annotations!;
    assert.equal(ann.length, 100);
    for (const a of ann)
      assert.equal(
        a.text,
        String(matrix[CLASSES.indexOf(String(a.y))][CLASSES.indexOf(String(a.x))]),
      );
    assert.equal((fig.layout.xaxis as { title: { text: string } }).title.text, 'predicted');
    assert.equal((fig.layout.yaxis as { title: { text: string } }).title.text, 'true');
    assert.deepEqual(fig.data[0].x, CLASSES);
    assert.deepEqual(fig.data[0].y, CLASSES);
    assert.equal((fig.layout.yaxis as { autorange: string }).autorange, 'reversed');
    assertJsonSafe(fig);
  });

  test('colour is the share of the true class: each row of z sums to 1', () => {
    const z = fig.data[0].z!;
    assert.equal(z.length, 10);
    for (const row of z) assert.ok(Math.abs(row.reduce((a, b) => a + b, 0) - 1) < 1e-9);
    const total = matrix.flat().reduce((a, b) => a + b, 0);
    assert.equal(total, 300);
    const correct = matrix.reduce((a, row, i) => a + row[i], 0);
    assert.ok(correct > 150, `nearest class mean should get most of 300 right, got ${correct}`);
  });

  test('white text on dark cells, black on light ones', () => {
    const ann = fig.layout.annotations!;
    const diag = ann.find((a) => a.x === '1' && a.y === '1')!;
    assert.equal(diag.font?.color, '#ffffff');
    const zero = ann.find((a) => a.text === '0')!;
    assert.equal(zero.font?.color, '#000000');
  });

  test('a flat row-major array gives the same figure; wrong sizes are rejected', () => {
    assert.deepEqual(
      confusionMatrixHeatmap(matrix.flat(), CLASSES, { title: 'Nearest class mean' }),
      fig,
    );
    assert.throws(() => confusionMatrixHeatmap(matrix.slice(0, 9), CLASSES), /10×10/);
    const counts = confusionMatrixHeatmap(matrix, CLASSES, { colorBy: 'count' });
    assert.deepEqual(counts.data[0].z, matrix);
  });
});
