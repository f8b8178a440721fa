// Tests for lib/viz/figures.ts and lib/notebook/explore.ts: the notebooks' figures and image statistics against by-hand values on real MNIST.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type { Dataset } from '../../lib/data/types.js';
import { ConfigError } from '../../lib/core/errors.js';
import {
  confidentMistakes,
  confusionMatrix,
  perClassScores,
  type Predictions,
} from '../../lib/ml/evaluate.js';
import {
  classMeanImages,
  farthestFromClassMean,
  pixelStats,
  predictionCaption,
} from '../../lib/notebook/explore.js';
import { weightImages } from '../../lib/viz/weight-images.js';
import {
  accuracyCurves,
  classBalanceChart,
  confusionFigure,
  lossCurves,
  perClassChart,
  pixelHistogram,
  probabilityChart,
  weightHistogram,
} from '../../lib/viz/figures.js';
import type { EpochMetrics } from '../../lib/ml/train.js';
import { head, quickMnist } from '../support/helpers.js';

let data: Dataset;
before(async () => {
  data = await quickMnist();
});

function history(epochs: number, withEval = true): EpochMetrics[] {
  return Array.from({ length: epochs }, (_, i) => ({
    epoch: i + 1,
    loss: 0.5 / (i + 1),
    accuracy: 0.9 + i / 100,
    ...(withEval
      ? {
          valLoss: 0.4 / (i + 1),
          valAccuracy: 0.92 + i / 100,
          testLoss: 0.45 / (i + 1),
          testAccuracy: 0.91 + i / 100,
        }
      : {}),
    seconds: 5,
    evalSeconds: 1,
    samplesPerSecond: 11000,
  }));
}

describe('learning curves', () => {
  it('draw train, validation and test per epoch with the values of the history', () => {
    const h = history(3);
    const loss = lossCurves(h);
    assert.deepEqual(
      loss.data.map((t) => t.name),
      ['train', 'validation', 'test'],
    );
    assert.deepEqual(
      loss.data[0].y,
      h.map((m) => m.loss),
    );
    assert.deepEqual(
      loss.data[1].y,
      h.map((m) => m.valLoss),
    );
    assert.deepEqual(loss.data[2].x, [1, 2, 3]);
    const acc = accuracyCurves(h);
    assert.deepEqual(
      acc.data[2].y,
      h.map((m) => m.testAccuracy),
    );
  });

  it('mark only the reference epochs the run reached, and leave out splits that were not evaluated', () => {
    const refs = (fig: ReturnType<typeof accuracyCurves>) =>
      fig.data.find((t) => t.name === 'reference');
    assert.deepEqual(refs(accuracyCurves(history(10)))?.x, [1, 5, 10]);
    assert.deepEqual(refs(accuracyCurves(history(10)))?.y, [0.923, 0.971, 0.982]);
    assert.deepEqual(refs(accuracyCurves(history(2)))?.x, [1]);
    const trainOnly = lossCurves(history(2, false));
    assert.deepEqual(
      trainOnly.data.map((t) => t.name),
      ['train'],
    );
    assert.throws(() => lossCurves([]), ConfigError);
  });
});

describe('class balance and pixel histograms on real digits', () => {
  it('bars hold each class share of its split, as counted by hand', () => {
    const fig = classBalanceChart(data);
    assert.equal(fig.data.length, 2);
    for (let c = 0; c < 10; c++) {
      const n = data.test.labels.filter((l) => l === c).length;
      assert.ok(Math.abs((fig.data[1].y![c] as number) - n / data.test.count) < 1e-12);
    }
    const sum = (fig.data[0].y as number[]).reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(sum - 1) < 1e-9);
  });

  it('count every pixel once, with the stored levels 0–3 in the first bin of the 0–255 view', () => {
    const images = head(data.train, 500).images;
    const raw = pixelHistogram(images, 255);
    const counts = raw.data[0].y as number[];
    assert.equal(counts.length, 64);
    assert.equal(
      counts.reduce((a, b) => a + b, 0),
      images.length,
    );
    const low = images.filter((v) => Math.round(v * 255) < 4).length;
    assert.equal(counts[0], low);
    const top = images.filter((v) => Math.round(v * 255) >= 252).length;
    assert.equal(counts[63], top);
    const scaled = pixelHistogram(images, 1);
    assert.equal(
      (scaled.data[0].y as number[]).reduce((a, b) => a + b, 0),
      images.length,
    );
    assert.equal(raw.layout.yaxis && (raw.layout.yaxis as { type?: string }).type, 'log');
  });

  it('pixelStats matches a by-hand mean, spread and share of zeros, before and after /255', () => {
    const images = head(data.train, 200).images;
    let sum = 0;
    let zeros = 0;
    for (const v of images) {
      sum += v;
      if (v === 0) zeros++;
    }
    const mean = sum / images.length;
    let sq = 0;
    for (const v of images) sq += (v - mean) ** 2;
    const s = pixelStats(images);
    assert.ok(Math.abs(s.mean - mean) < 1e-9);
    assert.ok(Math.abs(s.std - Math.sqrt(sq / images.length)) < 1e-6);
    assert.equal(s.zeroFraction, zeros / images.length);
    assert.equal(s.min, 0);
    assert.equal(s.max, 1);
    const raw = pixelStats(images, 255);
    assert.ok(Math.abs(raw.mean - 255 * mean) < 1e-6);
    assert.equal(raw.max, 255);
  });
});

