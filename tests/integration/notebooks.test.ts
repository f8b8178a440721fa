// Executes the first five teaching notebooks in quick mode through `npm run notebooks` into a temp folder and checks what they show, and that running them at once changes nothing but timings.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadDataset } from '../../lib/data/datasets.js';
import { compareRuns } from '../../scripts/notebooks/compare-runs.js';
import { outputsOf, runNotebooks, type RunnerResult } from '../support/ipynb.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const NOTEBOOKS = [
  '01-explore-data',
  '02-build-mlp',
  '03-gradient-descent',
  '03-train',
  '04-analyse-confusions',
];

const sha = (file: string) => createHash('sha256').update(fs.readFileSync(file)).digest('hex');

function isPng(file: string): boolean {
  return fs
    .readFileSync(file)
    .subarray(0, 8)
    .equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
}

describe('the teaching notebooks, quick mode', { timeout: 900_000 }, () => {
  let out: string;
  let run: RunnerResult;
  let serial: RunnerResult;
  let serialOut: string;
  const before_: Record<string, string> = {};

  before(async () => {
    out = fs.mkdtempSync(path.join(os.tmpdir(), 'mnist-nb-notebooks-'));
    serialOut = path.join(out, 'one-at-a-time');
    for (const nb of NOTEBOOKS) before_[nb] = sha(path.join(root, 'notebooks', `${nb}.ipynb`));
    // MNIST_NB_MODEL: 03 saves and 04 loads a model inside the temp folder, never data/models/.
    // Two at once (01 beside 02, then the two 03s, then 04 once 03-train has saved the model), whatever the cores.
    run = await runNotebooks(['--quick', '--jobs', '2', '--out-dir', out, ...NOTEBOOKS], {
      MNIST_NB_MODEL: path.join(out, 'model'),
    });
    // The same notebooks one at a time (02 left out: it has no seeded output that 04 does not check;
    // '03' selects both 03-gradient-descent and 03-train).
    serial = await runNotebooks(
      ['--quick', '--no-build', '--jobs', '1', '--out-dir', serialOut, '01', '03', '04'],
      { MNIST_NB_MODEL: path.join(serialOut, 'model') },
    );
  });
  after(() => fs.rmSync(out, { recursive: true, force: true }));

  it('runs every cell of all five notebooks without an error and leaves the committed notebooks untouched', () => {
    assert.equal(
      run.code,
      0,
      `npm run notebooks failed:\n${run.stdout}\n${run.stderr.slice(-4000)}`,
    );
    assert.match(run.stdout, /5 passed, 0 failed/);
    for (const nb of NOTEBOOKS) {
      assert.equal(
        sha(path.join(root, 'notebooks', `${nb}.ipynb`)),
        before_[nb],
        `${nb} was modified`,
      );
      const { codeCells } = outputsOf(path.join(out, `${nb}.ipynb`));
      assert.ok(codeCells >= 5, `${nb} has ${codeCells} code cells`);
    }
  });

  it('gives the same outputs as one notebook at a time (--jobs 1), apart from timings', () => {
    assert.equal(serial.code, 0, serial.stderr.slice(-4000));
    assert.match(run.stderr, /running up to 2 notebooks at once/);
    assert.match(
      run.stderr,
      /\[03-train\] passed in [\d.]+ s[\s\S]*\[04-analyse-confusions\] starting/,
    );
    // 04 works on the model 03 trained in the same run, so its outputs (accuracy, confusion matrix,
    // per-class scores, galleries) show that training gave the same weights. 03's own sections time
    // unseeded hand-written loops, and differ between any two runs.
    const compared = ['01-explore-data.ipynb', '04-analyse-confusions.ipynb'];
    assert.deepEqual(compareRuns(out, serialOut, compared), []);
  });

  it('01 loads the quick subset, shows digits, the balance table and the pixel histograms', () => {
    const { text, pngs } = outputsOf(path.join(out, '01-explore-data.ipynb'));
    assert.match(text, /train: 8,000 images, test: 2,000 images, each 28×28 = 784 pixels/);
    assert.match(text, /Images per digit/);
    assert.ok(pngs >= 8, `01 shows ${pngs} PNGs`);
    for (const name of [
      'sample-digits',
      'digit-pixels',
      'brightest-pixels',
      'class-balance',
      'pixels-raw',
      'pixels-normalised',
      'class-means',
      'farthest-from-mean',
    ]) {
      assert.ok(isPng(path.join(out, 'figures', '01-explore-data', `${name}.png`)), `${name}.png`);
    }
  });

  it('01 counts never-inked pixels and border ink with tf ops, as plain loops over the same data do', async () => {
    const { text } = outputsOf(path.join(out, '01-explore-data.ipynb'));
    assert.match(text, /tf\.getBackend\(\): (\w+)/);
    const shown =
      /\*\*(\d+) of the 784 pixels are 0 in every image\*\*, and only (\d+) of the (\d+) border pixels are; \*\*([\d,]+) images have ink on the border\*\*\. An image inks ([\d.]+) pixels/.exec(
        text,
      );
    assert.ok(shown, 'the tensor cell reports its counts');
    const { train } = await loadDataset({ dataset: 'mnist-quick', validationSize: 0 });
    const everInked = new Uint8Array(784);
    const border = (p: number) => p < 28 || p >= 756 || p % 28 === 0 || p % 28 === 27;
    let inkedOnBorder = 0;
    let ink = 0;
    for (let i = 0; i < train.count; i++) {
      let onBorder = false;
      for (let p = 0; p < 784; p++) {
        if (train.images[i * 784 + p] === 0) continue;
        everInked[p] = 1;
        ink++;
        if (border(p)) onBorder = true;
      }
      if (onBorder) inkedOnBorder++;
    }
    const never = [...everInked.keys()].filter((p) => !everInked[p]);
    assert.equal(Number(shown[1]), never.length);
    assert.equal(Number(shown[2]), never.filter(border).length);
    assert.equal(Number(shown[3]), 108);
    assert.equal(Number(shown[4].replace(/,/g, '')), inkedOnBorder);
    assert.equal(shown[5], (ink / train.count).toFixed(1));
  });

  it('02 shows 235,146 parameters, a hand-written forward pass equal to model.predict, the kit building the same layers from another initialiser and an untrained accuracy near chance', () => {
    const { text } = outputsOf(path.join(out, '02-build-mlp.ipynb'));
    assert.match(text, /Total: 235,146 trainable parameters/);
    const diff = Number(
      /largest difference between the hand-written forward pass and model\.predict: (\S+)/.exec(
        text,
      )?.[1],
    );
    assert.ok(
      Number.isFinite(diff) && diff < 1e-5,
      `hand-written forward pass vs model.predict: ${diff}`,
    );
    assert.match(
      text,
      /kit\.createMlp\(\) builds the same architecture: 5 layers with the same output shapes, 235,146 parameters/,
    );
    // The same layers, not the same start: TF.js's default initialiser against the kit's.
    assert.match(
      text,
      /first-layer initialiser: buildMlp\(\) Glorot normal, seed none, kit\.createMlp\(\) Glorot uniform, seed 42000/,
    );
    const acc = Number(
      /untrained network on 2,000 test digits: accuracy ([\d.]+)%/.exec(text)?.[1],
    );
    assert.ok(acc > 2 && acc < 25, `untrained accuracy ${acc}%`);
    assert.ok(isPng(path.join(out, 'figures', '02-build-mlp', 'init-weights.png')));
  });

  it('03-gradient-descent trains by hand without leaking tensors, shows the softmax-twice loss and model.fit, and checks the exercises', () => {
    const { text } = outputsOf(path.join(out, '03-gradient-descent.ipynb'));
    // The prose after the step cell says "One step lowered the loss on its batch".
    const step =
      /loss on this batch \(dropout off\): ([\d.]+) before the step, ([\d.]+) after it/.exec(text);
    assert.ok(step && Number(step[2]) < Number(step[1]), `one step: ${step?.[0]}`);
    const tensors = /tensors in memory: (\d+) before the epoch, (\d+) after/.exec(text);
    assert.ok(tensors, 'the hand-written loop prints its tensor counts');
    assert.equal(tensors[2], tensors[1], 'the hand-written loop leaves tensors behind');
    // The bar the notebook states (75 %): the quick run's 3,000 images give about 84 %.
    const hand =
      /hand-written loop: one epoch on the first 3,000 training images in [\d.]+ s, mean loss [\d.]+, test accuracy ([\d.]+)%, \w+ the bar of (\d+)%/.exec(
        text,
      );
    assert.ok(hand, 'the hand-written loop prints its test accuracy and the bar');
    assert.equal(hand[2], '75');
    assert.ok(Number(hand[1]) > 75, `hand-written loop test accuracy ${hand[1]}%`);
    const losses = [
      'from probabilities, −mean log p',
      'tf.losses.softmaxCrossEntropy\\(labels, logits\\)',
      'tf.losses.softmaxCrossEntropy\\(labels, probs\\), bug',
    ].map((label) => Number(new RegExp(`${label}: +([\\d.]+)`).exec(text)?.[1]));
    assert.ok(
      Math.abs(losses[0] - losses[1]) < 1e-3,
      `cross-entropy from probabilities ${losses[0]} vs from logits ${losses[1]}`,
    );
    assert.ok(
      losses[2] > losses[1] + 0.1,
      `softmax applied twice should give a different loss: ${losses[2]} vs ${losses[1]}`,
    );
    assert.match(
      text,
      /model\.fit: one epoch on the first 3,000 training images in [\d.]+ s, mean loss [\d.]+, test accuracy [\d.]+%/,
    );
    // The starter cells run their checks, which say that nothing was written yet.
    for (const title of ['one step downhill', 'backpropagation by hand', 'a validation pass'])
      assert.match(text, new RegExp(`✗ exercise \\d \\(${title}\\): no answer yet`));
    assert.ok(isPng(path.join(out, 'figures', '03-gradient-descent', 'gradient-descent-1d.png')));
  });

  it('03-train prints one line per epoch, tabulates accuracy against the reference and saves the model', () => {
    const { text } = outputsOf(path.join(out, '03-train.ipynb'));
    assert.match(text, /epoch 1\/2 {2}loss [\d.]+ {2}acc [\d.]+% {2}val [\d.]+% {2}test [\d.]+%/);
    assert.match(text, /epoch 2\/2 /);
    assert.match(text, /Accuracy per epoch \(mnist-quick\) beside the reference/);
    const meta = JSON.parse(fs.readFileSync(path.join(out, 'model', 'meta.json'), 'utf8')) as {
      history: { testAccuracy: number }[];
      dataset: { name: string };
    };
    assert.equal(meta.history.length, 2);
    assert.equal(meta.dataset.name, 'mnist-quick');
    assert.ok(
      meta.history[1].testAccuracy > 0.8,
      `quick test accuracy ${meta.history[1].testAccuracy}`,
    );
    for (const name of [
      'learning-curves-loss',
      'learning-curves-accuracy',
      'first-layer-weights',
    ]) {
      assert.ok(isPng(path.join(out, 'figures', '03-train', `${name}.png`)), `${name}.png`);
    }
  });

  it('04 loads the model 03 saved and shows the confusion matrix, per-class scores and mistake galleries', () => {
    const { text } = outputsOf(path.join(out, '04-analyse-confusions.ipynb'));
    assert.match(text, /Loaded `[^`]*model`: trained on `mnist-quick` for 2 epochs/);
    const meta = JSON.parse(fs.readFileSync(path.join(out, 'model', 'meta.json'), 'utf8')) as {
      history: { testAccuracy: number }[];
    };
    const acc = Number(
      /test accuracy ([\d.]+)% — \d+ of 2,000 test digits misclassified/.exec(text)?.[1],
    );
    assert.equal(
      acc,
      Number((100 * meta.history[1].testAccuracy).toFixed(2)),
      'the loaded model scores what 03 measured',
    );
    assert.match(text, /Per-class scores on the test set/);
    assert.match(text, /Most confused pairs/);
    // The danfo cells: one row per test digit, mistakes grouped by (true, predicted), confidence by correctness.
    const errors = Number(/% — (\d+) of 2,000 test digits misclassified/.exec(text)?.[1]);
    assert.match(text, /2000 rows, columns: true, predicted, confidence, correct/);
    assert.match(
      text,
      new RegExp(`The 10 most frequent mistakes of ${errors} \\(true → predicted\\)`),
    );
    assert.match(text, /Confidence of right \(true\) and wrong \(false\) answers/);
    assert.match(
      text,
      new RegExp(`Of the ${errors} mistakes, \\*\\*\\d+\\*\\* were made with more than`),
    );
    assert.match(text, new RegExp(`These pairs in this run \\(of ${errors} test mistakes\\)`));
    assert.match(
      text,
      /In this run the rarest of these pairs are \*\*\d ↔ \d\*\* \(\d+ mistakes\)/,
    );
    const figures = path.join(out, 'figures', '04-analyse-confusions');
    for (const name of [
      'confusion-matrix',
      'per-class-scores',
      'mistakes-pair-1',
      'confident-mistakes',
      'least-confident-correct',
    ]) {
      assert.ok(isPng(path.join(figures, `${name}.png`)), `${name}.png`);
    }
  });
});

describe('the worked solutions, quick mode', { timeout: 900_000 }, () => {
  const dir = path.join(root, 'notebooks', 'solutions');
  const solutions = fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.ipynb'))
    .sort();
  let out: string;
  let run: RunnerResult;
  const before_: Record<string, string> = {};

  before(async () => {
    out = fs.mkdtempSync(path.join(os.tmpdir(), 'mnist-nb-solutions-'));
    for (const f of solutions) before_[f] = sha(path.join(dir, f));
    const targets = solutions.map((f) => `solutions/${f}`);
    // MNIST_NB_MODEL: a solution that looks for a saved model finds none and trains its own, in the temp folder.
    run = await runNotebooks(['--quick', '--out-dir', out, ...targets], {
      MNIST_NB_MODEL: path.join(out, 'model'),
    });
  });
  after(() => fs.rmSync(out, { recursive: true, force: true }));

  it('there is one solutions notebook per teaching notebook, named <notebook>-solutions.ipynb', () => {
    const teaching = fs
      .readdirSync(path.join(root, 'notebooks'))
      .filter((f) => f.endsWith('.ipynb'))
      .sort();
    assert.deepEqual(
      solutions,
      teaching.map((f) => f.replace(/\.ipynb$/, '-solutions.ipynb')),
    );
  });

  it('runs every solutions notebook without an error, into DIR/solutions, leaving the sources untouched', () => {
    assert.equal(
      run.code,
      0,
      `npm run notebooks failed:\n${run.stdout}\n${run.stderr.slice(-4000)}`,
    );
    assert.match(run.stdout, new RegExp(`${solutions.length} passed, 0 failed`));
    for (const f of solutions) {
      assert.equal(sha(path.join(dir, f)), before_[f], `${f} was modified`);
      const { codeCells } = outputsOf(path.join(out, 'solutions', f));
      assert.ok(codeCells >= 2, `${f} has ${codeCells} code cells`);
    }
  });

  it('the worked answers pass the checks of every checked exercise, at least two per notebook', () => {
    const checked = [
      '01-explore-data',
      '02-build-mlp',
      '03-gradient-descent',
      '03-train',
      '04-analyse-confusions',
      '05-break-it',
      '07-beyond-the-mlp',
    ];
    for (const name of checked) {
      const { text } = outputsOf(path.join(out, 'solutions', `${name}-solutions.ipynb`));
      const passed = text.match(/✓ exercise \d+ \(/g) ?? [];
      assert.ok(passed.length >= 2, `${name}: ${passed.length} checks passed`);
      assert.doesNotMatch(text, /✗ exercise/, `${name}: a worked answer failed its check`);
    }
  });

  it("the solutions of 01, 04 and 05 check the learner's TensorFlow.js code against the kit", () => {
    const text = (name: string) =>
      outputsOf(path.join(out, 'solutions', `${name}-solutions.ipynb`)).text;
    const gap = Number(/for the 3s: \*\*([\d.e+-]+)\*\*/.exec(text('01-explore-data'))?.[1]);
    assert.ok(gap < 1e-4, `tf.mean of the 3s differs from classMeanImages by ${gap}`);
    assert.match(
      text('04-analyse-confusions'),
      /the float32 version equals `matrix` cell by cell: \*\*true\*\*/,
    );
    const losses =
      /own −Σ y log p = \*\*([\d.]+)\*\*, tf\.metrics\.categoricalCrossentropy = \*\*([\d.]+)\*\*/.exec(
        text('05-break-it'),
      );
    assert.ok(losses, 'solution 05 compares the hand-written cross-entropy');
    assert.ok(
      Math.abs(Number(losses[1]) - Number(losses[2])) < 1e-4,
      `${losses[1]} vs ${losses[2]}`,
    );
  });
});
