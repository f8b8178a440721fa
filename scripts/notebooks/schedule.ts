// Which notebooks may run at once: reads the declared dependencies (notebooks/dependencies.json), orders a selection by them, and runs it with at most N at a time.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ConfigError } from '../../lib/core/errors.js';
import { setting } from '../../lib/core/settings.js';

/** The file, beside the notebooks it describes, that says which notebook needs which. */
export const declarationName = 'dependencies.json';

/**
 * One declaration file: for each notebook (its path relative to the file's folder, without .ipynb,
 * e.g. `04-analyse-confusions` or `solutions/06-fashion-mnist-solutions`), the notebooks it needs
 * and why.
 */
export interface Declaration {
  readonly file: string;
  readonly dir: string;
  readonly needs: ReadonlyMap<string, ReadonlyMap<string, string>>;
}

const shape =
  'expected {"notebooks": {"NAME": {"needs": {"OTHER": "why"}}}} (NAME without .ipynb; {} for none)';

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Reads and checks a declaration: its shape, that every needed notebook is declared, and no cycle. */
export function readDeclaration(file: string): Declaration {
  const shown = path.relative(process.cwd(), file) || file;
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ConfigError(
      shown,
      code ? `cannot be read (${code})` : `is not valid JSON: ${(error as Error).message}`,
    );
  }
  if (!isRecord(raw) || !isRecord(raw.notebooks)) throw new ConfigError(shown, shape);
  const needs = new Map<string, Map<string, string>>();
  for (const [name, entry] of Object.entries(raw.notebooks)) {
    if (!isRecord(entry) || (entry.needs !== undefined && !isRecord(entry.needs)))
      throw new ConfigError(shown, `"${name}": ${shape}`);
    const own = new Map<string, string>();
    for (const [other, why] of Object.entries(entry.needs ?? {})) {
      if (typeof why !== 'string' || why.trim() === '')
        throw new ConfigError(
          shown,
          `"${name}" needs "${other}": expected a reason (which file of ${other} it reads), got ${JSON.stringify(why)}`,
        );
      own.set(other, why);
    }
    needs.set(name, own);
  }
  for (const [name, own] of needs) {
    for (const other of own.keys()) {
      if (other === name) throw new ConfigError(shown, `"${name}" needs itself`);
      if (!needs.has(other))
        throw new ConfigError(
          shown,
          `"${name}" needs "${other}", which is not a notebook declared there (declared: ${[...needs.keys()].join(', ')})`,
        );
    }
  }
  const cycle = findCycle(needs);
  if (cycle) throw new ConfigError(shown, `a cycle of needs: ${cycle.join(' → ')}`);
  return { file, dir: path.dirname(file), needs };
}

function findCycle(needs: ReadonlyMap<string, ReadonlyMap<string, string>>): string[] | undefined {
  const done = new Set<string>();
  const visit = (name: string, trail: string[]): string[] | undefined => {
    if (trail.includes(name)) return [...trail.slice(trail.indexOf(name)), name];
    if (done.has(name)) return undefined;
    for (const other of needs.get(name)?.keys() ?? []) {
      const found = visit(other, [...trail, name]);
      if (found) return found;
    }
    done.add(name);
    return undefined;
  };
  for (const name of needs.keys()) {
    const found = visit(name, []);
    if (found) return found;
  }
  return undefined;
}

/**
 * The notebooks a declaration must cover: every .ipynb in its folder and in the folders directly
 * below it (solutions/), as names relative to the folder without .ipynb. Hidden folders (Jupyter's
 * .ipynb_checkpoints) are not notebooks of the project.
 */
export function notebooksOnDisk(dir: string): string[] {
  const names: string[] = [];
  const add = (sub: string) => {
    for (const entry of fs.readdirSync(path.join(dir, sub), { withFileTypes: true })) {
      const rel = sub ? `${sub}/${entry.name}` : entry.name;
      if (entry.isFile() && entry.name.endsWith('.ipynb'))
        names.push(rel.slice(0, -'.ipynb'.length));
      else if (entry.isDirectory() && !sub && !entry.name.startsWith('.')) add(entry.name);
    }
  };
  add('');
  return names.sort();
}

