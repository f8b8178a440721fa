// What the notebook tests share: the .ipynb parts they read, outputs as text, and running the notebook runner.
import * as fs from 'node:fs';
import { runScript, type ScriptRun } from './run-script.js';

export interface IpynbOutput {
  output_type: string;
  name?: string;
  text?: string | string[];
  data?: Record<string, string | string[]>;
}

export interface IpynbCell {
  id?: string;
  cell_type: string;
  source: string | string[];
  metadata: Record<string, unknown>;
  outputs?: IpynbOutput[];
}

export function readCells(file: string): IpynbCell[] {
  return (JSON.parse(fs.readFileSync(file, 'utf8')) as { cells: IpynbCell[] }).cells;
}

/** nbformat stores multi-line text as a string or a list of lines. */
export function joined(text: string | string[] | undefined): string {
  return Array.isArray(text) ? text.join('') : (text ?? '');
}

/** Every output of an executed notebook's code cells as text (stdout, HTML, markdown), and its PNG count. */
export function outputsOf(file: string): { text: string; pngs: number; codeCells: number } {
  const cells = readCells(file).filter((c) => c.cell_type === 'code');
  let text = '';
  let pngs = 0;
  for (const o of cells.flatMap((c) => c.outputs ?? [])) {
    text += joined(o.text);
    for (const mime of ['text/html', 'text/markdown', 'text/plain']) text += joined(o.data?.[mime]);
    if (o.data?.['image/png']) pngs++;
  }
  return { text, pngs, codeCells: cells.length };
}

export type RunnerResult = ScriptRun;

/** `npm run notebooks -- ...args` from the project root, with extra environment for the kernels. */
export function runNotebooks(args: string[], env: NodeJS.ProcessEnv = {}): Promise<RunnerResult> {
  return runScript('notebooks', args, { env });
}
