// `npm run student-copies -- DIR`: the notebooks a workshop hands out, outputs cleared, solutions left out, still runnable from DIR.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseCli, runMain, usage, type DescribedOptionTable } from '../shared/options.js';
import { ConfigError, KitError } from '../../lib/core/errors.js';
import { projectRoot as findProjectRoot } from '../../lib/core/paths.js';

const projectRoot = findProjectRoot();
const notebooksDir = path.join(projectRoot, 'notebooks');
const nodeModules = path.join(projectRoot, 'node_modules');

const OPTIONS = {
  force: { type: 'boolean', describe: 'write into a non-empty DIR' },
  help: { type: 'boolean', short: 'h', describe: 'this help' },
} as const satisfies DescribedOptionTable;

const USAGE = usage(
  {
    synopsis: ['npm run student-copies -- DIR [--force]'],
    about: [
      `Writes the copies a workshop hands out: every notebooks/*.ipynb with the outputs and execution
      counts of all code cells cleared, into DIR. The worked solutions (notebooks/solutions/) are
      left out.`,
      `The copies still run from DIR. Inside this checkout, relative imports (the kit,
      '../build/lib/index.js') are rewritten relative to DIR. Outside it, they become absolute paths
      into this checkout, and a DIR/node_modules link to the project's node_modules lets
      '@tensorflow/tfjs' and 'danfojs-node' resolve to the same single copy the kit uses. A DIR
      directly inside the checkout (e.g. workshop/) needs neither: its copies import the kit exactly
      as the originals do, so that folder can be dropped into any learner's checkout.`,
      `DIR must not exist or must be empty; --force writes into a non-empty DIR, replacing only the
      notebooks of the same names (other files there are kept). Everything is prepared in a
      temporary folder first, so a failed run leaves DIR as it was.`,
    ],
    notes: ['Exit status: 0 written, 1 failed, 2 bad arguments or DIR refused.'],
  },
  OPTIONS,
);

/** A DIR this script will not write into: one line naming DIR, exit 2 (runMain's rule for ConfigError). */
function refuse(message: string): ConfigError {
  return new ConfigError('DIR', message);
}

interface Notebook {
  cells: Cell[];
  [key: string]: unknown;
}

interface Cell {
  cell_type: string;
  source: string | string[];
  outputs?: unknown[];
  execution_count?: number | null;
  [key: string]: unknown;
}

function isNotebook(value: unknown): value is Notebook {
  return (
    !!value && typeof value === 'object' && Array.isArray((value as { cells?: unknown }).cells)
  );
}

/** nbformat keeps multi-line text as a list of lines, each but the last ending in a newline. */
function toLines(text: string): string[] {
  return text.split(/(?<=\n)/).filter((line) => line !== '');
}

