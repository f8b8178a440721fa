// Every script follows one CLI convention: a bad option is one stderr line "error: …" naming it and what is allowed, exit 2; --help loads no TensorFlow.js.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { editDistance, nearest, parseCli } from '../../scripts/shared/options.js';
import { ConfigError } from '../../lib/core/errors.js';
import { SOURCES } from '../../lib/data/fetch.js';
import { root, runScript, type ScriptRun } from '../support/run-script.js';
import { missingJupyterTools, toolsPresent } from '../support/system-tools.js';

const traceHook = path.join(root, 'tests', 'support', 'fixtures', 'cli', 'trace-tf.mjs');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-convention-'));

interface Run extends ScriptRun {
  /** @tensorflow/* modules the process imported. */
  tensorflow: string[];
}

let runs = 0;
async function run(script: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  const trace = path.join(tmp, `trace-${++runs}`);
  const r = await runScript(script, args, {
    env: { MNIST_TRACE_TF: trace, ...env },
    nodeArgs: ['--import', traceHook],
    killAfterMs: 60_000,
  });
  const tensorflow = fs.existsSync(trace) ? fs.readFileSync(trace, 'utf8').trim().split('\n') : [];
  return { ...r, tensorflow };
}

/** Runs jobs a few at a time: the table is long and each case is a fresh Node process. */
async function pool<T, R>(
  items: readonly T[],
  width: number,
  job: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) {
        const i = next++;
        results[i] = await job(items[i]);
      }
    }),
  );
  return results;
}

function readCmdline(pid: string): string {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return '';
  }
}

const fetchNames = Object.keys(SOURCES).join(' or ');

