// Tests for the notebook schedule: notebooks/dependencies.json against the notebooks' code, ordering a selection, and running jobs at once.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  Declarations,
  checkCoverage,
  clock,
  declarationName,
  engineThreads,
  heartbeatLine,
  notebooksOnDisk,
  planJobs,
  readDeclaration,
  runJobs,
  type Job,
  type JobResult,
  type RunOutcome,
} from '../../scripts/notebooks/schedule.js';
import { compareRuns } from '../../scripts/notebooks/compare-runs.js';
import { joined, readCells } from '../support/ipynb.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const notebooksDir = path.join(root, 'notebooks');
const declarationFile = path.join(notebooksDir, declarationName);
const fixtures = path.join(root, 'tests', 'support', 'fixtures', 'notebooks');

/** A notebook's code, cells joined, without comments: a call named in a comment reads nothing. */
function codeOf(name: string): string {
  return readCells(path.join(notebooksDir, `${name}.ipynb`))
    .filter((c) => c.cell_type === 'code')
    .map((c) => joined(c.source))
    .join('\n')
    .replace(/^\s*\/\/.*$/gm, '');
}

function transitiveNeeds(needs: ReadonlyMap<string, ReadonlyMap<string, string>>, name: string) {
  const seen = new Set<string>();
  const visit = (n: string) => {
    for (const other of needs.get(n)?.keys() ?? [])
      if (!seen.has(other)) visit((seen.add(other), other));
  };
  visit(name);
  return seen;
}

