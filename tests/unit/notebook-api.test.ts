// Every `kit.<name>` a notebook's code calls is exported by lib/index.ts, so trimming the index can never
// break a notebook that the tests do not run in full; and every export is called by a notebook or listed
// here with its reason, so the index stays what notebooks use. Every kit.show… call is awaited.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import * as kit from '../../lib/index.js';
import { projectRoot } from '../../lib/core/paths.js';
import { joined, readCells } from '../support/ipynb.js';

const root = projectRoot();

/** Exports no notebook calls, each with the reason it stays; a name a notebook calls needs none. */
const EXPORTED_WITHOUT_NOTEBOOK: Readonly<Record<string, string>> = {
  drawDigitWidget:
    "the draw-a-digit widget's HTML, for a cell or page that places it itself (its doc comment " +
    'offers it beside showDrawDigit)',
  reloadPlotly:
    'the fix a figure names when its page lost plotly.js (outputs cleared): kit.reloadPlotly(), then ' +
    'the cell again',
};

function notebooks(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === '.ipynb_checkpoints' ? [] : notebooks(full);
    return e.name.endsWith('.ipynb') ? [full] : [];
  });
}

/** Names used as `kit.<name>` in a notebook's code cells (values, and types such as kit.EpochMetrics). */
function kitNames(file: string): Set<string> {
  const names = new Set<string>();
  for (const cell of readCells(file)) {
    if (cell.cell_type !== 'code') continue;
    for (const m of joined(cell.source).matchAll(/\bkit\.([A-Za-z_$][\w$]*)/g)) names.add(m[1]);
  }
  return names;
}

/** Type-only exports leave no trace at run time: read them from the index's `type` export lists. */
function indexTypeNames(): Set<string> {
  const source = fs.readFileSync(path.join(root, 'lib', 'index.ts'), 'utf8');
  const names = new Set<string>();
  for (const m of source.matchAll(/export\s+type\s*\{([^}]*)\}/g)) {
    for (const n of m[1].split(',')) if (n.trim()) names.add(n.trim());
  }
  for (const m of source.matchAll(/\btype\s+([A-Za-z_$][\w$]*)\s*[,}\n]/g)) names.add(m[1]);
  return names;
}

describe('the notebooks call only what lib/index.ts exports', () => {
  const files = notebooks(path.join(root, 'notebooks'));
  const types = indexTypeNames();

  it('finds the notebooks and their kit calls', () => {
    assert.ok(files.length >= 6, `found ${files.length} notebooks`);
    assert.ok(kitNames(files[0]).size > 0, `no kit.<name> in ${files[0]}`);
  });

  for (const file of files) {
    it(path.relative(root, file), () => {
      const missing = [...kitNames(file)].filter((n) => !(n in kit) && !types.has(n));
      assert.deepEqual(
        missing,
        [],
        `${path.relative(root, file)} uses kit.${missing.join(', kit.')}, which lib/index.ts does not export`,
      );
    });
  }
});

describe('every lib/index.ts export is called by a notebook or listed with its reason', () => {
  const files = notebooks(path.join(root, 'notebooks'));
  const used = new Set(files.flatMap((f) => [...kitNames(f)]));
  const exported = new Set([...Object.keys(kit), ...indexTypeNames()]);
  const listed = Object.keys(EXPORTED_WITHOUT_NOTEBOOK);

  it('no export is unused and unlisted', () => {
    const unused = [...exported].filter((n) => !used.has(n) && !listed.includes(n)).sort();
    assert.deepEqual(unused, [], `exported by lib/index.ts, called by no notebook: ${unused}`);
  });

  it('every listed name is exported and called by no notebook', () => {
    const stale = listed.filter((n) => !exported.has(n) || used.has(n));
    assert.deepEqual(stale, [], `EXPORTED_WITHOUT_NOTEBOOK lists ${stale}: remove them`);
  });

  it('every kit.show… call is awaited (an unawaited one loses its errors and figures)', () => {
    const unawaited = files.flatMap((file) =>
      readCells(file)
        .filter((cell) => cell.cell_type === 'code')
        .flatMap((cell) => [...joined(cell.source).matchAll(/(await\s+)?kit\.(show\w*)\(/g)])
        .filter((m) => !m[1])
        .map((m) => `${path.relative(root, file)}: kit.${m[2]}`),
    );
    assert.deepEqual(unawaited, []);
  });
});
