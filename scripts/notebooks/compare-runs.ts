// Compares the executed notebooks of two `npm run notebooks --out-dir` runs (e.g. --jobs 1 and --jobs 2): their outputs must be equal once timing-like text is masked.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseCli, runMain, usage, type DescribedOptionTable } from '../shared/options.js';
import { ConfigError } from '../../lib/core/errors.js';

const OPTIONS = {
  help: { type: 'boolean', short: 'h', describe: 'this help' },
} as const satisfies DescribedOptionTable;

const USAGE = usage(
  {
    synopsis: ['npx tsx scripts/notebooks/compare-runs.ts A B [A2]'],
    about: [
      `Compares every executed notebook (.ipynb, solutions/ included) in two --out-dir folders A and
      B of npm run notebooks: each code cell's outputs, text and images, with timing-like text
      (seconds, dates, rates) and each run's own folder masked. Some cells are unseeded on purpose
      (02 shows what a seed buys, 03 and 05 time hand-written loops): with A2, a third run made like
      A, the outputs that differ between A and A2 too are listed but do not count. Exit status 0
      when nothing else differs, 1 otherwise.`,
    ],
    notes: [
      'To check that running notebooks at once changes nothing but timings:',
      [
        '  for run in serial:1 parallel:2 serial2:1; do',
        '    MNIST_NB_MODEL=/tmp/${run%:*}/model npm run notebooks -- --quick --jobs ${run#*:} --out-dir /tmp/${run%:*}',
        '  done',
        '  npx tsx scripts/notebooks/compare-runs.ts /tmp/serial /tmp/parallel /tmp/serial2',
      ].join('\n'),
    ],
  },
  OPTIONS,
);

interface Output {
  output_type: string;
  name?: string;
  text?: string | string[];
  data?: Record<string, string | string[]>;
}

interface Cell {
  cell_type: string;
  source: string | string[];
  outputs?: Output[];
}

const joined = (t: string | string[] | undefined) => (Array.isArray(t) ? t.join('') : (t ?? ''));

/**
 * Text with what differs from run to run for reasons other than the computation masked: durations,
 * rates and wall-clock dates. Training is seeded, so everything else (losses, accuracies, counts,
 * predictions) must match to the last digit.
 */
export function maskTimings(text: string): string {
  return (
    text
      // 2026-11-30T06:45:11.123Z, and dates shown as such
      .replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z?/g, '<date>')
      // 12.3 s, 4 ms, 1.2 s/epoch, 45 seconds, 3 min, 0:45
      .replace(/\d+(\.\d+)?\s?(ms|s|sec|seconds?|min|minutes?)\b/g, '<time>')
      .replace(/\b\d+:\d\d(:\d\d)?\b/g, '<time>')
      // "wasm, 2 threads": the runner gives each kernel cores / jobs threads, and the thread count changes
      // no result (XNNPACK splits a product by output tiles; tests/integration/process-exit.test.ts, docs/performance.md)
      .replace(/\b\d+ threads?\b/g, '<threads>')
      // 12,345 samples/s, 3.2k images per second
      .replace(
        /[\d,.]+k?\s?(samples|images|digits|steps|batches)?\s?(\/\s?s|per second)\b/g,
        '<rate>',
      )
  );
}

function readCells(file: string): Cell[] {
  try {
    return (JSON.parse(fs.readFileSync(file, 'utf8')) as { cells: Cell[] }).cells;
  } catch (error) {
    throw new ConfigError(file, `is not a readable notebook: ${(error as Error).message}`);
  }
}

function notebooksIn(dir: string): string[] {
  return fs
    .readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ipynb') && !f.split(path.sep).some((p) => p.startsWith('.')))
    .sort();
}

export interface Difference {
  /** Which output: `03-train.ipynb, code cell 5, output 2 (stream stdout)`. */
  readonly where: string;
  readonly detail: string;
}

/**
 * The differences between the outputs of the notebooks in folder `a` and those in `b` (each run's own
 * folder, e.g. where MNIST_NB_MODEL put its model, shows as <out>). `only` limits it to some notebooks
 * (paths relative to the folders, e.g. `04-analyse-confusions.ipynb`).
 */
