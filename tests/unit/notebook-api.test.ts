// Every `kit.<name>` a notebook's code calls is exported by lib/index.ts, so trimming the index can never
// break a notebook that the tests do not run in full.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import * as kit from '../../lib/index.js';
import { joined, readCells } from '../support/ipynb.js';

const root = path.resolve(import.meta.dirname, '../..');

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
