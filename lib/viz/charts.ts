// Figure builders: plain plotly.js specs ({ data, layout }) for the notebooks, testable without a browser.

import { ConfigError } from '../core/errors.js';
import { formatPercent } from '../core/format.js';

/** One plotly trace. Plotly's own types are not a dependency; the fields used here are listed. */
export interface Trace {
  type: 'scatter' | 'bar' | 'heatmap';
  name?: string;
  x?: readonly (number | string)[];
  y?: readonly (number | string)[];
  z?: readonly (readonly number[])[];
  [key: string]: unknown;
}

export interface Annotation {
  x: number | string;
  y: number | string;
  text: string;
  showarrow: boolean;
  font?: { size?: number; color?: string };
  [key: string]: unknown;
}

export interface Layout {
  title: { text: string; font?: { size: number } };
  width: number;
  height: number;
  annotations?: Annotation[];
  [key: string]: unknown;
}

/** What plotly's newPlot/toImage take; JSON-serialisable. */
export interface Figure {
  data: Trace[];
  layout: Layout;
}

/** A point drawn as a labelled marker, e.g. a published accuracy to compare a curve with. */
export interface ReferencePoint {
  x: number;
  y: number;
  label?: string;
}

export interface LineSeries {
  name: string;
  y: readonly number[];
  /** Defaults to 1, 2, …, n (epochs count from 1). */
  x?: readonly number[];
  dash?: 'solid' | 'dash' | 'dot' | 'dashdot';
  color?: string;
  /** Plot against a second y axis on the right (e.g. accuracy next to loss). */
  rightAxis?: boolean;
}

export interface LineChartOptions {
  title: string;
  xLabel?: string;
  yLabel?: string;
  y2Label?: string;
  /** Values are fractions in [0, 1] shown as percentages. */
  percent?: boolean;
  yRange?: [number, number];
  references?: readonly ReferencePoint[];
  width?: number;
  height?: number;
}

export interface BarGroup {
  name: string;
  values: readonly number[];
  color?: string;
}

export interface BarChartOptions {
  title: string;
  xLabel?: string;
  yLabel?: string;
  percent?: boolean;
  /** Write each bar's value above it (readable up to ~30 bars). */
  valueLabels?: boolean;
  yRange?: [number, number];
  width?: number;
  height?: number;
}

export interface HistogramOptions {
  title: string;
  xLabel?: string;
  yLabel?: string;
  bins?: number;
  /** Defaults to the finite data's min and max. */
  range?: [number, number];
  logY?: boolean;
  width?: number;
  height?: number;
}

export interface DigitHeatmapOptions {
  title?: string;
  height?: number;
  width?: number;
  /** Write each pixel's value (0–255) in its cell. */
  annotate?: boolean;
  /** Pixel rows and columns; 28×28 for MNIST. */
  rows?: number;
  cols?: number;
}

export interface ConfusionOptions {
  title?: string;
  /** 'rowFraction' colours each cell by its share of the true class, so errors of small classes show. */
  colorBy?: 'count' | 'rowFraction';
  width?: number;
  height?: number;
}

/** Colours that stay distinguishable when printed in grey and for common colour blindness (Okabe–Ito). */
export const PALETTE = [
  '#0072B2',
  '#E69F00',
  '#009E73',
  '#D55E00',
  '#CC79A7',
  '#56B4E9',
  '#F0E442',
  '#000000',
];

const FONT = {
  family: '"Open Sans", Arial, "Liberation Sans", "DejaVu Sans", sans-serif',
  size: 14,
  color: '#222',
};

/** Ink-on-paper grayscale: 0 is white, the maximum is black, as a digit is usually drawn. */
const INK = [
  [0, '#ffffff'],
  [1, '#000000'],
] as const;

