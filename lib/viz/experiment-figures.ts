// Figures comparing experiments: learning curves, per-batch values and gradient norms, baseline first.
import { ConfigError } from '../core/errors.js';
import type { ExperimentResult } from '../ml/experiment.js';
import { PALETTE, lineChart, type Figure, type LineSeries } from './charts.js';

// Black is the baseline's; the other seven colours cycle, with a new dash style on each round.
const VARIANT_COLORS = PALETTE.filter((c) => c !== '#000000');
const VARIANT_DASHES = ['solid', 'dot', 'dashdot'] as const;

/** Line style of the i-th result in a comparison: the first (the baseline) black and dashed, the others distinct. */
function variantStyle(i: number): Pick<LineSeries, 'dash' | 'color'> {
  if (i === 0) return { dash: 'dash', color: '#000000' };
  const k = i - 1;
  return {
    color: VARIANT_COLORS[k % VARIANT_COLORS.length],
    dash: VARIANT_DASHES[Math.floor(k / VARIANT_COLORS.length) % VARIANT_DASHES.length],
  };
}

export type CurveMetric = 'valAccuracy' | 'accuracy' | 'loss' | 'valLoss';

const METRIC_LABELS: Record<CurveMetric, string> = {
  valAccuracy: 'validation accuracy',
  accuracy: 'training accuracy',
  loss: 'training loss',
  valLoss: 'validation loss',
};

/** Learning curves of several experiments on one chart, the baseline (first result) drawn dashed in black. */
export function compareCurves(
  results: readonly ExperimentResult[],
  metric: CurveMetric,
  title: string,
  options: { logY?: boolean } = {},
): Figure {
  const series: LineSeries[] = results.map((r, i) => ({
    name: r.name + (r.stop ? ` (stopped: ${r.stop.reason})` : ''),
    x: r.history.map((m) => m.epoch),
    y: r.history.map((m) => m[metric] ?? NaN),
    ...variantStyle(i),
  }));
  const fig = lineChart(series, {
    title,
    yLabel: METRIC_LABELS[metric],
    percent: metric.toLowerCase().includes('accuracy'),
  });
  legendRight(fig);
  if (options.logY) setLogY(fig);
  return fig;
}

/** Training accuracy (solid) against validation accuracy (dotted) per epoch, one colour per experiment: the gap is overfitting. */
export function trainVsValidation(results: readonly ExperimentResult[], title: string): Figure {
  const series: LineSeries[] = results.flatMap((r, i) => {
    const x = r.history.map((m) => m.epoch);
    const color = PALETTE[i % PALETTE.length];
    return [
      { name: `${r.name}: training`, x, y: r.history.map((m) => m.accuracy), color },
      {
        name: `${r.name}: validation`,
        x,
        y: r.history.map((m) => m.valAccuracy ?? NaN),
        color,
        dash: 'dot' as const,
      },
    ];
  });
  const fig = lineChart(series, { title, yLabel: 'accuracy', percent: true });
  legendRight(fig);
  return fig;
}

/** Per-batch values (e.g. batchLoss) of several experiments against the update step, optionally only the first `steps`. */
export function compareBatches(
  results: readonly ExperimentResult[],
  which: 'batchLoss' | 'batchAccuracy',
  title: string,
  options: { steps?: number; logY?: boolean } = {},
): Figure {
  const series: LineSeries[] = results.map((r, i) => {
    const values = options.steps ? r[which].slice(0, options.steps) : r[which];
    return {
      name: r.name + (r.stop ? ` (stopped: ${r.stop.reason})` : ''),
      x: values.map((_, k) => k + 1),
      y: values,
      ...variantStyle(i),
    };
  });
  const fig = lineChart(series, {
    title,
    xLabel: 'update step (batch)',
    yLabel: which === 'batchLoss' ? 'training loss per batch' : 'training accuracy per batch',
    percent: which === 'batchAccuracy',
  });
  for (const t of fig.data) t.mode = 'lines';
  if (options.logY) setLogY(fig);
  return fig;
}

/**
 * Gradient norm per layer against the update step, one colour per experiment and one dash style per
 * layer, on a log axis (zero gradients cannot be drawn on it: they are left out, so say so in the text).
 */
export function gradientNormFigure(results: readonly ExperimentResult[], title: string): Figure {
  const dashes = ['solid', 'dash', 'dot', 'dashdot'] as const;
  const series: LineSeries[] = [];
  results.forEach((r, i) => {
    const layers = r.gradientNorms[0]?.norms.length ?? 0;
    for (let l = 0; l < layers; l++) {
      series.push({
        name: `${r.name}: layer ${l + 1}`,
        x: r.gradientNorms.map((g) => g.step),
        y: r.gradientNorms.map((g) => (g.norms[l] > 0 ? g.norms[l] : NaN)),
        dash: dashes[l % dashes.length],
        color: PALETTE[i % PALETTE.length],
      });
    }
  });
  if (series.length === 0)
    throw new ConfigError('results', 'no experiment recorded gradient norms (pass gradientProbe)');
  const fig = lineChart(series, {
    title,
    xLabel: 'update step (batch)',
    yLabel: '‖∂loss/∂W‖ per layer (log scale)',
  });
  legendRight(fig);
  setLogY(fig);
  return fig;
}

/** Many series: a legend in a column on the right, where it cannot run into the x-axis title. */
function legendRight(fig: Figure): void {
  if (fig.data.length <= 4) return;
  fig.layout.width += 260;
  fig.layout.legend = { orientation: 'v', x: 1.02, xanchor: 'left', y: 1, yanchor: 'top' };
  fig.layout.margin = { l: 70, r: 30, t: 60, b: 60 };
}

function setLogY(fig: Figure): void {
  // exponentformat 'power' writes 10⁻⁶ where plotly's default would write "1µ".
  fig.layout.yaxis = {
    ...(fig.layout.yaxis as Record<string, unknown>),
    type: 'log',
    tickformat: undefined,
    exponentformat: 'power',
  };
  // Points that cannot be drawn (NaN, ≤ 0) leave gaps instead of joining across them.
  for (const t of fig.data) t.connectgaps = false;
}
