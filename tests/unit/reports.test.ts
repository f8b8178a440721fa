// Tests for lib/notebook/reports.ts: the notebooks' danfo tables against by-hand counts on real MNIST and small hand-made matrices.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { loadDataset } from '../../lib/data/datasets.js';
import type { Dataset } from '../../lib/data/types.js';
import { ConfigError } from '../../lib/core/errors.js';
import { classCounts } from '../../lib/data/class-counts.js';
import { createMlp, REFERENCE_ACCURACY, summarize } from '../../lib/ml/model.js';
import {
  accuracyFrame,
  classBalanceFrame,
  confusedPairsFrame,
  layerFrame,
  perClassFrame,
} from '../../lib/notebook/reports.js';
import type { EpochMetrics } from '../../lib/ml/train.js';
import { quickMnist } from '../support/helpers.js';

/** A DataFrame's cells as plain row arrays, and its index and columns as strings. */
function cells(df: {
  values: unknown;
  columns: readonly string[];
  index: readonly (string | number)[];
}) {
  return { rows: df.values as unknown[][], columns: [...df.columns], index: df.index.map(String) };
}

let quick: Dataset;
before(async () => {
  quick = await quickMnist();
});

describe('classCounts and classBalanceFrame', () => {
  it('counts the official MNIST test labels per digit as published (980 zeros … 1009 nines)', async () => {
    const mnist = await loadDataset({ dataset: 'mnist', validationSize: 0 });
    assert.deepEqual(
      classCounts(mnist.test.labels, 10),
      [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009],
    );
    assert.deepEqual(
      classCounts(mnist.train.labels, 10),
      [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949],
    );
  });

  it('rejects a label outside the classes, naming it', () => {
    assert.throws(
      () => classCounts(Int32Array.from([0, 3, 10]), 10),
      (e: unknown) => e instanceof ConfigError && /label 2 is 10/.test(e.message),
    );
  });

  it('tabulates counts and shares per class with a total row, matching a by-hand loop over the labels', () => {
    const { rows, columns, index } = cells(classBalanceFrame(quick));
    assert.deepEqual(columns, ['train', 'train %', 'test', 'test %']);
    assert.deepEqual(index, [...quick.classNames, 'total']);
    for (let c = 0; c < 10; c++) {
      let train = 0;
      let test = 0;
      for (const l of quick.train.labels) if (l === c) train++;
      for (const l of quick.test.labels) if (l === c) test++;
      assert.equal(rows[c][0], train);
      assert.equal(rows[c][2], test);
      assert.ok(
        Math.abs((rows[c][1] as number) - (100 * train) / quick.train.count) <= 0.005 + 1e-9,
      );
    }
    assert.deepEqual(rows[10], [quick.train.count, 100, quick.test.count, 100]);
    const shareSum = rows.slice(0, 10).reduce((s, r) => s + (r[3] as number), 0);
    assert.ok(Math.abs(shareSum - 100) < 0.05, `test shares sum to ${shareSum}`);
  });
});

describe('layerFrame', () => {
  it('lists the model of record layer by layer with 235,146 parameters in total', () => {
    const { model } = createMlp();
    const { rows, columns } = cells(layerFrame(summarize(model)));
    assert.deepEqual(columns, ['layer', 'type', 'output shape', 'parameters']);
    assert.deepEqual(
      rows.map((r) => [r[0], r[3]]),
      [
        ['hidden1', 784 * 256 + 256],
        ['dropout1', 0],
        ['hidden2', 256 * 128 + 128],
        ['dropout2', 0],
        ['output', 128 * 10 + 10],
        ['total', 235146],
      ],
    );
    model.dispose();
  });
});

// true 0: 8 right, 2 taken for 1; true 1: 9 right, 1 for 2; true 2: 5 right, 3 for 1, 2 for 0.
const MATRIX = [
  [8, 2, 0],
  [0, 9, 1],
  [2, 3, 5],
];