/** Fails with one line naming the first notebook on disk that is not declared, or declared but absent. */
export function checkCoverage(declaration: Declaration, onDisk: readonly string[]): void {
  const shown = path.relative(process.cwd(), declaration.file) || declaration.file;
  const where = path.relative(process.cwd(), declaration.dir) || '.';
  for (const name of onDisk) {
    if (!declaration.needs.has(name))
      throw new ConfigError(
        shown,
        `${where}/${name}.ipynb is not declared: add "${name}": {} to "notebooks", with "needs" naming each notebook whose files it reads`,
      );
  }
  for (const name of declaration.needs.keys()) {
    if (!onDisk.includes(name))
      throw new ConfigError(shown, `declares "${name}", but there is no ${where}/${name}.ipynb`);
  }
}

/** Finds, reads and checks the declaration that covers a notebook: in its folder, else the folder above. */
export class Declarations {
  private readonly byFile = new Map<string, Declaration | undefined>();

  /** The declaration covering `notebook` and its name there, or undefined when no folder declares it. */
  lookup(notebook: string): { declaration: Declaration; name: string } | undefined {
    const folder = path.dirname(path.resolve(notebook));
    for (const dir of [folder, path.dirname(folder)]) {
      const declaration = this.load(path.join(dir, declarationName));
      if (!declaration) continue;
      const name = path
        .relative(dir, path.resolve(notebook))
        .split(path.sep)
        .join('/')
        .replace(/\.ipynb$/, '');
      return { declaration, name };
    }
    return undefined;
  }

  private load(file: string): Declaration | undefined {
    if (!this.byFile.has(file)) {
      const declaration = fs.existsSync(file) ? readDeclaration(file) : undefined;
      if (declaration) checkCoverage(declaration, notebooksOnDisk(declaration.dir));
      this.byFile.set(file, declaration);
    }
    return this.byFile.get(file);
  }
}

export interface Job {
  /** How progress lines and the summary name it: the file name without .ipynb. */
  readonly id: string;
  readonly file: string;
  /** Jobs whose outputs this one reads: it starts after they passed, and is skipped if one failed. */
  readonly needs: readonly string[];
  /** Jobs it merely waits for (whatever their result), so that the two never run at once. */
  readonly after: readonly string[];
}

/**
 * Orders the selected notebooks so that each comes after the notebooks it needs (directly or through
 * others), keeping the given order otherwise. Notebooks that are not selected are not added.
 *
 * Two cases are kept apart without being declared dependencies:
 * - Notebooks that need the same notebook that is not in the run run one after the other: without it,
 *   each may make what it would have made (04 and 07 train and save the model when it is missing).
 * - Notebooks no declaration covers (a path elsewhere) run one after the other, in the order given:
 *   nothing says whether they are independent.
 * `lookup` is Declarations.prototype.lookup (a parameter so that tests can give their own).
 */
