// Tables for notebooks and terminals: a danfo DataFrame/Series or plain row objects as styled HTML or aligned text.

import type { DataFrame, Series } from 'danfojs-node';
import { ConfigError } from '../core/errors.js';
import { escapeHtml } from '../core/html.js';

export type Row = Readonly<Record<string, unknown>>;

/**
 * What the formatters read from a DataFrame or Series: danfo's own objects match this shape, so
 * this module never has to load danfo (and TensorFlow.js) itself.
 */
export interface DataFrameLike {
  readonly columns: readonly string[];
  readonly index: readonly (string | number)[];
  readonly values: readonly unknown[];
}

export type TableInput = DataFrame | Series | DataFrameLike | readonly Row[];

export interface TableOptions {
  caption?: string;
  /** Decimals for columns holding non-integers (integer columns show none). Per column by name, or one for all. Default 3. */
  digits?: number | Readonly<Record<string, number>>;
  /** Mark the largest value of numeric columns: all of them (true) or the named ones. */
  highlightMax?: boolean | readonly string[];
  /** Show the index as the first column. Default: yes for DataFrames, no for arrays of rows. */
  index?: boolean;
  /** Longer tables show their first and last maxRows/2 rows. Default 60. */
  maxRows?: number;
}

interface Column {
  name: string;
  numeric: boolean;
  decimals: number;
  /** Row position (in the full table) of the highlighted maximum, if any. */
  maxRow?: number;
}

interface TableModel {
  caption?: string;
  showIndex: boolean;
  columns: Column[];
  /** Rows as shown: [index text, cell texts]; `undefined` marks the gap of omitted rows. */
  rows: ({ index: string; cells: string[]; position: number } | undefined)[];
  omitted: number;
  totalRows: number;
}

function isRowArray(data: TableInput): data is readonly Row[] {
  return Array.isArray(data);
}

function isFrameLike(data: unknown): data is DataFrameLike {
  const d = data as Partial<DataFrameLike> | null;
  return !!d && Array.isArray(d.columns) && Array.isArray(d.index) && Array.isArray(d.values);
}

/** Columns in first-seen order across all rows, so rows with missing keys still line up. */
function rowColumns(rows: readonly Row[]): string[] {
  const seen = new Set<string>();
  for (const row of rows) for (const key of Object.keys(row)) seen.add(key);
  return [...seen];
}

/** The table as header names, index labels and a grid of raw values. */
function toGrid(data: TableInput): {
  names: string[];
  index: string[];
  grid: unknown[][];
  frame: boolean;
} {
  if (isRowArray(data)) {
    const names = rowColumns(data);
    return {
      names,
      index: data.map((_, i) => String(i)),
      grid: data.map((r) => names.map((n) => r[n])),
      frame: false,
    };
  }
  if (!isFrameLike(data)) {
    throw new ConfigError(
      'table',
      'expected a danfo DataFrame or Series, or an array of row objects',
    );
  }
  const values = data.values;
  const oneDimensional = values.length > 0 && !Array.isArray(values[0]);
  const grid = oneDimensional ? values.map((v) => [v]) : (values as unknown[][]).map((r) => [...r]);
  const names = [...data.columns].map(String);
  if (grid.length > 0 && grid[0].length !== names.length) {
    throw new ConfigError(
      'table',
      `the frame has ${names.length} column names but ${grid[0].length} values per row`,
    );
  }
  return { names, index: data.index.map(String), grid, frame: true };
}

function isNumber(v: unknown): v is number {
  return typeof v === 'number';
}

function columnsOf(names: string[], grid: unknown[][], options: TableOptions): Column[] {
  const digitsFor = (name: string): number => {
    const d = options.digits;
    const value = typeof d === 'number' ? d : (d?.[name] ?? 3);
    if (!Number.isInteger(value) || value < 0 || value > 20) {
      throw new ConfigError(
        'digits',
        `${value} for column "${name}" is not a whole number from 0 to 20`,
      );
    }
    return value;
  };
  return names.map((name, c) => {
    const present = grid.map((row) => row[c]).filter((v) => v !== null && v !== undefined);
    const numeric = present.length > 0 && present.every(isNumber);
    const integers = numeric && present.every((v) => !Number.isFinite(v) || Number.isInteger(v));
    const column: Column = { name, numeric, decimals: integers ? 0 : digitsFor(name) };
    if (numeric && wantsHighlight(options.highlightMax, name)) column.maxRow = argMax(grid, c);
    return column;
  });
}

function wantsHighlight(h: TableOptions['highlightMax'], name: string): boolean {
  return h === true || (Array.isArray(h) && h.includes(name));
}

function argMax(grid: unknown[][], c: number): number | undefined {
  let best: number | undefined;
  grid.forEach((row, r) => {
    const v = row[c];
    if (isNumber(v) && !Number.isNaN(v) && (best === undefined || v > (grid[best][c] as number)))
      best = r;
  });
  return best;
}

/** One cell as text: fixed decimals for numbers, blank for missing values. */
export function formatCell(value: unknown, decimals: number): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') {
    if (Number.isNaN(value)) return 'NaN';
    if (!Number.isFinite(value)) return value > 0 ? '∞' : '-∞';
    const text = value.toFixed(decimals);
    // toFixed(0) of -0.2 is "-0": a minus sign on a zero only confuses.
    return /^-0(\.0*)?$/.test(text) ? text.slice(1) : text;
  }
  if (typeof value === 'string') return value;
  if (typeof value === 'bigint' || typeof value === 'boolean') return String(value);
  if (value instanceof Date) return value.toISOString();
  return JSON.stringify(value) ?? String(value);
}