function baseLayout(title: string, width: number, height: number): Layout {
  return {
    title: { text: title, font: { size: 18 } },
    width,
    height,
    font: FONT,
    paper_bgcolor: '#ffffff',
    plot_bgcolor: '#ffffff',
    margin: { l: 70, r: 30, t: 60, b: 60 },
  };
}

function axis(
  title: string | undefined,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    title: { text: title ?? '' },
    gridcolor: '#e5e5e5',
    zerolinecolor: '#bbbbbb',
    linecolor: '#888888',
    showline: true,
    ticks: 'outside',
    automargin: true,
    ...extra,
  };
}

function requireFinite(name: string, values: ArrayLike<number>): void {
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) {
      throw new ConfigError(name, `value ${i} is ${values[i]}; expected finite numbers`);
    }
  }
}

/** Drops keys whose value is undefined (optional settings left unset), recursively through plain objects. */
function compact<T>(value: T): T {
  if (Array.isArray(value)) return value.map(compact) as T;
  if (value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => [k, compact(v)]),
    ) as T;
  }
  return value;
}

/** Learning curves and other series over epochs: one line with markers per series. */
export function lineChart(series: readonly LineSeries[], options: LineChartOptions): Figure {
  if (series.length === 0) throw new ConfigError('series', 'lineChart needs at least one series');
  const tickformat = options.percent ? '.1~%' : undefined;
  const hoverFormat = options.percent ? '%{y:.2%}' : '%{y:.4g}';
  const data: Trace[] = series.map((s, i) => {
    const x = s.x ?? s.y.map((_, k) => k + 1);
    if (x.length !== s.y.length) {
      throw new ConfigError(
        `series "${s.name}"`,
        `has ${x.length} x values but ${s.y.length} y values`,
      );
    }
    return {
      type: 'scatter',
      mode: 'lines+markers',
      name: s.name,
      x: Array.from(x),
      y: Array.from(s.y),
      yaxis: s.rightAxis ? 'y2' : 'y',
      line: { width: 2.5, dash: s.dash ?? 'solid', color: s.color ?? PALETTE[i % PALETTE.length] },
      marker: { size: 7 },
      hovertemplate: `${s.name}<br>%{x}: ${hoverFormat}<extra></extra>`,
    };
  });
  if (options.references && options.references.length > 0)
    data.push(referenceTrace(options.references, !!options.percent, maxX(series)));
  const layout = baseLayout(options.title, options.width ?? 700, options.height ?? 450);
  layout.xaxis = axis(options.xLabel ?? 'epoch', { dtick: maxX(series) <= 20 ? 1 : undefined });
  layout.yaxis = axis(options.yLabel, { tickformat, range: options.yRange });
  if (series.some((s) => s.rightAxis)) {
    layout.yaxis2 = axis(options.y2Label, { overlaying: 'y', side: 'right', showgrid: false });
  }
  layout.legend = { orientation: 'h', x: 0, y: -0.2, yanchor: 'top' };
  layout.margin = { l: 70, r: 30, t: 60, b: 100 };
  layout.hovermode = 'x unified';
  return compact({ data, layout });
}

function maxX(series: readonly LineSeries[]): number {
  return Math.max(...series.map((s) => (s.x ? Math.max(...s.x) : s.y.length)));
}

function referenceTrace(refs: readonly ReferencePoint[], percent: boolean, lastX: number): Trace {
  const fmt = (v: number) => (percent ? formatPercent(v) : `${+v.toPrecision(4)}`);
  return {
    type: 'scatter',
    mode: 'markers+text',
    name: 'reference',
    x: refs.map((r) => r.x),
    y: refs.map((r) => r.y),
    text: refs.map((r) => r.label ?? fmt(r.y)),
    // Labels point inwards so the rightmost one is not cut off at the plot edge.
    textposition: refs.map((r) => (r.x >= lastX ? 'bottom left' : 'bottom right')),
    cliponaxis: false,
    textfont: { size: 13, color: '#555' },
    marker: { symbol: 'diamond-open', size: 12, color: '#555', line: { width: 2 } },
    hovertemplate: 'reference %{text} at %{x}<extra></extra>',
  };
}

