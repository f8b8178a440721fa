// Tests for `npm run student-copies`: cleared outputs, no solutions, refusing to overwrite, and copies that still run.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { rewriteImports, SOLUTIONS_ELSEWHERE } from '../../scripts/notebooks/student-copies.js';
import { joined, readCells } from '../support/ipynb.js';
import { root, runScript } from '../support/run-script.js';

const notebooks = fs
  .readdirSync(path.join(root, 'notebooks'))
  .filter((f) => f.endsWith('.ipynb'))
  .sort();

describe('npm run student-copies', { timeout: 300_000 }, () => {
  let tmp: string;
  let copies: string;

  before(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mnist-student-copies-'));
    copies = path.join(tmp, 'copies');
    const r = await runScript('student-copies', [copies]);
    assert.equal(r.code, 0, r.stderr);
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('copies every notebook with no outputs and no execution counts, and leaves the solutions out', () => {
    const written = fs
      .readdirSync(copies)
      .filter((f) => f.endsWith('.ipynb'))
      .sort();
    assert.deepEqual(written, notebooks);
    let solutionLinks = 0;
    assert.ok(!fs.existsSync(path.join(copies, 'solutions')), 'no solutions folder');
    assert.ok(written.every((f) => !f.includes('solution')));
    for (const name of written) {
      const original = readCells(path.join(root, 'notebooks', name));
      const copy = readCells(path.join(copies, name));
      assert.equal(copy.length, original.length, `${name}: same cells`);
      copy.forEach((cell, i) => {
        assert.equal(cell.id, original[i].id, `${name} cell ${i}: same id`);
        if (cell.cell_type !== 'code') {
          const text = joined(cell.source);
          assert.doesNotMatch(
            text,
            /\]\((\.\/)?solutions\//,
            `${name} cell ${i}: a dead solutions link`,
          );
          const links = joined(original[i].source).match(/\]\((\.\/)?solutions\//g) ?? [];
          solutionLinks += links.length;
          if (links.length)
            return assert.ok(text.includes(SOLUTIONS_ELSEWHERE), `${name} cell ${i}`);
          return assert.equal(text, joined(original[i].source));
        }
        const raw = cell as unknown as { outputs: unknown[]; execution_count: unknown };
        assert.deepEqual(raw.outputs, [], `${name} cell ${i} has outputs`);
        assert.equal(raw.execution_count, null, `${name} cell ${i} has an execution count`);
      });
    }
    assert.ok(
      solutionLinks > 0,
      'the notebooks link their solutions, and the copies say where they are',
    );
  });

  it('hands out starter cells, not answers: every exercise check sits in a cell that says // your code', () => {
    let checks = 0;
    for (const name of notebooks) {
      for (const cell of readCells(path.join(copies, name))) {
        const source = joined(cell.source);
        if (cell.cell_type !== 'code' || !/Exercises\.\w+\.check\(/.test(source)) continue;
        checks += source.match(/Exercises\.\w+\.check\(/g)!.length;
        assert.match(source, /\/\/ your code/, `${name}: a check outside a starter cell`);
        assert.match(
          source,
          /= undefined|return undefined;/,
          `${name}: a starter cell holds an answer`,
        );
      }
    }
    assert.ok(checks >= 14, `${checks} checked exercises in the copies`);
  });

  it('points the copies at this checkout: absolute kit imports and a node_modules link outside it', () => {
    const link = path.join(copies, 'node_modules');
    assert.ok(fs.lstatSync(link).isSymbolicLink());
    assert.equal(fs.realpathSync(link), fs.realpathSync(path.join(root, 'node_modules')));
    const source = readCells(path.join(copies, notebooks[0]))
      .map((c) => joined(c.source))
      .join('\n');
    const kit = path.join(root, 'build', 'lib', 'index.js').split(path.sep).join('/');
    assert.ok(source.includes(`from '${kit}'`), `the kit import points at ${kit}`);
    assert.ok(!source.includes("'../build/lib/index.js'"));
  });

  it('keeps relative imports relative for a folder inside the checkout', () => {
    const line = "import * as kit from '../../build/lib/index.js';";
    assert.equal(rewriteImports(line, path.join(root, 'workshop')), line);
    assert.equal(
      rewriteImports(line, path.join(root, 'a', 'b')),
      "import * as kit from '../../../build/lib/index.js';",
    );
    assert.equal(
      rewriteImports("import * as tf from '@tensorflow/tfjs';", '/elsewhere'),
      "import * as tf from '@tensorflow/tfjs';",
    );
  });

  it('refuses a folder that is not empty, changing nothing, and writes into it with --force', async () => {
    const dir = path.join(tmp, 'busy');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'my-notes.txt'), 'keep me');
    const refused = await runScript('student-copies', [dir]);
    assert.equal(refused.code, 2);
    assert.match(
      refused.stderr,
      /^error: [^\n]*busy exists and is not empty[^\n]*--force[^\n]*\n$/,
    ); // one line
    assert.deepEqual(fs.readdirSync(dir), ['my-notes.txt']);
    const forced = await runScript('student-copies', [dir, '--force']);
    assert.equal(forced.code, 0, forced.stderr);
    assert.equal(fs.readFileSync(path.join(dir, 'my-notes.txt'), 'utf8'), 'keep me');
    assert.ok(notebooks.every((f) => fs.existsSync(path.join(dir, f))));
    assert.deepEqual(
      fs.readdirSync(tmp).filter((f) => f.includes('.tmp-')),
      [],
      'no temporary folder left',
    );
  });

  it('refuses the project notebooks folder and a missing argument', async () => {
    const own = await runScript('student-copies', [path.join(root, 'notebooks'), '--force']);
    assert.equal(own.code, 2);
    assert.match(own.stderr, /^error: .*notebooks holds the project's own notebooks/);
    const none = await runScript('student-copies', []);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /^error: arguments: missing; expected one folder DIR/);
  });

  it('a copy outside the checkout runs through the notebook runner on the kit engine (one TensorFlow.js)', async () => {
    const out = path.join(tmp, 'executed');
    const r = await runScript('notebooks', [
      '--quick',
      '--out-dir',
      out,
      path.join(copies, '01-explore-data.ipynb'),
    ]);
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr.slice(-3000)}`);
    assert.match(r.stdout, /1 passed, 0 failed/);
    const text = readCells(path.join(out, '01-explore-data.ipynb'))
      .flatMap((c) => c.outputs ?? [])
      .map((o) => joined(o.text))
      .join('');
    // The notebook's own `tf` reports the backend the kit chose: a second TensorFlow.js would say 'cpu'.
    const engine = /engine: (\w+)/.exec(text)?.[1];
    const backend = /tf\.getBackend\(\): (\w+)/.exec(text)?.[1];
    assert.ok(engine, 'the kit reports its engine');
    assert.equal(backend, engine);
  });
});
