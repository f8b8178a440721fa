// The parts of the .ipynb format the notebook tests read: cells, outputs, and text joined from either form.
import * as fs from 'node:fs';

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