/** Grouped bars: one group per category (e.g. digit class), one bar per series (e.g. train, test). */
export function barChart(
  categories: readonly string[],
  groups: readonly BarGroup[],
  options: BarChartOptions,
): Figure {
  if (groups.length === 0)
    throw new ConfigError('groups', 'barChart needs at least one group of values');
  const data: Trace[] = groups.map((g, i) => {
    if (g.values.length !== categories.length) {
      throw new ConfigError(
        `group "${g.name}"`,
        `has ${g.values.length} values for ${categories.length} categories`,
      );
    }
    requireFinite(`group "${g.name}"`, g.values);
    const labels = g.values.map((v) => (options.percent ? formatPercent(v) : formatNumber(v)));
    return {
      type: 'bar',
      name: g.name,
      x: [...categories],
      y: Array.from(g.values),
      marker: { color: g.color ?? PALETTE[i % PALETTE.length] },
      text: options.valueLabels ? labels : undefined,
      textposition: options.valueLabels ? 'outside' : undefined,
      cliponaxis: false,
      hovertemplate: `${g.name}<br>%{x}: ${options.percent ? '%{y:.2%}' : '%{y}'}<extra></extra>`,
    };
  });
  const layout = baseLayout(options.title, options.width ?? 700, options.height ?? 450);
  layout.barmode = 'group';
  layout.xaxis = axis(options.xLabel, { type: 'category' });
  layout.yaxis = axis(options.yLabel, {
    tickformat: options.percent ? '.0%' : undefined,
    range: options.yRange,
  });
  layout.legend = { orientation: 'h', x: 1, xanchor: 'right', y: 1.02, yanchor: 'bottom' };
  return compact({ data, layout });
}

function formatNumber(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toPrecision(3);
}

export interface Bins {
  /** Left edge of each bin; bin i covers [edges[i], edges[i] + width), the last one includes max. */
  edges: number[];
  counts: number[];
  width: number;
  /** Values skipped because they were NaN, infinite or outside the range. */
  skipped: number;
}

/**
 * Counts values into equal-width bins here, in Node, so a histogram of 47 million pixels
 * sends 50 numbers to plotly instead of 47 million.
 */
export function binCounts(values: ArrayLike<number>, bins = 50, range?: [number, number]): Bins {
  if (!Number.isInteger(bins) || bins < 1)
    throw new ConfigError('bins', `${bins} is not a positive whole number`);
  const [lo, top] = range ?? finiteExtent(values);
  const hi = top > lo ? top : lo + 1;
  const width = (hi - lo) / bins;
  const counts = new Array<number>(bins).fill(0);
  let skipped = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!(v >= lo && v <= hi)) {
      skipped++;
      continue;
    }
    counts[Math.min(bins - 1, Math.floor((v - lo) / width))]++;
  }
  const edges = counts.map((_, i) => lo + i * width);
  return { edges, counts, width, skipped };
}

function finiteExtent(values: ArrayLike<number>): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (Number.isFinite(v)) {
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  }
  return lo <= hi ? [lo, hi] : [0, 1];
}