describe('class means and outliers', () => {
  it('the mean image of a class averages exactly its images', () => {
    const split = head(data.train, 300);
    const means = classMeanImages(split, 10);
    const sevens = [...split.labels.keys()].filter((i) => split.labels[i] === 7);
    for (const pixel of [14 * 28 + 14, 5 * 28 + 20, 0]) {
      const byHand = sevens.reduce((s, i) => s + split.images[i * 784 + pixel], 0) / sevens.length;
      assert.ok(Math.abs(means[7 * 784 + pixel] - byHand) < 1e-6);
    }
  });

  it('farthestFromClassMean returns, per class, the images with the largest distance, found by brute force', () => {
    const split = head(data.train, 400);
    const means = classMeanImages(split, 10);
    const odd = farthestFromClassMean(split, means, 10, 2);
    assert.equal(odd.length, 20);
    for (let c = 0; c < 10; c++) {
      const dist = [...split.labels.keys()]
        .filter((i) => split.labels[i] === c)
        .map((i) => ({
          i,
          d: Math.hypot(
            ...Array.from(
              { length: 784 },
              (_, j) => split.images[i * 784 + j] - means[c * 784 + j],
            ),
          ),
        }))
        .sort((a, b) => b.d - a.d);
      const mine = odd.filter((o) => o.label === c);
      assert.deepEqual(
        mine.map((o) => o.index),
        dist.slice(0, 2).map((x) => x.i),
      );
      assert.ok(Math.abs(mine[0].distance - dist[0].d) < 1e-4);
    }
    assert.throws(() => farthestFromClassMean(split, means.subarray(0, 784), 10, 1), ConfigError);
  });
});

describe('weights and predictions', () => {
  it('weightImages takes unit columns and maps 0 to grey, ±max to 1 and 0', () => {
    // 3 inputs × 2 units, row-major: input i, unit u at i*2+u.
    const kernel = Float32Array.from([0.5, -1, 0, 0.25, -0.5, 1]);
    const img = weightImages(kernel, 3, 2, [1, 0]);
    assert.deepEqual(Array.from(img), [0, 0.625, 1, 0.75, 0.5, 0.25]);
    assert.throws(() => weightImages(kernel, 3, 2, [2]), ConfigError);
    assert.equal(
      weightHistogram(kernel, 'w').data[0].y!.reduce((a, b) => (a as number) + (b as number), 0),
      6,
    );
  });

  const p: Predictions = {
    probabilities: Float32Array.from([0.7, 0.2, 0.1, 0.1, 0.3, 0.6, 0.2, 0.5, 0.3, 0.1, 0.1, 0.8]),
    predicted: Int32Array.from([0, 2, 1, 2]),
    confidence: Float32Array.from([0.7, 0.6, 0.5, 0.8]),
    labels: Int32Array.from([0, 1, 1, 0]),
    numClasses: 3,
    loss: 1,
    accuracy: 0.5,
  };

  it('confidentMistakes lists the wrong predictions, surest first; captions read true → predicted (confidence)', () => {
    assert.deepEqual(confidentMistakes(p), [3, 1]);
    assert.equal(predictionCaption(p, 3, ['a', 'b', 'c']), 'a → c (80%)');
  });

  it('confusion and per-class figures carry the matrix and the scores', () => {
    const fig = confusionFigure(p, ['a', 'b', 'c']);
    const counts = fig.data[0].customdata as number[][];
    assert.deepEqual(counts, confusionMatrix(p));
    assert.equal(fig.layout.annotations?.length, 9);
    assert.match(fig.layout.title.text, /50\.00%/);
    const scores = perClassScores(confusionMatrix(p), ['a', 'b', 'c']);
    const bars = perClassChart(scores);
    assert.deepEqual(
      bars.data.map((t) => t.name),
      ['precision', 'recall', 'F1'],
    );
    assert.deepEqual(
      bars.data[1].y,
      scores.map((s) => s.recall),
    );
    const probs = probabilityChart(p, [1, 2], ['a', 'b', 'c']);
    assert.deepEqual(
      probs.data[0].y,
      [0.10000000149011612, 0.30000001192092896, 0.6000000238418579],
    );
    assert.match(String(probs.data[1].name), /#2 \(a b\)/);
  });
});
