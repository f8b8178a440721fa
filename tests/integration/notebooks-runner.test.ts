// Tests for `npm run notebooks` (scripts/notebooks/notebooks.ts + nbrun.py), doubling as a smoke test of the tslab kernel protocol.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { joined, readCells } from '../support/ipynb.js';
import { root, runScript, type ScriptRun } from '../support/run-script.js';

const fixtures = path.join(root, 'tests', 'support', 'fixtures', 'notebooks');
const testTimeout = { timeout: 180_000 };

/** Runs the CLI; `whenStderr` lets a test act (e.g. send a signal) once stderr matches a pattern. */
function runCli(
  args: string[],
  env: NodeJS.ProcessEnv = {},
  whenStderr?: { pattern: RegExp; then: (pid: number, stderr: string) => void },
): Promise<ScriptRun> {
  let fired = false;
  return runScript('notebooks', ['--no-build', ...args], {
    env,
    onStderr: (stderr, child) => {
      if (whenStderr && !fired && whenStderr.pattern.test(stderr)) {
        fired = true;
        whenStderr.then(child.pid!, stderr);
      }
    },
  });
}

function sha256(file: string): string {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

/** Every entry under `dir`, relative, so a test can assert that no temporary file was left behind. */
function listTree(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { recursive: true, encoding: 'utf8' }).sort();
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('npm run notebooks', () => {
  let tmp: string;
  const fixtureHashes = new Map<string, string>();

  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nb-runner-'));
    for (const f of fs.readdirSync(fixtures)) fixtureHashes.set(f, sha256(path.join(fixtures, f)));
  });

  after(() => {
    // The fixtures are inputs only: no run may have rewritten them.
    for (const [f, hash] of fixtureHashes)
      assert.equal(sha256(path.join(fixtures, f)), hash, `fixture ${f} was modified`);
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  /** A fresh folder with copies of the named fixtures in nb/, and figures/ beside it. */
  function workspace(label: string, names: string[]): { dir: string; nb: string; figures: string } {
    const dir = fs.mkdtempSync(path.join(tmp, `${label}-`));
    const nb = path.join(dir, 'nb');
    fs.mkdirSync(nb);
    for (const n of names) fs.copyFileSync(path.join(fixtures, n), path.join(nb, n));
    return { dir, nb, figures: path.join(dir, 'figures') };
  }

  test(
    'runs a notebook in place: stdout, display_data, figures swapped in, stable JSON',
    testTimeout,
    async () => {
      const ws = workspace('pass', ['display.ipynb']);
      fs.mkdirSync(path.join(ws.figures, 'display'), { recursive: true });
      fs.writeFileSync(path.join(ws.figures, 'display', 'stale.png'), 'from an older run');
      const file = path.join(ws.nb, 'display.ipynb');

      const r = await runCli(['--figures-dir', ws.figures, file]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /\n1 passed, 0 failed\n$/);
      assert.match(r.stdout, /display\.ipynb\s+passed\s+[\d.]+\s+1\n/);
      assert.match(r.stderr, /\[display\] cell 5\/5 ok/);

      const text = fs.readFileSync(file, 'utf8');
      assert.equal(
        text,
        JSON.stringify(JSON.parse(text), null, 1) + '\n',
        'notebook JSON is not in nbformat stable form',
      );
      const code = readCells(file).filter((c) => c.cell_type === 'code');
      const streams = code.map((c) =>
        (c.outputs ?? [])
          .filter((o) => o.output_type === 'stream')
          .map((o) => joined(o.text))
          .join(''),
      );
      assert.equal(streams[0], 'hello from tslab\n');
      assert.deepEqual(JSON.parse(streams[1]), {
        static: '1',
        notebook: 'display',
        quick: 'unset',
        cwd: 'nb',
      });
      assert.equal(streams[4], '42\n', 'the last expression value prints as stdout');
      const display = code[2].outputs?.find((o) => o.output_type === 'display_data');
      const png = Buffer.from(joined(display?.data?.['image/png']), 'base64');
      assert.deepEqual([...png.subarray(1, 4)], [...Buffer.from('PNG')]);
      for (const c of code)
        assert.equal(c.metadata.execution, undefined, 'per-run timing metadata was kept');

      assert.deepEqual(listTree(ws.figures), [
        'display',
        path.join('display', 'tiny.html'),
        path.join('display', 'tiny.png'),
        'plotly.min.js',
      ]);
      assert.deepEqual(fs.readFileSync(path.join(ws.figures, 'display', 'tiny.png')), png);
      // The figure page loads the one shared plotly.js beside the notebook folders instead of carrying its own.
      const page = fs.readFileSync(path.join(ws.figures, 'display', 'tiny.html'), 'utf8');
      assert.match(page, /<script src="\.\.\/plotly\.min\.js"><\/script>/);
      assert.match(
        fs.readFileSync(path.join(ws.figures, 'plotly.min.js'), 'utf8').slice(0, 100),
        /plotly\.js v4\./,
      );
      assert.deepEqual(listTree(ws.nb), ['display.ipynb']);
    },
  );

  test(
    '--out-dir leaves the source alone and writes identical bytes on every run',
    testTimeout,
    async () => {
      const ws = workspace('outdir', []);
      const source = path.join(fixtures, 'display.ipynb');
      const outs = [path.join(ws.dir, 'out1'), path.join(ws.dir, 'out2')];
      for (const out of outs) {
        // With --quick too: an explicit --out-dir wins over the quick run's scratch folder.
        const r = await runCli(['--quick', '--out-dir', out, source]);
        assert.equal(r.code, 0, r.stderr);
      }
      const [a, b] = outs.map((o) => fs.readFileSync(path.join(o, 'display.ipynb')));
      assert.ok(a.equals(b), 'two runs of the same notebook differ');
      // The fixture has no cell ids: the runner must add stable ones, not nbformat's random ones.
      for (const c of readCells(path.join(outs[0], 'display.ipynb')))
        assert.match(c.id ?? '', /^[0-9a-f]{8}$/);
      assert.notEqual(
        sha256(path.join(outs[0], 'display.ipynb')),
        fixtureHashes.get('display.ipynb'),
      );
      assert.ok(fs.existsSync(path.join(outs[0], 'figures', 'display', 'tiny.png')));
      const env = readCells(path.join(outs[0], 'display.ipynb')).filter(
        (c) => c.cell_type === 'code',
      )[1];
      assert.equal(
        JSON.parse(joined(env.outputs?.[0].text)).quick,
        '1',
        'MNIST_NB_QUICK=1 did not reach the kernel',
      );
    },
  );

  test(
    '--quick without --out-dir writes to test-output/quick/, never over the notebook it runs',
    testTimeout,
    async () => {
      const ws = workspace('quick', ['display.ipynb']);
      const file = path.join(ws.nb, 'display.ipynb');
      const before = sha256(file);
      const scratch = path.join(root, 'test-output', 'quick');
      fs.rmSync(path.join(scratch, 'display.ipynb'), { force: true });
      fs.rmSync(path.join(scratch, 'figures', 'display'), { recursive: true, force: true });
      const r = await runCli(['--quick', file]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /quick run: writing notebooks and figures to .*test-output\/quick\//);
      assert.equal(sha256(file), before, 'the quick run rewrote the notebook it ran');
      assert.deepEqual(listTree(ws.nb), ['display.ipynb']);
      assert.equal(fs.existsSync(ws.figures), false, 'figures were written beside the source');
      const env = readCells(path.join(scratch, 'display.ipynb')).filter(
        (c) => c.cell_type === 'code',
      )[1];
      assert.equal(JSON.parse(joined(env.outputs?.[0].text)).quick, '1');
      assert.ok(fs.existsSync(path.join(scratch, 'figures', 'display', 'tiny.png')));
    },
  );

  test(
    'a throwing cell fails the run with its source and real error text; nothing is replaced',
    testTimeout,
    async () => {
      const ws = workspace('throws', ['throws.ipynb', 'display.ipynb']);
      fs.mkdirSync(path.join(ws.figures, 'throws'), { recursive: true });
      fs.writeFileSync(path.join(ws.figures, 'throws', 'old.png'), 'committed figure');
      const failing = path.join(ws.nb, 'throws.ipynb');
      const before = fs.readFileSync(failing);

      const r = await runCli([
        '--keep-going',
        '--figures-dir',
        ws.figures,
        failing,
        path.join(ws.nb, 'display.ipynb'),
      ]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /FAILED .*throws\.ipynb: code cell 2 of 3 \(cell index 1\)/);
      assert.ok(
        r.stderr.includes('throw new Error(`deliberate failure: the answer is ${answer}`);'),
        'cell source missing',
      );
      // "42" is computed by the cell, so this text can only come from the kernel's real error.
      assert.ok(r.stderr.includes('Error: deliberate failure: the answer is 42'), r.stderr);
      assert.match(r.stdout, /throws\.ipynb\s+failed/);
      assert.match(
        r.stdout,
        /\n1 passed, 1 failed\n$/,
        '--keep-going should have run display.ipynb',
      );

      assert.ok(fs.readFileSync(failing).equals(before), 'the failed notebook was rewritten');
      assert.deepEqual(listTree(path.join(ws.figures, 'throws')), ['old.png']);
      assert.equal(
        fs.readFileSync(path.join(ws.figures, 'throws', 'old.png'), 'utf8'),
        'committed figure',
      );
      assert.deepEqual(listTree(ws.figures), [
        'display',
        path.join('display', 'tiny.html'),
        path.join('display', 'tiny.png'),
        'plotly.min.js',
        'throws',
        path.join('throws', 'old.png'),
      ]);
      assert.deepEqual(listTree(ws.nb), ['display.ipynb', 'throws.ipynb']);
    },
  );

  test(
    'a cell tslab aborts after an allowed error counts as failed; later notebooks are skipped',
    testTimeout,
    async () => {
      const ws = workspace('abort', []);
      // A stale kernel spec (as after moving the checkout) must be rewritten to this checkout's tslab.
      const jupyterDir = path.join(ws.dir, 'jupyter');
      const spec = path.join(jupyterDir, 'share', 'jupyter', 'kernels', 'tslab', 'kernel.json');
      fs.mkdirSync(path.dirname(spec), { recursive: true });
      fs.writeFileSync(
        spec,
        JSON.stringify({
          argv: ['/moved/away/tslab', 'kernel', '--config-path', '{connection_file}'],
          display_name: 'TypeScript',
          language: 'typescript',
        }),
      );
      const out = path.join(ws.dir, 'out');

      const r = await runCli(
        [
          '--out-dir',
          out,
          path.join(fixtures, 'abort.ipynb'),
          path.join(fixtures, 'display.ipynb'),
        ],
        {
          MNIST_NB_JUPYTER_DIR: jupyterDir,
        },
      );
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /wrote the tslab kernel spec/);
      assert.equal(
        (JSON.parse(fs.readFileSync(spec, 'utf8')) as { argv: string[] }).argv[0],
        path.join(root, 'node_modules', '.bin', 'tslab'),
      );
      assert.match(r.stderr, /\[abort\] cell 1\/2 error-allowed/);
      assert.match(
        r.stderr,
        /FAILED .*abort\.ipynb: code cell 2 of 2 \(cell index 1\): the kernel aborted the cell/,
      );
      assert.ok(r.stderr.includes("console.log('after the expected failure');"));
      assert.match(r.stdout, /display\.ipynb\s+skipped/);
      assert.match(r.stdout, /\n0 passed, 1 failed\n$/);
      assert.deepEqual(
        listTree(out).filter((f) => f.endsWith('.ipynb') || f.includes('.tmp-')),
        [],
      );
    },
  );

  test(
    'SIGTERM during a cell stops the kernel, removes temp files, exits 143',
    testTimeout,
    async () => {
      const ws = workspace('signal', []);
      const out = path.join(ws.dir, 'out');
      const r = await runCli(
        ['--verbose', '--out-dir', out, path.join(fixtures, 'slow.ipynb')],
        {},
        {
          pattern: /\[slow\] cell 1\/1 running/,
          then: (pid) => setTimeout(() => process.kill(pid, 'SIGTERM'), 300),
        },
      );
      assert.equal(r.code, 143, r.stderr);
      assert.match(r.stderr, /interrupted by SIGTERM/);
      const kernelPid = Number(/kernel pid (\d+)/.exec(r.stderr)?.[1]);
      assert.ok(kernelPid > 0, 'the verbose log names the kernel pid');
      assert.equal(isAlive(kernelPid), false, `kernel ${kernelPid} outlived the run`);
      assert.deepEqual(listTree(out), ['figures'], 'only the (empty) figures folder may remain');
    },
  );

  /** A one-cell-per-source notebook for the tslab kernel, written to `file`. */
  function writeNotebook(file: string, sources: string[]): void {
    const cells = sources.map((source, i) => ({
      cell_type: 'code',
      execution_count: null,
      id: `cell${i}`,
      metadata: {},
      outputs: [],
      source,
    }));
    const metadata = {
      kernelspec: { display_name: 'TypeScript', language: 'typescript', name: 'tslab' },
    };
    fs.writeFileSync(file, JSON.stringify({ cells, metadata, nbformat: 4, nbformat_minor: 5 }));
  }

  function declare(dir: string, notebooks: Record<string, { needs?: Record<string, string> }>) {
    fs.writeFileSync(path.join(dir, 'dependencies.json'), JSON.stringify({ notebooks }));
  }

  test(
    '--jobs 2: independent notebooks start at once, a failure skips what needs it, engine threads shared',
    testTimeout,
    async () => {
      const ws = workspace('jobs', ['throws.ipynb', 'display.ipynb']);
      const threads = "console.log(process.env.MNIST_ENGINE_THREADS ?? 'unset');";
      writeNotebook(path.join(ws.nb, 'env.ipynb'), [threads]);
      declare(ws.nb, {
        throws: {},
        display: { needs: { throws: 'reads what throws writes' } },
        env: {},
      });
      const out = path.join(ws.dir, 'out');
      const files = ['display', 'env', 'throws'].map((n) => path.join(ws.nb, `${n}.ipynb`));
      const r = await runCli(['--jobs', '2', '--keep-going', '--out-dir', out, ...files], {
        MNIST_ENGINE_THREADS: undefined,
      });
      assert.equal(r.code, 1, r.stderr);
      // Ordered by the declaration: throws before display, though display was named first.
      const started = [...r.stderr.matchAll(/\[(\w+)\] starting /g)].map((m) => m[1]);
      assert.deepEqual(started, ['env', 'throws']);
      const firstResult = r.stderr.search(/\[\w+\] (passed in|FAILED)|\nFAILED /);
      assert.ok(
        r.stderr.indexOf('[throws] starting') < firstResult,
        'both independent notebooks started before either ended',
      );
      assert.match(r.stderr, /running up to 2 notebooks at once, MNIST_ENGINE_THREADS=\d+ each/);
      assert.match(r.stderr, /FAILED .*throws\.ipynb: code cell 2 of 3/);
      assert.match(r.stderr, /\n\[display\] skipped: needs throws\n/);
      assert.match(r.stderr, /\n\[env\] passed in [\d.]+ s, 0 figures\n/);
      for (const l of r.stderr.split('\n').filter((l) => /^\[\w+\]/.test(l)))
        assert.match(l, /^\[(env|throws|display)\] \S/, `a line of two notebooks mixed: ${l}`);
      assert.match(r.stdout, /display\.ipynb\s+skipped: needs throws\s+-\s+-\n/);
      assert.match(r.stdout, /\n1 passed, 1 failed\n$/);
      assert.deepEqual(
        listTree(out).filter((f) => f.endsWith('.ipynb')),
        ['env.ipynb'],
      );
      const shown = joined(readCells(path.join(out, 'env.ipynb'))[0].outputs?.[0].text);
      const expected = Math.max(1, Math.floor(os.availableParallelism() / 2));
      assert.equal(shown, `${expected}\n`, 'MNIST_ENGINE_THREADS in the kernel');
    },
  );

  test(
    'SIGTERM with two notebooks running stops both kernels and exits 143',
    testTimeout,
    async () => {
      const ws = workspace('jobs-signal', ['slow.ipynb']);
      fs.copyFileSync(path.join(ws.nb, 'slow.ipynb'), path.join(ws.nb, 'slow2.ipynb'));
      declare(ws.nb, { slow: {}, slow2: {} });
      const out = path.join(ws.dir, 'out');
      const both = /(?=[\s\S]*\[slow\] cell 1\/1 running)(?=[\s\S]*\[slow2\] cell 1\/1 running)/;
      const r = await runCli(
        [
          '--jobs',
          '2',
          '--verbose',
          '--out-dir',
          out,
          ws.nb + '/slow.ipynb',
          ws.nb + '/slow2.ipynb',
        ],
        {},
        { pattern: both, then: (pid) => setTimeout(() => process.kill(pid, 'SIGTERM'), 300) },
      );
      assert.equal(r.code, 143, r.stderr);
      assert.match(r.stderr, /interrupted by SIGTERM/);
      const pids = [...r.stderr.matchAll(/\[slow2?\] kernel pid (\d+)/g)].map((m) => Number(m[1]));
      assert.equal(pids.length, 2, 'the verbose log names both kernel pids');
      for (const pid of pids) assert.equal(isAlive(pid), false, `kernel ${pid} outlived the run`);
      assert.match(r.stdout, /slow\.ipynb\s+interrupted/);
      assert.match(r.stdout, /slow2\.ipynb\s+interrupted/);
      assert.deepEqual(listTree(out), ['figures'], 'only the (empty) figures folder may remain');
    },
  );

  test(
    'a notebook its folder does not declare stops the run before any kernel starts',
    testTimeout,
    async () => {
      const ws = workspace('undeclared', ['display.ipynb', 'throws.ipynb']);
      declare(ws.nb, { display: {} });
      const r = await runCli([path.join(ws.nb, 'display.ipynb')]);
      assert.equal(r.code, 2, r.stderr);
      assert.match(
        r.stderr,
        /^error: .*nb\/dependencies\.json: .*nb\/throws\.ipynb is not declared: add "throws": \{\}/,
      );
      assert.doesNotMatch(r.stderr, /starting|kernel/);
      assert.deepEqual(listTree(ws.nb), ['dependencies.json', 'display.ipynb', 'throws.ipynb']);
    },
  );

  test(
    'takeaway cells (only generated Markdown) are marked jupyter.source_hidden, others unmarked',
    testTimeout,
    async () => {
      const ws = workspace('prose', ['prose.ipynb']);
      const out = path.join(ws.dir, 'out');
      const r = await runCli([path.join(ws.nb, 'prose.ipynb'), '--out-dir', out]);
      assert.equal(r.code, 0, r.stderr);
      const code = readCells(path.join(out, 'prose.ipynb')).filter((c) => c.cell_type === 'code');
      const hidden = code.map(
        (c) =>
          (c.metadata.jupyter as { source_hidden?: boolean } | undefined)?.source_hidden ?? false,
      );
      // Markdown only; Markdown and stdout; stdout (hidden by hand before: the runner owns the flag); no output.
      assert.deepEqual(hidden, [true, false, false, false]);
      assert.deepEqual(
        code[2].metadata.jupyter,
        { outputs_hidden: false },
        'other jupyter metadata kept',
      );
      assert.equal(code[3].metadata.jupyter, undefined);
      assert.match(
        joined(code[0].outputs?.[0]?.data?.['text/markdown']),
        /\*\*25 %\*\* of the digits/,
      );
    },
  );

  test('a Python without nbclient gives an install hint and exit code 2', testTimeout, async () => {
    const ws = workspace('nopython', []);
    // -S hides Debian's dist-packages: a real Python that lacks the Jupyter modules.
    const fake = path.join(ws.dir, 'python-without-jupyter');
    fs.writeFileSync(fake, '#!/bin/sh\nexec /usr/bin/python3 -S "$@"\n', { mode: 0o755 });
    const r = await runCli(
      [path.join(fixtures, 'display.ipynb'), '--out-dir', path.join(ws.dir, 'out')],
      { MNIST_NB_PYTHON: fake },
    );
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /Jupyter's \w+ is not installed for .*python-without-jupyter/);
    assert.match(r.stderr, /npm run python-env sets up the project's own Jupyter in \.venv\//);
    assert.doesNotMatch(r.stderr, /Traceback|\n\s+at /);

    const missing = await runCli([path.join(fixtures, 'display.ipynb')], {
      MNIST_NB_PYTHON: path.join(ws.dir, 'no-such-python'),
    });
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /no-such-python does not exist/);
  });

  test('a missing tslab kernel gives a clear message and exit code 2', testTimeout, async () => {
    const ws = workspace('notslab', []);
    const r = await runCli(
      [path.join(fixtures, 'display.ipynb'), '--out-dir', path.join(ws.dir, 'out')],
      {
        MNIST_NB_JUPYTER_DIR: path.join(ws.dir, 'jupyter'),
        MNIST_NB_TSLAB: path.join(ws.dir, 'missing', 'tslab'),
      },
    );
    assert.equal(r.code, 2);
    assert.match(
      r.stderr,
      /the tslab kernel is not installed: .*missing\/tslab does not exist; run npm install/,
    );
    assert.doesNotMatch(r.stderr, /Traceback|\n\s+at /);
  });

  test('an unknown notebook name lists the available notebooks', testTimeout, async () => {
    const r = await runCli(['no-such-notebook']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown notebook "no-such-notebook"; available in notebooks\//);
    const nbDir = path.join(root, 'notebooks');
    const available = fs.existsSync(nbDir)
      ? fs.readdirSync(nbDir).filter((f) => f.endsWith('.ipynb'))
      : [];
    for (const name of available) assert.ok(r.stderr.includes(name), `${name} not listed`);
  });
});