export function planJobs(
  files: readonly string[],
  lookup: (file: string) => { declaration: Declaration; name: string } | undefined,
): Job[] {
  const ids = uniqueIds(files);
  const found = files.map((file) => lookup(file));
  const idOf = new Map<string, string>(); // declaration file + name → job id
  found.forEach((f, i) => f && idOf.set(`${f.declaration.file}\0${f.name}`, ids[i]));

  const needs = new Map<string, string[]>();
  const after = new Map<string, string[]>(ids.map((id) => [id, []]));
  const waitingFor = new Map<string, string[]>(); // an unselected notebook → the jobs that need it
  let previousUndeclared: string | undefined;
  found.forEach((f, i) => {
    const id = ids[i];
    if (!f) {
      if (previousUndeclared) after.get(id)!.push(previousUndeclared);
      previousUndeclared = id;
      needs.set(id, []);
      return;
    }
    const mine: string[] = [];
    for (const other of transitiveNeeds(f.declaration, f.name)) {
      const key = `${f.declaration.file}\0${other}`;
      const selected = idOf.get(key);
      if (selected) mine.push(selected);
      else if (f.declaration.needs.get(f.name)?.has(other))
        waitingFor.set(key, [...(waitingFor.get(key) ?? []), id]);
    }
    needs.set(id, mine);
  });

  const ordered = topologicalOrder(ids, (id) => [...needs.get(id)!, ...after.get(id)!]);
  // Chain the jobs that share a missing notebook in the order they will start.
  for (const group of waitingFor.values()) {
    const inOrder = ordered.filter((id) => group.includes(id));
    for (let i = 1; i < inOrder.length; i++) after.get(inOrder[i])!.push(inOrder[i - 1]);
  }
  return ordered.map((id) => ({
    id,
    file: files[ids.indexOf(id)],
    needs: needs.get(id)!,
    after: after.get(id)!,
  }));
}

function transitiveNeeds(declaration: Declaration, name: string): string[] {
  const seen: string[] = [];
  const visit = (n: string) => {
    for (const other of declaration.needs.get(n)?.keys() ?? []) {
      if (seen.includes(other)) continue;
      seen.push(other);
      visit(other);
    }
  };
  visit(name);
  return seen;
}

/** File names without .ipynb; a clash (same name in two folders) keeps the parent folder's name too. */
function uniqueIds(files: readonly string[]): string[] {
  const base = files.map((f) => path.basename(f, '.ipynb'));
  return files.map((f, i) =>
    base.indexOf(base[i]) === base.lastIndexOf(base[i])
      ? base[i]
      : `${path.basename(path.dirname(f))}/${base[i]}#${i + 1}`,
  );
}

/** Stable: repeatedly takes the first job, in the given order, whose predecessors are all taken. */
function topologicalOrder(ids: readonly string[], before: (id: string) => string[]): string[] {
  const out: string[] = [];
  const left = [...ids];
  while (left.length > 0) {
    const next = left.findIndex((id) => before(id).every((b) => out.includes(b)));
    // Declarations are checked for cycles and `after` only points backwards, so one is always ready.
    if (next < 0) throw new Error(`no job is ready among ${left.join(', ')}`);
    out.push(left.splice(next, 1)[0]);
  }
  return out;
}

export type RunOutcome = 'passed' | 'failed' | 'interrupted';

export interface JobResult {
  readonly status: RunOutcome | 'skipped';
  /** Why a job was skipped, e.g. `needs 03-train`. */
  readonly reason?: string;
}

export interface ScheduleOptions {
  /** At most this many jobs run at once. */
  readonly jobs: number;
  /** After a failure, keep starting the jobs that do not need the failed one. */
  readonly keepGoing: boolean;
  /** Aborting it stops starting jobs; the signal each run gets is aborted too. */
  readonly signal: AbortSignal;
  /** Runs one job; its signal is aborted on interruption or when another run threw. */
  readonly run: (job: Job, signal: AbortSignal) => Promise<RunOutcome>;
  /** Called once for every job that will not run, when that becomes known. */
  readonly onSkip?: (job: Job, reason: string) => void;
}

/**
 * Runs the planned jobs, at most `jobs` at a time, each as soon as the jobs before it allow, in plan
 * order. A failed job's dependants are skipped ("needs X"). Without keepGoing no job starts after a
 * failure, but the ones already running finish: their results are as good as a serial run's and are
 * kept. An abort (Ctrl-C) stops every running job. A run that throws (a missing tool) stops the others
 * too, and its error is thrown once they have ended.
 */