/** [script, arguments, the one stderr line (exact string or pattern)]; every case exits with status 2. */
const BAD: Array<[string, string[], string | RegExp]> = [
  [
    'train',
    ['--lr', '0.1'],
    'error: --lr: unknown option; did you mean --learning-rate? (see --help)',
  ],
  [
    'train',
    ['--epoch', '3'],
    'error: --epoch: unknown option; did you mean --epochs? (see --help)',
  ],
  ['train', ['--epochs', '0'], 'error: --epochs: expected an integer from 1 to 10000, got "0"'],
  ['train', ['--epochs'], 'error: --epochs: expects an integer from 1 to 10000'],
  [
    'train',
    ['--engine', 'gpu'],
    'error: --engine: unknown engine "gpu"; expected one of auto, tensorflow, wasm, cpu',
  ],
  ['train', ['--json=yes'], 'error: --json: takes no value, got "yes"'],
  [
    'train',
    ['mnist'],
    'error: arguments: unexpected "mnist"; expected no arguments besides options',
  ],
  [
    'train',
    ['--model', 'rnn'],
    'error: --model: unknown value "rnn" (did you mean cnn?); expected one of mlp, cnn',
  ],
  [
    'train',
    ['--model', 'cnn', '--hidden', '64'],
    'error: --hidden: shapes the MLP only; the CNN takes --filters, --kernel-size, --dense-units and --dropout (see --help)',
  ],
  [
    'train',
    ['--filters', '16,32'],
    'error: --filters: shapes the CNN only; add --model cnn, or leave it out for the MLP',
  ],
  [
    'train',
    ['--model', 'cnn', '--kernel-size', '0'],
    'error: --kernel-size: expected an integer from 1 to 28, got "0"',
  ],
  [
    'train',
    ['--model', 'cnn', '--filters', '8,8,8,8'],
    'error: --filters: 4 conv blocks with 3×3 kernels shrink a 28×28 image to nothing; use fewer blocks or a smaller kernel',
  ],
  [
    'bench',
    ['--engines', 'foo'],
    'error: --engines: unknown value "foo"; expected a comma-separated list of tensorflow, wasm, cpu, pytorch',
  ],
  [
    'bench',
    ['--engines', 'wasm,wsam'],
    'error: --engines: unknown value "wsam" (did you mean wasm?); expected a comma-separated list of tensorflow, wasm, cpu, pytorch',
  ],
  [
    'bench',
    ['--epoch', '2'],
    'error: --epoch: unknown option; did you mean --epochs? (see --help)',
  ],
  [
    'bench',
    ['--model', 'rnn'],
    'error: --model: unknown value "rnn" (did you mean cnn?); expected one of mlp, cnn',
  ],
  ['bench', ['--epochs', '-1'], 'error: --epochs: expected an integer from 1 to 1000, got "-1"'],
  [
    'engine',
    ['nativ'],
    'error: arguments: unknown argument "nativ" (did you mean native?); expected one action (status, native, gpu)',
  ],
  ['engine', ['--gpu'], 'error: --gpu: unknown option; expected one of --help'],
  ['notebooks', ['--quik'], 'error: --quik: unknown option; did you mean --quick? (see --help)'],
  [
    'notebooks',
    ['--timeout', 'soon'],
    'error: --timeout: expected an integer from 0 to 1000000 (0 = no limit), got "soon"',
  ],
  ['notebooks', ['--out-dir'], 'error: --out-dir: expects a folder'],
  [
    'notebooks',
    ['no-such-notebook'],
    /^error: notebook: unknown notebook "no-such-notebook"; available in notebooks\/: 01-explore-data\.ipynb, /,
  ],
  [
    'fetch-data',
    ['fashion-mnist', '--foo'],
    'error: --foo: unknown option; expected one of --dir, --base-url, --help',
  ],
  ['fetch-data', [], `error: arguments: missing; expected one dataset name (${fetchNames})`],
  [
    'fetch-data',
    ['fashion-mnst'],
    `error: arguments: unknown argument "fashion-mnst" (did you mean fashion-mnist?); expected one dataset name (${fetchNames})`,
  ],
  [
    'fetch-data',
    ['mnist', 'fashion-mnist'],
    `error: arguments: unexpected "fashion-mnist"; expected one dataset name (${fetchNames})`,
  ],
  [
    'demo',
    ['--port', '70000'],
    'error: --port: expected an integer from 0 to 65535 (0 picks a free port), got "70000"',
  ],
  [
    'demo',
    ['--modle', 'mlp'],
    'error: --modle: unknown option; did you mean --model? (see --help)',
  ],
  [
    'jupyter',
    ['--prot', '9999'],
    'error: --prot: unknown option; did you mean --port? (see --help)',
  ],
  [
    'jupyter',
    ['--port', 'abc'],
    'error: --port: expected an integer from 0 to 65535 (0 picks a free port), got "abc"',
  ],
  ['jupyter', ['--lab', '--notebook'], 'error: --lab: and --notebook exclude each other; pick one'],
  [
    'jupyter',
    ['--browser'],
    'error: --browser: unknown option; expected one of --lab, --notebook, --yes, --port, --no-browser, --quick, --notebook-dir, --help',
  ],
  // A DIR under tmp that is never created: each of these must stop before writing anything.
  [
    'student-copies',
    [path.join(tmp, 'copies'), '--forse'],
    'error: --forse: unknown option; did you mean --force? (see --help)',
  ],
  [
    'student-copies',
    [path.join(tmp, 'copies'), '--out', 'x'],
    'error: --out: unknown option; expected one of --force, --help',
  ],
  [
    'student-copies',
    ['--force=yes', path.join(tmp, 'copies')],
    'error: --force: takes no value, got "yes"',
  ],
  [
    'student-copies',
    [],
    'error: arguments: missing; expected one folder DIR to write the copies into (see --help)',
  ],
  [
    'student-copies',
    ['notebooks'],
    `error: DIR: ${path.join(root, 'notebooks')} holds the project's own notebooks; choose another folder`,
  ],
];

/**
 * Every command-line script, found by what makes one (it parses with parseCli and answers
 * through runMain), so that a new script is held to the convention without being listed here.
 */
