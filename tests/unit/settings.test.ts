// Tests for lib/core/settings.ts: validation of each kind, every MNIST_* name registered, docs/settings.md up to date.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError } from '../../lib/core/errors.js';
import { SETTINGS, setting, settingsMarkdown } from '../../lib/core/settings.js';
import { projectRoot } from '../../lib/core/paths.js';

const root = projectRoot();

/** The project's own text files under `dirs` (and the top-level files named), as [path, text]. */
function projectFiles(dirs: readonly string[], files: readonly string[]): [string, string][] {
  const out: [string, string][] = files.map((f) => [
    f,
    fs.readFileSync(path.join(root, f), 'utf8'),
  ]);
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(path.join(root, dir), { withFileTypes: true })) {
      const rel = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(rel);
      else if (/\.(ts|mjs|js|cjs|py|ipynb|json|md)$/.test(entry.name))
        out.push([rel, fs.readFileSync(path.join(root, rel), 'utf8')]);
    }
  };
  for (const dir of dirs) walk(dir);
  return out;
}

function rejects(name: keyof typeof SETTINGS, raw: string, message: string): void {
  assert.throws(
    () => setting(name, { [name]: raw }),
    (e: unknown) => e instanceof ConfigError && e.message === `${name}: ${message}`,
    `${name}=${raw}`,
  );
}

describe('setting', () => {
  it('reads flags as on/off and refuses anything else instead of guessing', () => {
    for (const on of ['1', 'true', 'YES', ' on '])
      assert.equal(setting('MNIST_NB_QUICK', { MNIST_NB_QUICK: on }), true, on);
    for (const off of ['0', 'false', 'No', 'off', '', ' '])
      assert.equal(setting('MNIST_NB_QUICK', { MNIST_NB_QUICK: off }), false, off);
    assert.equal(setting('MNIST_NB_STATIC', {}), false);
    // Before the registry, any value but '', '0' and 'false' switched quick mode on: "no" too.
    rejects(
      'MNIST_NB_QUICK',
      'no thanks',
      'expected 1 or 0 (or true/false, yes/no, on/off), got "no thanks"',
    );
    rejects('MNIST_SKIP_NATIVE', '2', 'expected 1 or 0 (or true/false, yes/no, on/off), got "2"');
  });

  it('reads integers within their range, and unset or empty as the default', () => {
    assert.equal(setting('MNIST_BENCH_TORCH_THREADS', { MNIST_BENCH_TORCH_THREADS: ' 4 ' }), 4);
    assert.equal(
      setting('MNIST_BENCH_TORCH_THREADS', { MNIST_BENCH_TORCH_THREADS: '' }),
      undefined,
    );
    assert.equal(setting('MNIST_NB_ROOM_LEARNERS', {}), undefined);
    // Number('four') was NaN learners; a torch thread count of "x" reached PyTorch as it was.
    rejects(
      'MNIST_NB_ROOM_LEARNERS',
      'four',
      'expected an integer from 1 to 200 (learner accounts for the room test), got "four"',
    );
    rejects(
      'MNIST_BENCH_TORCH_THREADS',
      '0',
      `expected an integer from 1 to 256 (threads for PyTorch's reference), got "0"`,
    );
    rejects(
      'MNIST_ENGINE_THREADS',
      '2.5',
      'expected an integer from 1 to 8 (threads for the engine), got "2.5"',
    );
  });

  it('trims paths and strings, and splits lists on commas', () => {
    assert.equal(setting('MNIST_NB_VENV', { MNIST_NB_VENV: ' /tmp/v ' }), '/tmp/v');
    assert.equal(setting('MNIST_NB_MODEL', { MNIST_NB_MODEL: '  ' }), undefined);
    assert.deepEqual(setting('MNIST_NB_LAB_ONLY', { MNIST_NB_LAB_ONLY: '02, 03,,' }), ['02', '03']);
    assert.deepEqual(setting('MNIST_NB_ROOM_NOTEBOOKS', {}), []);
  });
});

describe('the registry', () => {
  const files = projectFiles(
    ['lib', 'scripts', 'tests', 'notebooks', 'docs', 'demo', 'python', '.ci'],
    ['README.md', 'environment.md', 'CONTRIBUTING.md', 'eslint.config.js'],
  );

  it('declares every MNIST_* variable the project mentions (constants aside)', () => {
    const constants = new Set<string>();
    for (const [, text] of files)
      for (const m of text.matchAll(/\bconst (MNIST_[A-Z0-9_]+) =/g)) constants.add(m[1]);
    const unknown = new Set<string>();
    for (const [file, text] of files)
      for (const m of text.matchAll(/\bMNIST_[A-Z0-9_]*[A-Z0-9]\b/g))
        if (!(m[0] in SETTINGS) && !constants.has(m[0])) unknown.add(`${m[0]} (${file})`);
    assert.deepEqual([...unknown], [], 'add these to SETTINGS in lib/core/settings.ts');
  });

  it('is how notebooks read settings: no process.env.MNIST_* in a notebook cell', () => {
    const reads = files
      .filter(([file]) => file.startsWith('notebooks') && file.endsWith('.ipynb'))
      .filter(([, text]) => /env\.MNIST_|env\[['"]MNIST_/.test(text))
      .map(([file]) => file);
    assert.deepEqual(reads, [], 'use kit.notebookSettings() instead');
  });

  it('generates docs/settings.md: the committed table is the current one', () => {
    const committed = fs.readFileSync(path.join(root, 'docs', 'settings.md'), 'utf8');
    assert.ok(committed === settingsMarkdown(), 'docs/settings.md is stale: run npm run docs');
    for (const name of Object.keys(SETTINGS)) assert.match(committed, new RegExp(`\`${name}\``));
  });
});
