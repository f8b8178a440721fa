// Notebook figures built from kit results: learning curves, class balance, confusion heatmap, per-class scores, histograms.
import type { Dataset } from '../data/types.js';
import { ConfigError } from '../core/errors.js';
import { formatPercent } from '../core/format.js';
import { confusionMatrix, type ClassScores, type Predictions } from '../ml/evaluate.js';
import {
  barChart,
  confusionMatrixHeatmap,
  histogram,
  lineChart,
  PALETTE,
  type Figure,
  type LineSeries,
} from './charts.js';
import { classCounts } from '../data/class-counts.js';
import { REFERENCE_ACCURACY } from '../ml/model.js';
import type { EpochMetrics } from '../ml/train.js';

/** Train solid, validation dashed, test dotted: the same colours and dashes in every curve figure. */
const SPLIT_STYLE = {
  train: { color: PALETTE[0], dash: 'solid' },
  validation: { color: PALETTE[1], dash: 'dash' },
  test: { color: PALETTE[2], dash: 'dot' },
} as const;

function requireHistory(history: readonly EpochMetrics[]): void {
  if (history.length === 0)
    throw new ConfigError('history', 'no epochs to plot: the training history is empty');
}

/** The series for one metric; validation and test only when every epoch has them. */
function splitSeries(
  history: readonly EpochMetrics[],
  pick: { train: keyof EpochMetrics; validation: keyof EpochMetrics; test: keyof EpochMetrics },
): LineSeries[] {
  const x = history.map((m) => m.epoch);
  const out: LineSeries[] = [];
  for (const split of ['train', 'validation', 'test'] as const) {
    const values = history.map((m) => m[pick[split]]);
    if (values.every((v) => typeof v === 'number'))
      out.push({ name: split, x, y: values as number[], ...SPLIT_STYLE[split] });
  }
  return out;
}

/** Loss per epoch for train (mean over the epoch's batches, dropout on), validation and test. */
export function lossCurves(history: readonly EpochMetrics[], title = 'Loss per epoch'): Figure {
  requireHistory(history);
  return lineChart(
    splitSeries(history, { train: 'loss', validation: 'valLoss', test: 'testLoss' }),
    { title, yLabel: 'cross-entropy loss' },
  );
}

/** Accuracy per epoch for train, validation and test, with the reference test accuracies as markers. */
export function accuracyCurves(
  history: readonly EpochMetrics[],
  reference = REFERENCE_ACCURACY,
  title = 'Accuracy per epoch',
): Figure {
  requireHistory(history);
  const last = history[history.length - 1].epoch;
  const refs = reference.filter((r) => r.epoch <= last).map((r) => ({ x: r.epoch, y: r.accuracy }));
  return lineChart(
    splitSeries(history, { train: 'accuracy', validation: 'valAccuracy', test: 'testAccuracy' }),
    {
      title,
      yLabel: 'accuracy',
      percent: true,
      references: refs,
    },
  );
}

/** Each class's share of the training and of the test split, side by side (shares, since the splits differ in size). */
export function classBalanceChart(
  data: Pick<Dataset, 'classNames' | 'train' | 'test'>,
  title = 'Class balance: share of each digit',
): Figure {
  const k = data.classNames.length;
  const share = (labels: Int32Array, n: number) =>
    classCounts(labels, k).map((c) => c / Math.max(1, n));
  return barChart(
    data.classNames,
    [
      {
        name: `train (${data.train.count.toLocaleString('en-US')})`,
        values: share(data.train.labels, data.train.count),
      },
      {
        name: `test (${data.test.count.toLocaleString('en-US')})`,
        values: share(data.test.labels, data.test.count),
      },
    ],
    { title, xLabel: 'digit', yLabel: 'share of split', percent: true },
  );
}

/**
 * Pixel intensities as stored in the files (0–255) or after dividing by 255 (0–1); log counts, because
 * most pixels are background zeros and would flatten everything else.
 */
export function pixelHistogram(images: Float32Array, scale: 1 | 255, title?: string): Figure {
  const values = scale === 1 ? images : images.map((v) => Math.round(v * 255));
  return histogram(values, {
    title:
      title ??
      (scale === 1
        ? 'Pixel values after /255 (what the network sees)'
        : 'Pixel values as stored (0–255)'),
    xLabel:
      scale === 1
        ? 'intensity (0 = background, 1 = full ink)'
        : 'intensity (0 = background, 255 = full ink)',
    yLabel: 'pixels (log scale)',
    // 64 bins over 256 levels: every bin holds exactly 4 of the integer levels 0…255, so no bin looks taller by rounding.
    bins: 64,
    range: scale === 1 ? [0, 256 / 255] : [0, 256],
    logY: true,
  });
}

/** The confusion matrix of a set of predictions, counts written in the cells, coloured by share of the true class. */
export function confusionFigure(
  p: Pick<Predictions, 'labels' | 'predicted' | 'numClasses' | 'accuracy'>,
  classNames: readonly string[],
  title?: string,
): Figure {
  const matrix = confusionMatrix(p);
  return confusionMatrixHeatmap(matrix, classNames, {
    title: title ?? `Confusion matrix (test accuracy ${formatPercent(p.accuracy, 2)})`,
  });
}

/** Precision, recall and F1 per class as grouped bars; the y axis starts near the lowest score so differences show. */
export function perClassChart(scores: readonly ClassScores[], title = 'Scores per digit'): Figure {
  if (scores.length === 0) throw new ConfigError('scores', 'no classes to plot');
  const all = scores.flatMap((s) => [s.precision, s.recall, s.f1]);
  const low = Math.max(0, Math.floor((Math.min(...all) - 0.02) * 50) / 50);
  return barChart(
    scores.map((s) => s.label),
    [
      { name: 'precision', values: scores.map((s) => s.precision) },
      { name: 'recall', values: scores.map((s) => s.recall) },
      { name: 'F1', values: scores.map((s) => s.f1) },
    ],
    { title, xLabel: 'digit', yLabel: 'score', percent: true, yRange: [low, 1] },
  );
}

/** Histogram of a layer's weights (e.g. the 200,704 weights of the first layer at initialisation). */
export function weightHistogram(weights: ArrayLike<number>, title: string): Figure {
  return histogram(weights, { title, xLabel: 'weight value', yLabel: 'weights', bins: 60 });
}

/** The probabilities a model gives a few digits, one group of bars per digit: shows a near-uniform guess at a glance. */
export function probabilityChart(
  p: Pick<Predictions, 'probabilities' | 'numClasses' | 'labels'>,
  indices: readonly number[],
  classNames: readonly string[],
  title = 'Predicted probabilities',
): Figure {
  const k = p.numClasses;
  const groups = indices.map((i) => ({
    name: `test digit #${i} (a ${classNames[p.labels[i]]})`,
    values: Array.from(p.probabilities.subarray(i * k, (i + 1) * k)),
  }));
  return barChart(classNames, groups, {
    title,
    xLabel: 'class',
    yLabel: 'probability',
    percent: true,
  });
}