/** Import specifiers written relative to notebooks/ ('../build/lib/index.js') rewritten relative to `dir`. */
export function rewriteImports(source: string, dir: string): string {
  const pattern =
    /(\bfrom\s+|\bimport\s*\(\s*|\brequire\s*\(\s*|^\s*import\s+)(['"])(\.\.?\/[^'"]+)\2/gm;
  return source.replace(pattern, (_match, lead: string, quote: string, spec: string) => {
    const target = path.resolve(notebooksDir, spec);
    // Inside the checkout a relative path keeps the copies portable to other checkouts; outside it, an
    // absolute one says plainly which checkout's kit they use.
    if (!resolvesUpward(dir)) return `${lead}${quote}${target.split(path.sep).join('/')}${quote}`;
    let relative = path.relative(dir, target).split(path.sep).join('/');
    if (!relative.startsWith('.')) relative = `./${relative}`;
    return `${lead}${quote}${relative}${quote}`;
  });
}

/** Said instead of a link to a worked solution, which the copies leave out (a link would be dead). */
export const SOLUTIONS_ELSEWHERE =
  'your instructor hands out the worked solutions after the exercises';

/** Markdown links to solutions/… notebooks replaced by their file name and where the solutions are. */
function unlinkSolutions(markdown: string): string {
  return markdown.replace(
    /\[([^\]]*)\]\((?:\.\/)?solutions\/[^)\s]+\.ipynb\)/g,
    (_match, text: string) => `${text} (${SOLUTIONS_ELSEWHERE})`,
  );
}

/**
 * A student's copy of one notebook: no outputs, no execution counts, imports that work from `dir`, and
 * no links to the worked solutions it leaves out.
 */
export function studentCopy(notebook: Notebook, dir: string): Notebook {
  const cells = notebook.cells.map((cell) => {
    if (cell.cell_type === 'markdown') {
      const text = Array.isArray(cell.source) ? cell.source.join('') : cell.source;
      return { ...cell, source: toLines(unlinkSolutions(text)) };
    }
    if (cell.cell_type !== 'code') return cell;
    const source = Array.isArray(cell.source) ? cell.source.join('') : cell.source;
    return {
      ...cell,
      source: toLines(rewriteImports(source, dir)),
      outputs: [],
      execution_count: null,
    };
  });
  return { ...notebook, cells };
}

function readNotebook(file: string): Notebook {
  let value: unknown;
  try {
    value = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new KitError(
      'notebook-unreadable',
      `${file} is not a readable notebook: ${(err as Error).message}`,
    );
  }
  if (!isNotebook(value))
    throw new KitError(
      'notebook-malformed',
      `${file} is not a notebook: expected a JSON object with a "cells" list`,
    );
  return value;
}

/** Whether node resolves packages for code in `dir` from the project's node_modules by walking upwards. */
function resolvesUpward(dir: string): boolean {
  const rel = path.relative(projectRoot, dir);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

function checkTarget(dir: string, force: boolean): { exists: boolean; empty: boolean } {
  for (const own of [notebooksDir, path.join(notebooksDir, 'solutions')]) {
    if (path.resolve(dir) === own)
      throw refuse(`${dir} holds the project's own notebooks; choose another folder`);
  }
  if (!fs.existsSync(dir)) return { exists: false, empty: true };
  if (!fs.statSync(dir).isDirectory()) throw refuse(`${dir} exists and is not a folder`);
  const empty = fs.readdirSync(dir).length === 0;
  if (!empty && !force) {
    throw refuse(
      `${dir} exists and is not empty; choose a new folder or pass --force to replace the notebooks in it`,
    );
  }
  const link = path.join(dir, 'node_modules');
  if (!resolvesUpward(dir) && fs.existsSync(link)) {
    const ok =
      fs.lstatSync(link).isSymbolicLink() && fs.realpathSync(link) === fs.realpathSync(nodeModules);
    if (!ok)
      throw refuse(
        `${link} exists and is not a link to ${nodeModules}; remove it or choose another folder`,
      );
  }
  return { exists: true, empty };
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseCli(argv, OPTIONS, {
    min: 1,
    max: 1,
    describe: 'one folder DIR to write the copies into (see --help)',
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const dir = path.resolve(positionals[0]);
  let names: string[];
  let linked: boolean;
  try {
    const state = checkTarget(dir, values.force === true);
    names = fs
      .readdirSync(notebooksDir)
      .filter((f) => f.endsWith('.ipynb'))
      .sort();
    if (names.length === 0)
      throw new KitError('notebooks-missing', `no notebooks in ${notebooksDir}`);
    linked = writeCopies(dir, state, names);
  } catch (err) {
    // A system error (no permission, disk full) is for the user to fix, not a bug: one line, exit 1.
    if (err instanceof KitError || !(err instanceof Error && 'code' in err)) throw err;
    throw new KitError('write-failed', `could not write the copies to ${dir}: ${err.message}`);
  }
  const how = linked ? `; ${path.join(dir, 'node_modules')} links to ${nodeModules}` : '';
  process.stdout.write(
    `wrote ${names.length} student notebooks to ${dir} (outputs cleared, no solutions)${how}\n`,
  );
  return 0;
}

/** Writes the copies of `names` into `dir` through a temporary folder; whether DIR/node_modules links to ours. */
function writeCopies(
  dir: string,
  state: { exists: boolean; empty: boolean },
  names: string[],
): boolean {
  // Prepared beside DIR (same file system, so the renames below are atomic).
  fs.mkdirSync(path.dirname(dir), { recursive: true });
  const staging = fs.mkdtempSync(path.join(path.dirname(dir), `.${path.basename(dir)}.tmp-`));
  fs.chmodSync(staging, 0o755); // mkdtemp makes it private; DIR is an ordinary folder
  try {
    for (const name of names) {
      const copy = studentCopy(readNotebook(path.join(notebooksDir, name)), dir);
      fs.writeFileSync(path.join(staging, name), JSON.stringify(copy, null, 1) + '\n');
    }
    const link = !resolvesUpward(dir);
    if (link) fs.symlinkSync(nodeModules, path.join(staging, 'node_modules'), 'dir');
    if (!state.exists) {
      fs.renameSync(staging, dir);
    } else if (state.empty) {
      fs.renameSync(staging, dir); // rename(2) replaces an empty folder
    } else {
      for (const entry of fs.readdirSync(staging)) {
        const to = path.join(dir, entry);
        if (entry === 'node_modules' && fs.existsSync(to)) continue; // checkTarget made sure it is the same link
        fs.renameSync(path.join(staging, entry), to);
      }
    }
    return link;
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
}

// The test imports rewriteImports from this file: only a direct run parses argv.
const invokedDirectly =
  process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (invokedDirectly) runMain(() => main(process.argv.slice(2)));