/** Histogram of one or more value sets (pixel intensities, weights), binned in Node. */
export function histogram(
  sets: ArrayLike<number> | readonly { name: string; values: ArrayLike<number> }[],
  options: HistogramOptions,
): Figure {
  const named = isNamedSets(sets) ? sets : [{ name: 'values', values: sets }];
  if (named.length === 0)
    throw new ConfigError('sets', 'histogram needs at least one set of values');
  const range = options.range ?? commonExtent(named.map((s) => s.values));
  const data: Trace[] = named.map((s, i) => {
    const b = binCounts(s.values, options.bins ?? 50, range);
    return {
      type: 'bar',
      name: s.name,
      x: b.edges.map((e) => e + b.width / 2),
      y: b.counts,
      width: b.width,
      marker: { color: PALETTE[i % PALETTE.length], line: { width: 0 } },
      opacity: named.length > 1 ? 0.6 : 1,
      hovertemplate: `${s.name}<br>%{x:.3g} ± ${+(b.width / 2).toPrecision(3)}: %{y}<extra></extra>`,
    };
  });
  const layout = baseLayout(options.title, options.width ?? 700, options.height ?? 450);
  layout.barmode = 'overlay';
  layout.bargap = 0;
  layout.showlegend = named.length > 1;
  layout.xaxis = axis(options.xLabel ?? 'value');
  layout.yaxis = axis(options.yLabel ?? 'count', options.logY ? { type: 'log' } : {});
  return compact({ data, layout });
}

function isNamedSets(
  sets: ArrayLike<number> | readonly { name: string; values: ArrayLike<number> }[],
): sets is readonly { name: string; values: ArrayLike<number> }[] {
  return Array.isArray(sets) && sets.length > 0 && typeof sets[0] === 'object';
}

function commonExtent(sets: ArrayLike<number>[]): [number, number] {
  const extents = sets.map(finiteExtent);
  return [Math.min(...extents.map((e) => e[0])), Math.max(...extents.map((e) => e[1]))];
}

/** Rows of a row-major matrix. */
function toRows(values: ArrayLike<number>, rows: number, cols: number): number[][] {
  if (values.length !== rows * cols) {
    throw new ConfigError(
      'pixels',
      `got ${values.length} values; expected ${rows}×${cols} = ${rows * cols}`,
    );
  }
  return Array.from({ length: rows }, (_, r) =>
    Array.from({ length: cols }, (_, c) => values[r * cols + c]),
  );
}

/**
 * One annotation per cell, in a colour that contrasts with the cell: white text on dark cells.
 * `shade` is the cell's darkness in [0, 1].
 */
function cellAnnotations(
  z: number[][],
  xs: readonly (number | string)[],
  ys: readonly (number | string)[],
  text: (v: number, r: number, c: number) => string,
  shade: (v: number, r: number, c: number) => number,
  size: number,
): Annotation[] {
  const out: Annotation[] = [];
  z.forEach((row, r) =>
    row.forEach((v, c) =>
      out.push({
        x: xs[c],
        y: ys[r],
        text: text(v, r, c),
        showarrow: false,
        font: { size, color: shade(v, r, c) > 0.5 ? '#ffffff' : '#000000' },
      }),
    ),
  );
  return out;
}

/**
 * A digit as a grayscale heatmap, ink dark on white, row 0 at the top, square pixels.
 * Pixels may be 0–1 floats or 0–255 integers; annotations show 0–255.
 */
export function digitHeatmap(pixels: ArrayLike<number>, options: DigitHeatmapOptions = {}): Figure {
  const rows = options.rows ?? 28;
  const cols = options.cols ?? 28;
  requireFinite('pixels', pixels);
  const z = toRows(pixels, rows, cols);
  const max = Math.max(...z.flat());
  const scale = max > 1 ? 255 : 1;
  const xs = Array.from({ length: cols }, (_, i) => i);
  const ys = Array.from({ length: rows }, (_, i) => i);
  const size = options.width ?? (options.annotate ? 900 : 450);
  const layout = baseLayout(options.title ?? 'digit', size, options.height ?? size);
  layout.xaxis = {
    title: { text: 'column' },
    constrain: 'domain',
    showgrid: false,
    zeroline: false,
    ticks: 'outside',
  };
  layout.yaxis = {
    title: { text: 'row' },
    autorange: 'reversed',
    scaleanchor: 'x',
    constrain: 'domain',
    showgrid: false,
    zeroline: false,
    ticks: 'outside',
  };
  const trace: Trace = {
    type: 'heatmap',
    x: xs,
    y: ys,
    z,
    zmin: 0,
    zmax: scale,
    colorscale: INK,
    showscale: !options.annotate,
    hovertemplate: 'row %{y}, column %{x}: %{z}<extra></extra>',
  };
  if (options.annotate) {
    // Heatmap text (not 784 layout annotations): plotly draws it 10× faster and picks a contrasting colour.
    trace.text = z.map((row) =>
      row.map((v) => (v === 0 ? '' : String(Math.round((v / scale) * 255)))),
    );
    trace.texttemplate = '%{text}';
    trace.textfont = { size: Math.max(6, Math.floor(size / 110)) };
  }
  return compact({ data: [trace], layout });
}