function buildModel(data: TableInput, options: TableOptions): TableModel {
  const { names, index, grid, frame } = toGrid(data);
  const columns = columnsOf(names, grid, options);
  const maxRows = options.maxRows ?? 60;
  if (!Number.isInteger(maxRows) || maxRows < 2) {
    throw new ConfigError('maxRows', `${maxRows} is not a whole number of at least 2`);
  }
  const shown =
    grid.length > maxRows
      ? [...range(0, maxRows / 2), -1, ...range(grid.length - maxRows / 2, grid.length)]
      : range(0, grid.length);
  const rows = shown.map((r) =>
    r < 0
      ? undefined
      : {
          index: index[r],
          cells: grid[r].map((v, c) => formatCell(v, columns[c].decimals)),
          position: r,
        },
  );
  return {
    caption: options.caption,
    showIndex: options.index ?? frame,
    columns,
    rows,
    omitted: Math.max(0, grid.length - maxRows),
    totalRows: grid.length,
  };
}

function range(from: number, to: number): number[] {
  const a = Math.floor(from);
  return Array.from({ length: Math.max(0, Math.floor(to) - a) }, (_, i) => a + i);
}

// Inline styles, not a <style> block: JupyterLab, Notebook, VS Code and GitHub keep style attributes
// (GitHub and untrusted notebooks drop <style> elements), and they beat the notebook's own table CSS.
const CSS = {
  table:
    'border-collapse:collapse;margin:6px 0;font-size:13px;font-variant-numeric:tabular-nums;color:#222;background:#fff',
  caption: 'caption-side:top;text-align:left;font-weight:bold;padding:0 0 6px 0;color:#222',
  th: 'padding:4px 12px;border-bottom:2px solid #555;font-weight:bold;white-space:nowrap;background:#fff;color:#222',
  td: 'padding:3px 12px;border-bottom:1px solid #e2e2e2;white-space:nowrap;background:#fff;color:#222',
  index:
    'padding:3px 12px;border-bottom:1px solid #e2e2e2;text-align:left;font-weight:bold;color:#555;background:#fff',
  max: 'font-weight:bold;background:#dff0d8',
  gap: 'padding:3px 12px;text-align:center;color:#777;font-style:italic;background:#fff',
};

/** A danfo DataFrame/Series or rows as an HTML <table> with inline styles that survive Jupyter and GitHub. */
export function dataFrameToHtml(data: TableInput, options: TableOptions = {}): string {
  const m = buildModel(data, options);
  const align = (c: Column) => `text-align:${c.numeric ? 'right' : 'left'}`;
  const head =
    (m.showIndex ? `<th style="${CSS.th}"></th>` : '') +
    m.columns
      .map((c) => `<th scope="col" style="${CSS.th};${align(c)}">${escapeHtml(c.name)}</th>`)
      .join('');
  const width = m.columns.length + (m.showIndex ? 1 : 0);
  const body = m.rows.map((row) => {
    if (!row)
      return `<tr><td colspan="${width}" style="${CSS.gap}">… ${m.omitted} more rows …</td></tr>`;
    const index = m.showIndex
      ? `<th scope="row" style="${CSS.index}">${escapeHtml(row.index)}</th>`
      : '';
    const cells = row.cells
      .map((text, c) => {
        const col = m.columns[c];
        const style = `${CSS.td};${align(col)}${col.maxRow === row.position ? `;${CSS.max}` : ''}`;
        return `<td style="${style}">${escapeHtml(text)}</td>`;
      })
      .join('');
    return `<tr>${index}${cells}</tr>`;
  });
  const caption = m.caption
    ? `<caption style="${CSS.caption}">${escapeHtml(m.caption)}</caption>`
    : '';
  return (
    `<table class="mnist-nb-table" style="${CSS.table}">${caption}` +
    `<thead><tr>${head}</tr></thead><tbody>${body.join('')}</tbody></table>`
  );
}

/** The same table as plain aligned columns for a terminal: numbers right-aligned, text left-aligned. */
export function dataFrameToText(data: TableInput, options: TableOptions = {}): string {
  const m = buildModel(data, options);
  const header = [...(m.showIndex ? [''] : []), ...m.columns.map((c) => c.name)];
  const right = [...(m.showIndex ? [false] : []), ...m.columns.map((c) => c.numeric)];
  const lines: (string[] | undefined)[] = m.rows.map((row) =>
    row
      ? [
          ...(m.showIndex ? [row.index] : []),
          ...row.cells.map((t, c) => (m.columns[c].maxRow === row.position ? `${t}*` : t)),
        ]
      : undefined,
  );
  const widths = header.map((h, c) =>
    Math.max(h.length, ...lines.map((l) => (l ? l[c].length : 0))),
  );
  const fmt = (cells: string[]) =>
    cells
      .map((t, c) => (right[c] ? t.padStart(widths[c]) : t.padEnd(widths[c])))
      .join('  ')
      .trimEnd();
  const out: string[] = [];
  if (m.caption) out.push(m.caption);
  out.push(fmt(header), widths.map((w) => '-'.repeat(w)).join('  '));
  for (const l of lines) out.push(l ? fmt(l) : `… ${m.omitted} more rows …`);
  if (m.columns.some((c) => c.maxRow !== undefined))
    out.push('(* marks the largest value of a column)');
  return out.join('\n');
}