describe('perClassFrame', () => {
  it('gives precision, recall, F1 (in %), support and misses that match a by-hand count', () => {
    const { rows, columns, index } = cells(perClassFrame(MATRIX, ['a', 'b', 'c']));
    assert.deepEqual(columns, ['precision %', 'recall %', 'F1 %', 'support', 'missed']);
    assert.deepEqual(index, ['a', 'b', 'c']);
    // a: predicted a 10 times, 8 right → precision 80; 8 of 10 true a → recall 80.
    // b: predicted b 14 times, 9 right → 64.29; recall 9/10 = 90; F1 = 2·(9/14)(0.9)/((9/14)+0.9) = 75.
    // c: predicted c 6 times, 5 right → 83.33; recall 5/10 = 50; F1 = 2·(5/6)(0.5)/((5/6)+0.5) = 62.5.
    assert.deepEqual(rows[0], [80, 80, 80, 10, 2]);
    assert.deepEqual(rows[1], [64.29, 90, 75, 10, 1]);
    assert.deepEqual(rows[2], [83.33, 50, 62.5, 10, 5]);
  });
});

describe('confusedPairsFrame', () => {
  it('ranks unordered pairs by mistakes in both directions, with their share of all mistakes', () => {
    const { rows, columns, index } = cells(confusedPairsFrame(MATRIX, ['a', 'b', 'c'], 5));
    assert.deepEqual(columns, ['pair', 'a → b', 'b → a', 'total', '% of mistakes']);
    // 8 mistakes: b↔c 1+3 = 4, a↔b 2+0 = 2, a↔c 0+2 = 2 (ties in class order).
    assert.deepEqual(index, ['1', '2', '3']);
    assert.deepEqual(rows, [
      ['b ↔ c', 1, 3, 4, 50],
      ['a ↔ b', 2, 0, 2, 25],
      ['a ↔ c', 0, 2, 2, 25],
    ]);
  });

  it('says so when there are no mistakes', () => {
    const { rows } = cells(
      confusedPairsFrame(
        [
          [3, 0],
          [0, 4],
        ],
        ['x', 'y'],
      ),
    );
    assert.equal(rows.length, 1);
    assert.equal(rows[0][0], '(no mistakes)');
  });
});

function epoch(n: number, test?: number): EpochMetrics {
  return {
    epoch: n,
    loss: 1 / n,
    accuracy: 0.9 + n / 1000,
    valLoss: 1.1 / n,
    valAccuracy: 0.91 + n / 1000,
    ...(test === undefined ? {} : { testLoss: 1.2 / n, testAccuracy: test }),
    seconds: 5 + n / 10,
    evalSeconds: 0.5,
    samplesPerSecond: 10000 + n,
  };
}

describe('accuracyFrame', () => {
  it('puts the reference 92.3 / 97.1 / 98.2 % beside epochs 1, 5 and 10 and the difference in points', () => {
    assert.deepEqual(
      REFERENCE_ACCURACY.map((r) => [r.epoch, r.accuracy]),
      [
        [1, 0.923],
        [5, 0.971],
        [10, 0.982],
      ],
    );
    const history = Array.from({ length: 10 }, (_, i) => epoch(i + 1, 0.93 + i / 200));
    const { rows, columns, index } = cells(accuracyFrame(history));
    assert.deepEqual(columns, [
      'train acc %',
      'val acc %',
      'test acc %',
      'reference %',
      'test − ref (pp)',
      'seconds',
      'samples/s',
    ]);
    assert.equal(index[0], 'epoch 1');
    assert.equal(rows.length, 10);
    assert.deepEqual(rows[0], [90.1, 91.1, 93, 92.3, 0.7, 5.1, 10001]);
    assert.equal(rows[4][3], 97.1);
    assert.equal(rows[4][4], -2.1); // 0.95 − 0.971
    assert.equal(rows[9][3], 98.2);
    assert.equal(rows[9][4], -0.7); // 0.975 − 0.982
    for (const r of [1, 2, 3, 5, 6, 7, 8]) assert.deepEqual([rows[r][3], rows[r][4]], [null, null]);
  });

  it('leaves test and difference empty when the history has no test accuracy, and rejects an empty history', () => {
    const { rows } = cells(accuracyFrame([epoch(1)]));
    assert.deepEqual([rows[0][2], rows[0][3], rows[0][4]], [null, 92.3, null]);
    assert.throws(() => accuracyFrame([]), ConfigError);
  });
});
