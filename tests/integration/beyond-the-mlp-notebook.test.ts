// Runs notebook 07 (the CNN) and its worked solutions in quick mode through `npm run notebooks` into a temp folder and checks what they show.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { outputsOf, runNotebooks, type RunnerResult } from '../support/ipynb.js';

const NOTEBOOK = '07-beyond-the-mlp';
const SOLUTIONS = path.join('notebooks', 'solutions', `${NOTEBOOK}-solutions.ipynb`);

describe('notebook 07 and its solutions, quick mode', { timeout: 1_800_000 }, () => {
  let out: string;
  let run: RunnerResult;

  before(async () => {
    out = fs.mkdtempSync(path.join(os.tmpdir(), 'mnist-nb-07-'));
    // MNIST_NB_MODEL: the model of record 07 compares against is trained and saved in the temp folder.
    run = await runNotebooks(['--quick', '--out-dir', out, NOTEBOOK, SOLUTIONS], {
      MNIST_NB_MODEL: path.join(out, 'model'),
    });
  });
  after(() => fs.rmSync(out, { recursive: true, force: true }));

  it('runs every cell of both notebooks without an error', () => {
    assert.equal(run.code, 0, run.output.slice(-6000));
    assert.match(run.output, /2 passed, 0 failed/);
  });

  it('07 shows the layers, both models side by side and the generated time and accuracy', () => {
    const { text } = outputsOf(path.join(out, `${NOTEBOOK}.ipynb`));
    assert.match(text, /Total params: 56714/); // model.summary() prints no separators
    assert.match(text, /kit\.createCnn\(\): 56,714 parameters; this one: 56,714/);
    // Quick mode trains the small CNN on every engine; the native engine when installed (it is in CI).
    assert.match(
      text,
      /2 epochs of the smaller CNN \(batch 128\) took \d+ s\*\* on (wasm|tensorflow)/,
    );
    assert.match(text, /model of record \(MLP\)/);
    assert.match(text, /The CNN has \*\*4\.1× fewer parameters\*\*/);
  });

  it('07: a 3-pixel shift costs the CNN less accuracy than the MLP', () => {
    const { text } = outputsOf(path.join(out, `${NOTEBOOK}.ipynb`));
    const m =
      /At a 3-pixel shift the MLP drops from ([\d.]+)% to \*\*([\d.]+)%\*\*; the CNN from ([\d.]+)% to \*\*([\d.]+)%\*\*/.exec(
        text,
      );
    assert.ok(m, 'the shift experiment states its result');
    const [mlp0, mlp3, cnn0, cnn3] = m.slice(1).map(Number);
    assert.ok(mlp3 < mlp0 && cnn3 < cnn0, 'both models lose accuracy on shifted digits');
    assert.ok(
      cnn0 - cnn3 < mlp0 - mlp3,
      `CNN loses ${(cnn0 - cnn3).toFixed(1)} points, MLP ${(mlp0 - mlp3).toFixed(1)}`,
    );
  });

  it('07: scrambling the pixels hurts the CNN more than the MLP', () => {
    const { text } = outputsOf(path.join(out, `${NOTEBOOK}.ipynb`));
    const m =
      /changes the MLP's accuracy by \*\*(-?[\d.]+) points\*\* and the CNN's by \*\*(-?[\d.]+) points\*\*/.exec(
        text,
      );
    assert.ok(m, 'the permutation experiment states its result');
    assert.ok(Number(m[2]) < Number(m[1]), `CNN ${m[2]} vs MLP ${m[1]} points`);
  });

  it('writes the figures and the galleries', () => {
    const figures = fs.readdirSync(path.join(out, 'figures', NOTEBOOK));
    for (const name of [
      'mlp-vs-cnn',
      'missed-per-digit',
      'wrong-for-both',
      'conv1-filters',
      'shift-accuracy',
      'scrambled-digits',
    ]) {
      assert.ok(figures.includes(`${name}.png`), `${name}.png (have ${figures.join(', ')})`);
    }
    const solutions = outputsOf(path.join(out, 'solutions', `${NOTEBOOK}-solutions.ipynb`));
    assert.ok(solutions.pngs >= 1, 'the solutions draw the feature maps');
    assert.match(solutions.text, /strides 2, no pooling/);
    assert.match(solutions.text, /MLP \+ shift augmentation acc %/);
  });
});
