// Tests for lib/viz/tables.ts: danfo DataFrames, Series and row arrays as escaped, aligned HTML and text tables.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as dfd from 'danfojs-node';
import { ConfigError } from '../../lib/core/errors.js';
import { dataFrameToHtml, dataFrameToText, formatCell } from '../../lib/viz/tables.js';
import { firstDigits } from '../support/figures-fixtures.js';

/** Per-class statistics of the first 3000 real training digits. */
function classStats(): { digit: string; count: number; share: number; meanInk: number }[] {
  const n = 3000;
  const { images, labels } = firstDigits(n);
  return Array.from({ length: 10 }, (_, c) => {
    let count = 0;
    let ink = 0;
    for (let i = 0; i < n; i++) {
      if (labels[i] !== c) continue;
      count++;
      for (let p = 0; p < 784; p++) ink += images[i * 784 + p];
    }
    return { digit: `<${c}>`, count, share: count / n, meanInk: ink / count / 784 };
  });
}

const count = (html: string, re: RegExp) => html.match(re)?.length ?? 0;

describe('dataFrameToHtml', () => {
  const stats = classStats();
  const df = new dfd.DataFrame(stats);

  test('a danfo DataFrame: header, index column and one row per class', () => {
    const html = dataFrameToHtml(df, { caption: 'Classes', digits: 3 });
    assert.equal(count(html, /<tr>/g), 11, 'header + 10 rows');
    assert.equal(count(html, /<th scope="col"/g), 4);
    assert.equal(count(html, /<th scope="row"/g), 10, 'index column');
    assert.match(html, /<caption[^>]*>Classes<\/caption>/);
    assert.equal(count(html, /<td /g), 40);
  });

  test('escapes text and formats numbers with fixed decimals, integers without', () => {
    const html = dataFrameToHtml(df, { digits: { share: 2, meanInk: 4 } });
    assert.ok(!html.includes('<0>'), 'a "<0>" label must not become a tag');
    assert.ok(html.includes('&#60;0&#62;'));
    const row0 = stats[0];
    assert.ok(html.includes(`>${row0.count}</td>`), `integer count ${row0.count} without decimals`);
    assert.ok(html.includes(`>${row0.share.toFixed(2)}</td>`));
    // danfo stores floats as float32; 4 decimals of the float32 value match 4 decimals of the float64 one here.
    assert.ok(html.includes(`>${Math.fround(row0.meanInk).toFixed(4)}</td>`));
  });

  test('numbers are right-aligned, text left-aligned, with inline styles only', () => {
    const html = dataFrameToHtml(stats, {});
    assert.match(html, /<td style="[^"]*text-align:right[^"]*">\d+<\/td>/);
    assert.match(html, /<td style="[^"]*text-align:left[^"]*">&#60;0&#62;<\/td>/);
    assert.doesNotMatch(html, /<style/);
    assert.equal(
      count(html, /<th scope="row"/g),
      0,
      'arrays of rows have no index column by default',
    );
  });

  test('highlightMax marks the largest count only', () => {
    const html = dataFrameToHtml(stats, { highlightMax: ['count'] });
    const max = Math.max(...stats.map((s) => s.count));
    const marked = html.match(/<td style="[^"]*background:#dff0d8">(\d+)<\/td>/g) ?? [];
    assert.equal(marked.length, 1);
    assert.ok(marked[0].includes(`>${max}<`));
  });

  test('rows with missing keys line up under the union of columns', () => {
    const html = dataFrameToHtml([{ a: 1 }, { b: 'x' }, { a: 2.5, b: null }]);
    assert.equal(count(html, /<th scope="col"/g), 2);
    assert.equal(count(html, /<td /g), 6);
    assert.ok(html.includes('>2.500</td>'));
  });

  test('long tables show the first and last rows and say how many are hidden', () => {
    const rows = Array.from({ length: 100 }, (_, i) => ({ i, sq: i * i }));
    const html = dataFrameToHtml(rows, { maxRows: 10 });
    assert.equal(count(html, /<tr>/g), 1 + 10 + 1);
    assert.ok(html.includes('… 90 more rows …'));
    assert.ok(html.includes('>99</td>') && html.includes('>9801</td>'));
  });

  test('a danfo Series is a one-column table', () => {
    const s = new dfd.Series([0.5, 0.25], { index: ['a', 'b'] });
    const html = dataFrameToHtml(s, { digits: 2 });
    assert.equal(count(html, /<td /g), 2);
    assert.ok(html.includes('>0.25</td>'));
    assert.ok(html.includes('>a</th>'));
  });

  test('bad input and options are rejected with ConfigError', () => {
    assert.throws(() => dataFrameToHtml(42 as never), ConfigError);
    assert.throws(() => dataFrameToHtml(stats, { digits: -1 }), /not a whole number from 0 to 20/);
  });
});

describe('dataFrameToText', () => {
  test('plain aligned columns: numbers end in the same column, text starts in the same column', () => {
    const stats = classStats();
    const text = dataFrameToText(stats, { caption: 'Classes', digits: 3, highlightMax: ['share'] });
    const lines = text.split('\n');
    assert.equal(lines[0], 'Classes');
    assert.match(lines[1], /^digit\s+count\s+share\s+meanInk$/);
    const body = lines.slice(3, 13);
    assert.equal(body.length, 10);
    const countEnd = lines[1].indexOf('count') + 'count'.length;
    for (const [i, line] of body.entries()) {
      assert.ok(line.startsWith(stats[i].digit));
      assert.equal(line.slice(0, countEnd).trimEnd().endsWith(String(stats[i].count)), true, line);
    }
    assert.equal(text.split('*').length - 1, 2, 'one marked maximum and the legend line');
    assert.doesNotMatch(text, /[│┌┐└┘─]/, 'no box drawing');
  });

  test('formatCell: blanks for missing, no negative zero, NaN and infinities spelled out', () => {
    assert.equal(formatCell(undefined, 2), '');
    assert.equal(formatCell(null, 2), '');
    assert.equal(formatCell(-0.0001, 2), '0.00');
    assert.equal(formatCell(NaN, 2), 'NaN');
    assert.equal(formatCell(-Infinity, 2), '-∞');
    assert.equal(formatCell(1 / 3, 3), '0.333');
  });
});