function cliScripts(dir = path.join(root, 'scripts')): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) return cliScripts(file);
    if (!entry.name.endsWith('.ts')) return [];
    const text = fs.readFileSync(file, 'utf8');
    // A call, not the definition in the options module.
    if (!/(?<!function )\brunMain\(/.test(text) || !/\bparseCli\(/.test(text)) return [];
    return [path.relative(root, file)];
  });
}
const SCRIPTS = cliScripts();

describe('CLI convention', () => {
  it(
    'bad options: one stderr line naming the option and what is allowed, nothing on stdout, exit 2',
    { timeout: 600_000 },
    async () => {
      const results = await pool(BAD, 3, ([script, args]) => run(script, args));
      assert.equal(
        fs.existsSync(path.join(tmp, 'copies')),
        false,
        'student-copies wrote despite a bad argument',
      );
      for (const [i, [script, args, expected]] of BAD.entries()) {
        const r = results[i];
        const label = `${script} ${args.join(' ')}`;
        assert.equal(r.code, 2, `${label}: exit ${r.code}\n${r.stderr}`);
        assert.equal(r.stdout, '', `${label}: wrote to stdout`);
        const lines = r.stderr.trimEnd().split('\n');
        assert.equal(lines.length, 1, `${label}: stderr is not one line:\n${r.stderr}`);
        if (typeof expected === 'string') assert.equal(lines[0], expected, label);
        else assert.match(lines[0], expected, label);
      }
    },
  );

  it(
    'unknown options (and train options of the other model) are rejected before TensorFlow.js loads',
    { timeout: 300_000 },
    async () => {
      const cases = BAD.filter(
        ([, , line]) =>
          typeof line === 'string' &&
          (line.includes('unknown option') ||
            line.includes(' only; ') ||
            line.includes('unknown value')),
      );
      const results = await pool(cases, 3, ([script, args]) => run(script, args));
      for (const [i, [script, args]] of cases.entries())
        assert.deepEqual(results[i].tensorflow, [], `${script} ${args.join(' ')}`);
    },
  );

  it(
    '--help (and -h): usage on stdout, exit 0, and no TensorFlow.js loaded',
    { timeout: 300_000 },
    async () => {
      const cases = SCRIPTS.flatMap(
        (s) =>
          [
            [s, '--help'],
            [s, '-h'],
          ] as const,
      );
      const results = await pool(cases, 3, ([script, flag]) => run(script, [flag]));
      assert.ok(SCRIPTS.length >= 12, `only ${SCRIPTS.join(', ')}`);
      for (const [i, [script, flag]] of cases.entries()) {
        const r = results[i];
        assert.equal(r.code, 0, `${script} ${flag}: exit ${r.code}\n${r.stderr}`);
        assert.match(r.stdout, /^Usage: (npm run|(npx )?tsx scripts\/)/, `${script} ${flag}`);
        assert.equal(r.stderr, '', `${script} ${flag}: wrote to stderr`);
        assert.deepEqual(r.tensorflow, [], `${script} ${flag} imported TensorFlow.js`);
      }
      // Positive control for the tracer: a value check in train does load TensorFlow.js (the model code validates it).
      const traced = await run('train', ['--epochs', '0']);
      assert.ok(traced.tensorflow.includes('@tensorflow/tfjs'), 'the import tracer saw nothing');
    },
  );

  it('--help lists every option the script accepts', { timeout: 300_000 }, async () => {
    // An option no script has: the error then lists every option the parser accepts.
    const results = await pool(SCRIPTS, 3, async (script) => ({
      help: (await run(script, ['--help'])).stdout,
      refused: (await run(script, ['--zz-no-such-option'])).stderr,
    }));
    for (const [i, script] of SCRIPTS.entries()) {
      const { help, refused } = results[i];
      const listed = /expected one of (.*)$/m.exec(refused)?.[1];
      assert.ok(listed, `${script}: ${refused}`);
      for (const option of listed.split(', '))
        assert.match(
          help,
          new RegExp(`^  (-\\w, )?${option}\\b`, 'm'),
          `${script} --help: ${option}`,
        );
    }
  });

  it(
    'jupyter: without a Python to set up .venv/, one line saying what to install, exit 2, nothing written',
    { timeout: 60_000 },
    async () => {
      const jupyterDir = path.join(tmp, 'jupyter-home');
      const venv = path.join(tmp, 'no-venv');
      const r = await run('jupyter', ['--no-browser'], {
        MNIST_NB_VENV: venv,
        MNIST_NB_BASE_PYTHON: path.join(tmp, 'no-such-python'),
        MNIST_NB_JUPYTER_DIR: jupyterDir,
      });
      assert.equal(r.code, 2, r.stderr);
      const lines = r.stderr.trimEnd().split('\n');
      assert.equal(lines.length, 1, r.stderr);
      assert.match(
        lines[0],
        /^error: Python 3\.\d+ or newer is needed for Jupyter; none found \(tried .*no-such-python\): install it from python\.org/,
      );
      for (const dir of [jupyterDir, venv])
        assert.equal(fs.existsSync(dir), false, `${dir} was written although nothing can start`);
    },
  );

  it(
    'jupyter: a port already taken is one line naming --port, exit 2, no server left behind',
    { timeout: 120_000 },
    async (t) => {
      if (!toolsPresent(t, missingJupyterTools())) return;
      // A listener that accepts connections and never answers: the worst case for the readiness poll.
      const holder = net.createServer(() => undefined);
      await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', () => resolve()));
      const port = (holder.address() as net.AddressInfo).port;
      try {
        const r = await run('jupyter', ['--notebook', '--no-browser', '--port', String(port)]);
        assert.equal(r.code, 2, r.stderr);
        const errors = r.stderr.split('\n').filter((l) => l.startsWith('error: '));
        assert.deepEqual(errors, [
          `error: --port: port ${port} on 127.0.0.1 is already in use; pick another with --port N, or --port 0 for a free one`,
        ]);
        const left = fs
          .readdirSync('/proc')
          .filter((p) => /^\d+$/.test(p) && readCmdline(p).includes(`--port=${port} `));
        assert.deepEqual(left, [], 'the Jupyter server outlived the command');
      } finally {
        holder.close();
      }
    },
  );
});

