// Tables for the notebooks as danfo DataFrames: class balance, layers, per-class scores, confused pairs, accuracy per epoch.
import { createRequire } from 'node:module';
import type { DataFrame } from 'danfojs-node';
import type { Dataset } from '../data/types.js';
import { ConfigError } from '../core/errors.js';
import { classCounts } from '../data/class-counts.js';
import { mostConfusedPairs, perClassScores } from '../ml/evaluate.js';
import { REFERENCE_ACCURACY, type LayerSummary } from '../ml/model.js';
import type { EpochMetrics } from '../ml/train.js';

type Danfo = typeof import('danfojs-node');
let danfoModule: Danfo | undefined;

/** danfo is loaded on first use, so importing the kit stays fast for code that makes no tables. */
function danfo(): Danfo {
  danfoModule ??= createRequire(import.meta.url)('danfojs-node') as Danfo;
  return danfoModule;
}

/** A DataFrame from row objects, columns in the order of the first row, rows labelled by `index`. */
function frame(rows: Record<string, number | string | null>[], index?: string[]): DataFrame {
  if (rows.length === 0) throw new ConfigError('rows', 'a table needs at least one row');
  return new (danfo().DataFrame)(rows, {
    columns: Object.keys(rows[0]),
    ...(index ? { index } : {}),
  });
}

/** Percent with two decimals as a number (97.123… → 97.12), so tables show "97.12" under a "… %" header. */
function percent(fraction: number): number {
  return Math.round(fraction * 10000) / 100;
}

/** Per class: train and test counts and each class's share of its split (%), one row per class plus a total row. */
export function classBalanceFrame(data: Pick<Dataset, 'classNames' | 'train' | 'test'>): DataFrame {
  const k = data.classNames.length;
  const train = classCounts(data.train.labels, k);
  const test = classCounts(data.test.labels, k);
  const rows = data.classNames.map((_, c) => ({
    train: train[c],
    'train %': percent(train[c] / Math.max(1, data.train.count)),
    test: test[c],
    'test %': percent(test[c] / Math.max(1, data.test.count)),
  }));
  rows.push({ train: data.train.count, 'train %': 100, test: data.test.count, 'test %': 100 });
  return frame(rows, [...data.classNames, 'total']);
}

/** The model summary as a table: one row per layer, then the total. */
export function layerFrame(summary: {
  layers: readonly LayerSummary[];
  totalParams: number;
}): DataFrame {
  const rows: Record<string, string | number>[] = summary.layers.map((l) => ({
    layer: l.name,
    type: l.type,
    'output shape': l.outputShape,
    parameters: l.params,
  }));
  rows.push({ layer: 'total', type: '', 'output shape': '', parameters: summary.totalParams });
  return frame(rows);
}

/** Precision, recall, F1 (in %) and support per class, from a confusion matrix (rows true, columns predicted). */
export function perClassFrame(matrix: number[][], classNames: readonly string[]): DataFrame {
  const scores = perClassScores(matrix, classNames);
  const rows = scores.map((s, c) => ({
    'precision %': percent(s.precision),
    'recall %': percent(s.recall),
    'F1 %': percent(s.f1),
    support: s.support,
    missed: s.support - matrix[c][c],
  }));
  return frame(
    rows,
    scores.map((s) => s.label),
  );
}

/** The `top` most confused pairs, both directions, and their share of all mistakes. */
export function confusedPairsFrame(
  matrix: number[][],
  classNames: readonly string[],
  top = 10,
): DataFrame {
  const errors = matrix.reduce(
    (sum, row, r) => sum + row.reduce((s, v, c) => s + (c === r ? 0 : v), 0),
    0,
  );
  const pairs = mostConfusedPairs(matrix, top);
  if (pairs.length === 0)
    return frame([{ pair: '(no mistakes)', 'a → b': 0, 'b → a': 0, total: 0, '% of mistakes': 0 }]);
  const name = (c: number) => classNames[c] ?? String(c);
  const rows = pairs.map((p) => ({
    pair: `${name(p.a)} ↔ ${name(p.b)}`,
    'a → b': p.aAsB,
    'b → a': p.bAsA,
    total: p.total,
    '% of mistakes': percent(p.total / Math.max(1, errors)),
  }));
  return frame(
    rows,
    pairs.map((_, i) => String(i + 1)),
  );
}

/**
 * One row per epoch: accuracies in %, the reference test accuracy where one exists and how far the
 * run's test accuracy is from it (percentage points), and the time the epoch took.
 */
export function accuracyFrame(
  history: readonly EpochMetrics[],
  reference = REFERENCE_ACCURACY,
): DataFrame {
  if (history.length === 0)
    throw new ConfigError('history', 'no epochs to tabulate: the training history is empty');
  const opt = (v: number | undefined) => (v === undefined ? null : percent(v));
  const rows = history.map((m) => {
    const ref = reference.find((r) => r.epoch === m.epoch);
    const diff =
      ref && m.testAccuracy !== undefined
        ? Math.round((m.testAccuracy - ref.accuracy) * 10000) / 100
        : null;
    return {
      'train acc %': percent(m.accuracy),
      'val acc %': opt(m.valAccuracy),
      'test acc %': opt(m.testAccuracy),
      'reference %': ref ? percent(ref.accuracy) : null,
      'test − ref (pp)': diff,
      seconds: Math.round(m.seconds * 10) / 10,
      'samples/s': Math.round(m.samplesPerSecond),
    };
  });
  return frame(
    rows,
    history.map((m) => `epoch ${m.epoch}`),
  );
}