describe('notebooks/dependencies.json against the notebooks', () => {
  const declaration = readDeclaration(declarationFile);
  const names = notebooksOnDisk(notebooksDir);

  test('declares exactly the notebooks in notebooks/ and notebooks/solutions/', () => {
    assert.ok(
      names.includes('03-train') && names.includes('solutions/04-analyse-confusions-solutions'),
    );
    assert.deepEqual([...declaration.needs.keys()].sort(), names);
    checkCoverage(declaration, names);
  });

  test('every notebook that loads a saved model needs, directly or not, one that saves it', () => {
    const loads = /\bkit\.(loadModel|loadOrTrainModel)\(/;
    const saves = /\bkit\.saveModel\(/;
    const savers = names.filter((n) => saves.test(codeOf(n)));
    assert.deepEqual(savers, ['03-train'], 'the notebooks that save a model');
    const loaders = names.filter((n) => loads.test(codeOf(n)));
    assert.ok(loaders.length >= 2, `only ${loaders.join(', ')} load a model`);
    for (const name of loaders) {
      const needed = transitiveNeeds(declaration.needs, name);
      assert.ok(
        savers.some((s) => needed.has(s)),
        `${name} loads a saved model but does not need ${savers.join(' or ')} in ${declarationName}`,
      );
    }
  });

  test('notebooks write files only through kit.saveModel and the figure machinery', () => {
    // Any other write may be read by another notebook: declare who reads it, then widen this test.
    const writes =
      /['"](node:)?fs(\/promises)?['"]|\bfs\.|\.save\(|\bwriteFile|\bcreateWriteStream/;
    for (const name of names) {
      const found = writes.exec(codeOf(name));
      assert.equal(found, null, `${name} writes a file (${found?.[0]}): declare who reads it`);
    }
  });

  test('every reason names what is read', () => {
    for (const [name, needs] of declaration.needs)
      for (const [other, why] of needs)
        assert.match(why, /\b(loads|reads)\b/, `${name} needs ${other}: "${why}"`);
  });
});

describe('a declaration that does not hold', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nb-schedule-'));
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));
  let n = 0;

  /** A folder with empty notebooks named `files` and the declaration `content` (an object or raw text). */
  function folder(files: string[], content: unknown): string {
    const dir = path.join(tmp, `case-${++n}`);
    for (const f of files) {
      fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
      fs.writeFileSync(path.join(dir, f), '{}');
    }
    fs.mkdirSync(dir, { recursive: true });
    const text = typeof content === 'string' ? content : JSON.stringify(content);
    fs.writeFileSync(path.join(dir, declarationName), text);
    return path.join(dir, declarationName);
  }

  test('is refused with one line naming the file and what is wrong', () => {
    const cases: [unknown, RegExp][] = [
      ['{"notebooks": ', /dependencies\.json: is not valid JSON/],
      [{ notebooks: [] }, /expected \{"notebooks": \{"NAME": \{"needs"/],
      [{ notebooks: { a: { needs: ['b'] } } }, /"a": expected \{"notebooks"/],
      [{ notebooks: { a: { needs: { b: '' } }, b: {} } }, /"a" needs "b": expected a reason/],
      [
        { notebooks: { a: { needs: { c: 'reads c.json' } }, b: {} } },
        /"a" needs "c", which is not a notebook declared there \(declared: a, b\)/,
      ],
      [{ notebooks: { a: { needs: { a: 'reads a' } } } }, /"a" needs itself/],
      [
        {
          notebooks: {
            a: { needs: { b: 'reads b' } },
            b: { needs: { c: 'reads c' } },
            c: { needs: { a: 'reads a' } },
          },
        },
        /a cycle of needs: a → b → c → a/,
      ],
    ];
    for (const [content, message] of cases) {
      const file = folder([], content);
      assert.throws(
        () => readDeclaration(file),
        (e: Error) => {
          assert.match(e.message, message);
          assert.ok(e.message.includes(path.relative(process.cwd(), file)), e.message);
          assert.equal(e.message.split('\n').length, 1);
          return true;
        },
      );
    }
  });

  test('a notebook on disk that it lacks, or one it names that is not there, stops the runner', () => {
    const lacking = folder(
      ['a.ipynb', 'solutions/a-solutions.ipynb', '.ipynb_checkpoints/a-checkpoint.ipynb'],
      {
        notebooks: { a: {} },
      },
    );
    const declarations = new Declarations();
    assert.throws(
      () => declarations.lookup(path.join(path.dirname(lacking), 'a.ipynb')),
      /solutions\/a-solutions\.ipynb is not declared: add "solutions\/a-solutions": \{\} to "notebooks"/,
    );
    const extra = folder(['a.ipynb'], { notebooks: { a: {}, b: { needs: { a: 'reads a' } } } });
    assert.throws(
      () => new Declarations().lookup(path.join(path.dirname(extra), 'a.ipynb')),
      /declares "b", but there is no .*case-\d+\/b\.ipynb/,
    );
  });
});

describe('planJobs', () => {
  const declarations = new Declarations();
  const lookup = (file: string) => declarations.lookup(file);
  const nb = (name: string) => path.join(notebooksDir, `${name}.ipynb`);
  const byId = (jobs: Job[]) => new Map(jobs.map((j) => [j.id, j]));

  test('orders a selection by what it needs and adds nothing to it', () => {
    const jobs = planJobs(
      [nb('04-analyse-confusions'), nb('01-explore-data'), nb('03-train')],
      lookup,
    );
    assert.deepEqual(
      jobs.map((j) => j.id),
      ['01-explore-data', '03-train', '04-analyse-confusions'],
    );
    assert.deepEqual(byId(jobs).get('04-analyse-confusions')?.needs, ['03-train']);
    assert.equal(jobs[2].file, nb('04-analyse-confusions'));
    const alone = planJobs([nb('04-analyse-confusions')], lookup);
    assert.deepEqual(
      alone.map((j) => [j.id, j.needs, j.after]),
      [['04-analyse-confusions', [], []]],
    );
  });

  test('the whole set: teaching order kept, the model readers need 03', () => {
    const files = notebooksOnDisk(notebooksDir).map(nb);
    const jobs = planJobs(files, lookup);
    assert.deepEqual(
      jobs.map((j) => j.file),
      files,
      'the declared needs all point backwards, so the order stays',
    );
    const needers = jobs.filter((j) => j.needs.length > 0).map((j) => j.id);
    assert.deepEqual(needers, [
      '04-analyse-confusions',
      '07-beyond-the-mlp',
      '06-fashion-mnist-solutions',
    ]);
    for (const j of jobs) assert.deepEqual(j.after, [], `${j.id} waits without needing`);
  });

  test('notebooks that need one that is left out run one after the other', () => {
    const jobs = byId(
      planJobs([nb('07-beyond-the-mlp'), nb('04-analyse-confusions'), nb('05-break-it')], lookup),
    );
    assert.deepEqual(jobs.get('07-beyond-the-mlp')?.after, []);
    assert.deepEqual(jobs.get('04-analyse-confusions')?.after, ['07-beyond-the-mlp']);
    assert.deepEqual(jobs.get('05-break-it')?.after, []);
    for (const j of jobs.values()) assert.deepEqual(j.needs, []);
  });

  test('notebooks no declaration covers run in the order given, after one another', () => {
    const files = ['throws', 'display', 'slow'].map((f) => path.join(fixtures, `${f}.ipynb`));
    const jobs = planJobs([...files, nb('02-build-mlp')], lookup);
    assert.deepEqual(
      jobs.map((j) => [j.id, j.after]),
      [
        ['throws', []],
        ['display', ['throws']],
        ['slow', ['display']],
        ['02-build-mlp', []],
      ],
    );
  });
});

/** A job's run as the scheduler sees it: started, then ended when the test says so. */
class Runs {
  readonly started: string[] = [];
  readonly signals = new Map<string, AbortSignal>();
  private readonly pending = new Map<string, (outcome: RunOutcome | Error) => void>();
  maxAtOnce = 0;
  private waiters: (() => void)[] = [];

  readonly run = (job: Job, signal: AbortSignal): Promise<RunOutcome> => {
    this.started.push(job.id);
    this.signals.set(job.id, signal);
    this.maxAtOnce = Math.max(this.maxAtOnce, this.pending.size + 1);
    const done = new Promise<RunOutcome>((resolve, reject) =>
      this.pending.set(job.id, (o) => (o instanceof Error ? reject(o) : resolve(o))),
    );
    signal.addEventListener('abort', () => this.end(job.id, 'interrupted'));
    this.waiters.splice(0).forEach((w) => w());
    return done;
  };

  get running(): string[] {
    return [...this.pending.keys()];
  }

  end(id: string, outcome: RunOutcome | Error): void {
    const finish = this.pending.get(id);
    if (!finish) return;
    this.pending.delete(id);
    finish(outcome);
  }

  /** Resolves once the scheduler has started `ids` (and, given the event loop, nothing it could start besides). */
  async until(ids: string[]): Promise<void> {
    while (!ids.every((id) => this.started.includes(id)))
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    await new Promise((resolve) => setImmediate(resolve));
  }
}

const job = (id: string, needs: string[] = [], after: string[] = []): Job => ({
  id,
  file: `${id}.ipynb`,
  needs,
  after,
});

function schedule(plan: Job[], runs: Runs, jobs: number, keepGoing = false, signal?: AbortSignal) {
  const skipped: string[] = [];
  const results = runJobs(plan, {
    jobs,
    keepGoing,
    signal: signal ?? new AbortController().signal,
    run: runs.run,
    onSkip: (j, reason) => skipped.push(`${j.id}: ${reason}`),
  });
  return { results, skipped };
}

const statuses = (results: Map<string, JobResult>) =>
  Object.fromEntries(
    [...results].map(([id, r]) => [id, r.reason ? `${r.status}: ${r.reason}` : r.status]),
  );

describe('runJobs', () => {
  const plan = [job('01'), job('02'), job('03'), job('04', ['03']), job('05'), job('07', ['03'])];

  test('one job at a time runs them in plan order', async () => {
    const runs = new Runs();
    const { results } = schedule(plan, runs, 1);
    for (const j of plan) {
      await runs.until([j.id]);
      assert.deepEqual(runs.running, [j.id]);
      runs.end(j.id, 'passed');
    }
    assert.deepEqual(runs.started, ['01', '02', '03', '04', '05', '07']);
    assert.ok([...(await results).values()].every((r) => r.status === 'passed'));
  });

  test('two at a time: never more, and a job starts only when what it needs has passed', async () => {
    const runs = new Runs();
    const { results } = schedule(plan, runs, 2);
    await runs.until(['01', '02']);
    assert.deepEqual(runs.running, ['01', '02']);
    runs.end('02', 'passed');
    await runs.until(['03']);
    assert.deepEqual(runs.running, ['01', '03']);
    runs.end('03', 'passed');
    await runs.until(['04']);
    assert.deepEqual(runs.running, ['01', '04'], '04 was next in order and 03 has passed');
    runs.end('01', 'passed');
    await runs.until(['05']);
    runs.end('04', 'passed');
    await runs.until(['07']);
    runs.end('05', 'passed');
    runs.end('07', 'passed');
    assert.deepEqual(statuses(await results), {
      '01': 'passed',
      '02': 'passed',
      '03': 'passed',
      '04': 'passed',
      '05': 'passed',
      '07': 'passed',
    });
    assert.equal(runs.maxAtOnce, 2);
  });

  test('a job waits for the jobs it is after, whatever their result, and is not skipped', async () => {
    const runs = new Runs();
    const { results } = schedule([job('07'), job('04', [], ['07'])], runs, 2, true);
    await runs.until(['07']);
    assert.deepEqual(runs.running, ['07']);
    runs.end('07', 'failed');
    await runs.until(['04']);
    runs.end('04', 'passed');
    assert.deepEqual(statuses(await results), { '07': 'failed', '04': 'passed' });
  });

  test('after a failure: no new start, running jobs finish, dependants skipped as "needs"', async () => {
    const runs = new Runs();
    const { results, skipped } = schedule(plan, runs, 2);
    await runs.until(['01', '02']);
    runs.end('02', 'passed');
    await runs.until(['03']);
    runs.end('03', 'failed');
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(runs.running, ['01'], 'nothing started after the failure');
    assert.equal(runs.signals.get('01')?.aborted, false, 'the running job is not stopped');
    runs.end('01', 'passed');
    assert.deepEqual(statuses(await results), {
      '01': 'passed',
      '02': 'passed',
      '03': 'failed',
      '04': 'skipped: needs 03',
      '05': 'skipped: not started after 03 failed',
      '07': 'skipped: needs 03',
    });
    assert.deepEqual(skipped.sort(), [
      '04: needs 03',
      '05: not started after 03 failed',
      '07: needs 03',
    ]);
  });

  test('--keep-going: the rest runs, except what needs the failed job (transitively)', async () => {
    const runs = new Runs();
    const chain = [job('03'), job('04', ['03']), job('08', ['03', '04']), job('05')];
    const { results, skipped } = schedule(chain, runs, 2, true);
    await runs.until(['03', '05']);
    runs.end('03', 'failed');
    runs.end('05', 'passed');
    assert.deepEqual(statuses(await results), {
      '03': 'failed',
      '04': 'skipped: needs 03',
      '08': 'skipped: needs 03',
      '05': 'passed',
    });
    assert.deepEqual(skipped, ['04: needs 03', '08: needs 03']);
    assert.deepEqual(runs.started, ['03', '05']);
  });

  test('an abort (Ctrl-C) stops every running job and starts no other', async () => {
    const runs = new Runs();
    const controller = new AbortController();
    const { results } = schedule(plan, runs, 2, true, controller.signal);
    await runs.until(['01', '02']);
    controller.abort();
    assert.deepEqual(statuses(await results), {
      '01': 'interrupted',
      '02': 'interrupted',
      '03': 'skipped: interrupted before it started',
      '04': 'skipped: interrupted before it started',
      '05': 'skipped: interrupted before it started',
      '07': 'skipped: interrupted before it started',
    });
    assert.equal(runs.signals.get('01')?.aborted, true);
    assert.equal(runs.signals.get('02')?.aborted, true);
  });

  test('a run that throws stops the others, and its error comes out once they ended', async () => {
    const runs = new Runs();
    const { results } = schedule(plan, runs, 2, true);
    await runs.until(['01', '02']);
    runs.end('01', new Error('nbclient is not installed'));
    await assert.rejects(results, /nbclient is not installed/);
    assert.equal(runs.signals.get('02')?.aborted, true);
    assert.deepEqual(runs.started, ['01', '02']);
  });
});

describe('the heartbeat line', () => {
  test('names each running notebook, its cell, and how far the run is', () => {
    assert.equal(clock(0), '0:00');
    assert.equal(clock(130_400), '2:10');
    assert.equal(clock(3_725_000), '1:02:05');
    assert.equal(
      heartbeatLine(
        [
          { name: '05-break-it', cell: 'cell 14/40', cellMs: 45_000 },
          { name: '07-beyond-the-mlp' },
          { name: '03-train', cell: 'starting', cellMs: 5_900 },
        ],
        130_000,
        3,
        14,
      ),
      'running: 05-break-it (cell 14/40 for 0:45), 07-beyond-the-mlp (between cells), ' +
        '03-train (starting for 0:05); 2:10 elapsed, 3 of 14 done',
    );
  });
});

describe('engineThreads', () => {
  test('shares the cores between the kernels, leaves a user setting and serial runs alone', () => {
    assert.equal(engineThreads({}, 2, 2), '1');
    assert.equal(engineThreads({}, 2, 16), '8');
    assert.equal(engineThreads({}, 3, 8), '2');
    assert.equal(engineThreads({}, 4, 2), '1', 'never fewer than one thread');
    assert.equal(engineThreads({}, 1, 8), undefined, 'one at a time: the engine default');
    assert.equal(engineThreads({ MNIST_ENGINE_THREADS: '3' }, 2, 8), undefined, 'the user chose');
  });
});

describe('compareRuns (scripts/notebooks/compare-runs.ts)', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nb-compare-'));
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  /** An executed notebook in `dir` whose one code cell printed `text`. */
  function executed(dir: string, text: string): void {
    fs.mkdirSync(dir, { recursive: true });
    const outputs = [{ output_type: 'stream', name: 'stdout', text: [text] }];
    const cells = [{ cell_type: 'code', source: 'train()', outputs }];
    fs.writeFileSync(path.join(dir, '03-train.ipynb'), JSON.stringify({ cells }));
  }

  test('ignores durations, dates, engine threads and each run folder; finds a changed digit', () => {
    const [a, b, c] = ['a', 'b', 'c'].map((d) => path.join(tmp, d));
    executed(
      a,
      `wasm, 2 threads; epoch 1: accuracy 97.51% in 12.3 s (0:45), saved ${a}/model 2026-11-30T06:45:11Z\n`,
    );
    executed(
      b,
      `wasm, 1 thread; epoch 1: accuracy 97.51% in 9.0 s (1:02), saved ${b}/model 2026-11-30T07:01:02Z\n`,
    );
    executed(
      c,
      `wasm, 2 threads; epoch 1: accuracy 97.52% in 12.3 s (0:45), saved ${c}/model 2026-11-30T06:45:11Z\n`,
    );
    assert.deepEqual(compareRuns(a, b), []);
    const found = compareRuns(a, c);
    assert.equal(found.length, 1);
    assert.equal(found[0].where, '03-train.ipynb, code cell 1, output 1 (stream stdout)');
    assert.match(found[0].detail, /97\.51% .* against .*97\.52%/);
  });
});