describe('parseCli and nearest', () => {
  const table = {
    port: { type: 'string' },
    'learning-rate': { type: 'string' },
    quick: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  } as const;

  it('suggests by spelling, prefix and initials, and nothing for a far miss', () => {
    assert.equal(nearest('lr', ['learning-rate', 'l2', 'epochs']), 'learning-rate');
    assert.equal(nearest('epoch', ['epochs', 'engine']), 'epochs');
    assert.equal(nearest('learn', ['learning-rate', 'l2']), 'learning-rate');
    assert.equal(nearest('prot', ['port', 'model']), 'port');
    assert.equal(nearest('zzz', ['port', 'model']), undefined);
    assert.equal(editDistance('kitten', 'sitting'), 3);
  });

  it('parses values, negative numbers, -h and the -- separator', () => {
    const r = parseCli(['--port', '-1', '-h', '--quick', '--', '--x'], table, {
      min: 0,
      max: 1,
      describe: 'one thing',
    });
    assert.deepEqual(r.values, { port: '-1', help: true, quick: true });
    assert.deepEqual(r.positionals, ['--x']);
  });

  it('throws ConfigError with one line for every kind of mistake', () => {
    const cases: Array<[string[], string]> = [
      [['-x'], '-x: unknown option; expected one of --port, --learning-rate, --quick, --help'],
      [['--port'], '--port: expects a value'],
      [['--port', '--quick'], '--port: expects a value, but is followed by the option --quick'],
      [['--quick=no'], '--quick: takes no value, got "no"'],
      [['a'], 'arguments: unexpected "a"; expected no arguments besides options'],
    ];
    for (const [args, message] of cases) {
      assert.throws(
        () => parseCli(args, table),
        (e: unknown) => e instanceof ConfigError && e.message === message,
        args.join(' '),
      );
    }
  });
});

process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));