/**
 * A confusion matrix: rows are true classes, columns predicted ones, each cell annotated with its count.
 * `matrix` is n×n nested arrays or a row-major flat array of n² counts.
 */
export function confusionMatrixHeatmap(
  matrix: ArrayLike<number> | readonly (readonly number[])[],
  classNames: readonly string[],
  options: ConfusionOptions = {},
): Figure {
  const n = classNames.length;
  const counts = isNested(matrix) ? matrix.map((row) => Array.from(row)) : toRows(matrix, n, n);
  if (counts.length !== n || counts.some((row) => row.length !== n)) {
    throw new ConfigError('matrix', `expected a ${n}×${n} confusion matrix for ${n} class names`);
  }
  requireFinite('matrix', counts.flat());
  const rowSums = counts.map((row) => row.reduce((a, b) => a + b, 0));
  const colorBy = options.colorBy ?? 'rowFraction';
  const fraction = counts.map((row, r) => row.map((v) => (rowSums[r] > 0 ? v / rowSums[r] : 0)));
  const maxCount = Math.max(1, ...counts.flat());
  const z = colorBy === 'count' ? counts : fraction;
  const zmax = colorBy === 'count' ? maxCount : 1;
  // Ties between identical class names would merge categories; plotly needs distinct labels.
  const labels = classNames.map((c, i) => (classNames.indexOf(c) === i ? c : `${c} (${i})`));
  const size = options.width ?? 650;
  const layout = baseLayout(options.title ?? 'Confusion matrix', size, options.height ?? size - 50);
  layout.xaxis = {
    title: { text: 'predicted' },
    type: 'category',
    side: 'bottom',
    ticks: '',
    constrain: 'domain',
  };
  layout.yaxis = {
    title: { text: 'true' },
    type: 'category',
    autorange: 'reversed',
    ticks: '',
    scaleanchor: 'x',
    constrain: 'domain',
  };
  layout.annotations = cellAnnotations(
    counts,
    labels,
    labels,
    (v) => String(v),
    (_v, r, c) => z[r][c] / zmax,
    n <= 10 ? 13 : 10,
  );
  const trace: Trace = {
    type: 'heatmap',
    x: labels,
    y: labels,
    z,
    zmin: 0,
    zmax,
    colorscale: [
      [0, '#ffffff'],
      [0.02, '#eef4fb'],
      [0.2, '#9ecae1'],
      [1, '#08306b'],
    ],
    colorbar: {
      title: { text: colorBy === 'count' ? 'count' : 'share of<br>true class' },
      tickformat: colorBy === 'count' ? '' : '.0%',
    },
    customdata: counts,
    hovertemplate: 'true %{y}, predicted %{x}: %{customdata}<extra></extra>',
    xgap: 1,
    ygap: 1,
  };
  return compact({ data: [trace], layout });
}

function isNested(
  m: ArrayLike<number> | readonly (readonly number[])[],
): m is readonly (readonly number[])[] {
  return Array.isArray(m) && m.length > 0 && Array.isArray(m[0]);
}

/** The figure's title text, or undefined. */
export function figureTitle(fig: Figure): string | undefined {
  const t = fig.layout.title?.text;
  return t && t.trim() !== '' ? t : undefined;
}