export function compareRuns(a: string, b: string, only?: readonly string[]): Difference[] {
  for (const dir of [a, b])
    if (!fs.existsSync(dir)) throw new ConfigError(dir, 'is not a folder of executed notebooks');
  const differences: Difference[] = [];
  const chosen = (files: string[]) => files.filter((f) => !only || only.includes(f));
  const [inA, inB] = [chosen(notebooksIn(a)), chosen(notebooksIn(b))];
  for (const f of inA.filter((f) => !inB.includes(f)))
    differences.push({ where: f, detail: `only in ${a}` });
  for (const f of inB.filter((f) => !inA.includes(f)))
    differences.push({ where: f, detail: `only in ${b}` });
  for (const file of inA.filter((f) => inB.includes(f))) {
    const [cellsA, cellsB] = [readCells(path.join(a, file)), readCells(path.join(b, file))];
    const [codeA, codeB] = [cellsA, cellsB].map((c) => c.filter((x) => x.cell_type === 'code'));
    if (codeA.length !== codeB.length) {
      differences.push({
        where: file,
        detail: `${codeA.length} code cells against ${codeB.length}`,
      });
      continue;
    }
    codeA.forEach((cell, i) => {
      const where = `${file}, code cell ${i + 1}`;
      const [pa, pb] = [pieces(cell, a), pieces(codeB[i], b)];
      if (pa.length !== pb.length) {
        differences.push({ where, detail: `${pa.length} outputs against ${pb.length}` });
        return;
      }
      pa.forEach((piece, j) => {
        const at = `${where}, output ${j + 1}`;
        if (piece.kind !== pb[j].kind)
          differences.push({ where: at, detail: `${piece.kind} against ${pb[j].kind}` });
        else if (piece.value !== pb[j].value)
          differences.push({
            where: `${at} (${piece.kind})`,
            detail: firstDifference(piece.value, pb[j].value),
          });
      });
    });
  }
  return differences;
}

/** A cell's outputs as comparable pieces: stream text and each MIME type, timing text masked. */
function pieces(cell: Cell, dir: string): { kind: string; value: string }[] {
  const text = (t: string) => maskTimings(t.split(dir).join('<out>'));
  const out: { kind: string; value: string }[] = [];
  for (const o of cell.outputs ?? []) {
    if (o.output_type === 'stream')
      out.push({ kind: `stream ${o.name ?? ''}`, value: text(joined(o.text)) });
    for (const [mime, value] of Object.entries(o.data ?? {}).sort())
      out.push({
        kind: mime,
        value: mime.startsWith('image/') ? joined(value) : text(joined(value)),
      });
  }
  return out;
}

function firstDifference(a: string, b: string): string {
  if (a.length > 2000 && /^[A-Za-z0-9+/=\s]+$/.test(a)) return 'the images differ';
  let i = 0;
  while (i < a.length && a[i] === b[i]) i++;
  const around = (s: string) => JSON.stringify(s.slice(Math.max(0, i - 60), i + 60));
  return `${around(a)} against ${around(b)}`;
}

async function main(argv: string[]): Promise<number> {
  // Any count of folders parses: the count is checked below, with the message it always had.
  const { values, positionals } = parseCli(argv, OPTIONS, {
    min: 0,
    max: Infinity,
    describe: 'two or three folders',
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (positionals.length < 2 || positionals.length > 3)
    throw new ConfigError(
      'arguments',
      `expected two or three folders, got ${positionals.length} (see --help)`,
    );
  const [a, b, again] = positionals.map((d) => path.resolve(d));
  // What differs between two runs made the same way is not the schedule's doing: unseeded demos.
  const noise = new Set(again ? compareRuns(a, again).map((d) => d.where) : []);
  const all = compareRuns(a, b);
  const differences = all.filter((d) => !noise.has(d.where));
  for (const d of all)
    process.stdout.write(
      `${noise.has(d.where) ? 'also between A and A2: ' : ''}${d.where}: ${d.detail}\n`,
    );
  const count = notebooksIn(a).length;
  process.stdout.write(
    differences.length === 0
      ? `${count} notebooks: the same outputs apart from timings${again ? ` and ${noise.size} outputs that differ between A and A2 too` : ''}\n`
      : `${differences.length} differences${again ? ' that A and A2 do not have' : ''}\n`,
  );
  return differences.length === 0 ? 0 : 1;
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href)
  runMain(() => main(process.argv.slice(2)));