export async function runJobs(
  plan: readonly Job[],
  options: ScheduleOptions,
): Promise<Map<string, JobResult>> {
  const results = new Map<string, JobResult>();
  const running = new Map<string, Promise<void>>();
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  options.signal.addEventListener('abort', onAbort);
  let failed: string | undefined;
  let thrown: { error: unknown } | undefined;

  const skip = (job: Job, reason: string) => {
    results.set(job.id, { status: 'skipped', reason });
    options.onSkip?.(job, reason);
  };
  /** A job this one needs that failed. Needs are transitive, so the failure that caused a skip is one. */
  const failedNeed = (job: Job): string | undefined =>
    job.needs.find((n) => results.get(n)?.status === 'failed');
  const startable = (): Job | undefined => {
    for (const job of plan) {
      if (results.has(job.id) || running.has(job.id)) continue;
      const broken = failedNeed(job);
      if (broken) skip(job, `needs ${broken}`);
      else if (
        job.needs.every((n) => results.get(n)?.status === 'passed') &&
        job.after.every((n) => results.has(n))
      )
        return job;
    }
    return undefined;
  };

  try {
    for (;;) {
      const halted = stop.signal.aborted || (failed !== undefined && !options.keepGoing);
      let job = halted ? undefined : startable();
      while (job && running.size < options.jobs) {
        const current = job;
        const done = options
          .run(current, stop.signal)
          .then(
            (status) => {
              results.set(current.id, { status });
              if (status === 'failed') failed ??= current.id;
            },
            (error: unknown) => {
              results.set(current.id, { status: 'interrupted' });
              thrown ??= { error };
              stop.abort();
            },
          )
          .finally(() => running.delete(current.id));
        running.set(current.id, done);
        job = stop.signal.aborted ? undefined : startable();
      }
      if (running.size === 0) break;
      await Promise.race(running.values());
    }
  } finally {
    options.signal.removeEventListener('abort', onAbort);
  }
  if (thrown) throw thrown.error;
  for (const job of plan) {
    if (results.has(job.id)) continue;
    const broken = failedNeed(job);
    if (broken) skip(job, `needs ${broken}`);
    else if (stop.signal.aborted) skip(job, 'interrupted before it started');
    else skip(job, `not started after ${failed ?? 'a failure'} failed`);
  }
  return results;
}

/** A running notebook as the heartbeat line shows it. */
export interface RunningNotebook {
  readonly name: string;
  /** e.g. `cell 3/9`, or `starting` for the kernel; undefined between cells. */
  readonly cell?: string;
  /** How long it has been in that cell (or starting). */
  readonly cellMs?: number;
}

/** `2:05` (m:ss), or `1:02:05` from an hour on. */
export function clock(ms: number): string {
  const total = Math.floor(ms / 1000);
  const [h, m, s] = [Math.floor(total / 3600), Math.floor(total / 60) % 60, total % 60];
  const ss = String(s).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/** `running: 05-break-it (cell 14/40 for 0:45), 07-beyond-the-mlp (between cells); 2:10 elapsed, 3 of 14 done` */
export function heartbeatLine(
  running: readonly RunningNotebook[],
  elapsedMs: number,
  done: number,
  total: number,
): string {
  const each = running.map((r) =>
    r.cell === undefined
      ? `${r.name} (between cells)`
      : `${r.name} (${r.cell} for ${clock(r.cellMs ?? 0)})`,
  );
  return `running: ${each.join(', ')}; ${clock(elapsedMs)} elapsed, ${done} of ${total} done`;
}

/**
 * MNIST_ENGINE_THREADS for each kernel when `parallel` notebooks share `cores`, so that their engines
 * do not fight over the cores: cores / parallel, at least 1. Undefined (leave the engine's default)
 * for one notebook at a time, or when the user set the variable.
 */
export function engineThreads(
  env: NodeJS.ProcessEnv,
  parallel: number,
  cores: number,
): string | undefined {
  if (parallel <= 1 || setting('MNIST_ENGINE_THREADS', env) !== undefined) return undefined;
  return String(Math.max(1, Math.floor(cores / parallel)));
}
