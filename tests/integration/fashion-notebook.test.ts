// Runs notebook 06 (Fashion-MNIST) headless on fixture data, and without the data: it must pass either way and say how to fetch it.
//
// There is no internet in CI, so the fixture is NOT Fashion-MNIST: it is 2,000 real MNIST training digits
// and 500 real MNIST test digits written as Fashion-style IDX .gz files, each digit's label used as is
// (so "T-shirt/top" pictures are zeros, "Trouser" pictures are ones, …). The notebook cannot tell the
// difference: same format, same 28 × 28 size, same ten classes. The test checks that every cell runs and
// shows what it should, not Fashion-MNIST's accuracy.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadDataset } from '../../lib/data/datasets.js';
import type { Split } from '../../lib/data/types.js';
import { idxBytes, labelsIdx } from '../support/fixtures/idx-fixtures.js';
import {
  joined,
  runNotebooks,
  type IpynbCell as Cell,
  type RunnerResult,
} from '../support/ipynb.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const notebook = path.join(root, 'notebooks', '06-fashion-mnist.ipynb');

/** The stdout text of each code cell, in order. */
function codeCells(file: string): Array<{ text: string; mimes: string[] }> {
  const cells = (JSON.parse(fs.readFileSync(file, 'utf8')) as { cells: Cell[] }).cells.filter(
    (c) => c.cell_type === 'code',
  );
  return cells.map((c) => ({
    text: (c.outputs ?? [])
      .map(
        (o) =>
          joined(o.text) +
          Object.values(o.data ?? {})
            .filter((v) => typeof v === 'string' || Array.isArray(v))
            .map((v) => (Array.isArray(v) ? v.join('') : v))
            .join(''),
      )
      .join(''),
    mimes: (c.outputs ?? []).flatMap((o) => Object.keys(o.data ?? {})),
  }));
}

/** `npm run notebooks -- 06 --quick --out-dir DIR`, with extra environment for the kernel. */
function runNotebook(outDir: string, env: NodeJS.ProcessEnv): Promise<RunnerResult> {
  return runNotebooks(['--no-build', '--quick', '--out-dir', outDir, notebook], env);
}

function imagesIdx(split: Split, count: number): Buffer {
  const bytes = Uint8Array.from(split.images.subarray(0, count * 784), (v) => Math.round(v * 255));
  return idxBytes(0x803, [count, 28, 28], bytes);
}

describe('notebook 06 (Fashion-MNIST)', { timeout: 600_000 }, () => {
  let work: string;

  before(() => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'fashion-nb-'));
  });
  after(() => fs.rmSync(work, { recursive: true, force: true }));

  test('is committed executed (here: in its "not downloaded" state, which says how to fetch the data)', () => {
    const cells = codeCells(notebook);
    assert.ok(
      cells.every((c) => c.text.trim() !== '' || c.mimes.length > 0),
      'every code cell has output',
    );
    if (cells[0].text.includes('not downloaded')) {
      assert.match(cells[0].text, /npm run fetch-data -- fashion-mnist/);
      assert.ok(
        cells.slice(1).every((c) => c.text.includes('(skipped: Fashion-MNIST is not downloaded')),
      );
    }
  });

  test('runs every cell on Fashion-style fixture files (real MNIST digits, relabelled as clothes)', async () => {
    const dataDir = path.join(work, 'fashion');
    fs.mkdirSync(dataDir);
    const mnist = await loadDataset({ dataset: 'mnist' });
    const files: Record<string, Buffer> = {
      'train-images-idx3-ubyte.gz': gzipSync(imagesIdx(mnist.train, 2000)),
      'train-labels-idx1-ubyte.gz': gzipSync(
        labelsIdx(Array.from(mnist.train.labels.subarray(0, 2000))),
      ),
      't10k-images-idx3-ubyte.gz': gzipSync(imagesIdx(mnist.test, 500)),
      't10k-labels-idx1-ubyte.gz': gzipSync(
        labelsIdx(Array.from(mnist.test.labels.subarray(0, 500))),
      ),
    };
    for (const [name, bytes] of Object.entries(files))
      fs.writeFileSync(path.join(dataDir, name), bytes);
    const out = path.join(work, 'with-data');
    const run = await runNotebook(out, { MNIST_NB_FASHION_DIR: dataDir });
    assert.equal(run.code, 0, run.output);
    const cells = codeCells(path.join(out, '06-fashion-mnist.ipynb'));
    assert.ok(
      cells.every((c) => !c.text.includes('(skipped: Fashion-MNIST')),
      'no cell skipped',
    );
    assert.match(
      cells[0].text,
      /quick mode: 2 epochs; fashion-mnist: train 1,500, validation 500, test 500/,
    );
    const all = cells.map((c) => c.text).join('\n');
    // The comparison table names the three models and the top-wear block is shown with the Fashion class names.
    for (const expected of [
      'model of record',
      'bigger, more dropout',
      'Top-wear confusions',
      'True Shirt, predicted T-shirt/top',
      'Ankle boot',
    ]) {
      assert.ok(all.includes(expected), `missing "${expected}"`);
    }
    const accuracy = /validation [\d.]+%, test ([\d.]+)%/.exec(all);
    assert.ok(accuracy, 'the MNIST comparison reports a test accuracy');
    assert.ok(
      Number(accuracy[1]) > 60,
      `digits relabelled as clothes are still learnable: test accuracy ${accuracy[1]} %`,
    );
    const pngs = cells.reduce((n, c) => n + c.mimes.filter((m) => m === 'image/png').length, 0);
    assert.ok(
      pngs >= 6,
      `${pngs} PNG outputs (gallery, class means, curves, confusion matrix, mistakes, comparison)`,
    );
    const figures = fs.readdirSync(path.join(out, 'figures', '06-fashion-mnist'));
    for (const name of [
      'fashion-gallery.png',
      'fashion-class-means.png',
      'fashion-confusion-matrix.png',
      'fashion-bigger-models.png',
    ]) {
      assert.ok(figures.includes(name), `figure ${name} written (have ${figures.join(', ')})`);
    }
  });

  test('without the data, every cell passes and the first says how to download it', async () => {
    const out = path.join(work, 'absent');
    const run = await runNotebook(out, { MNIST_NB_FASHION_DIR: path.join(work, 'not-downloaded') });
    assert.equal(run.code, 0, run.output);
    const cells = codeCells(path.join(out, '06-fashion-mnist.ipynb'));
    assert.match(
      cells[0].text,
      /Fashion-MNIST is not downloaded yet \(there is no folder .*not-downloaded\/\)/,
    );
    assert.match(cells[0].text, /npm run fetch-data -- fashion-mnist/);
    for (const cell of cells.slice(1))
      assert.equal(
        cell.text.trim(),
        '(skipped: Fashion-MNIST is not downloaded; see the first cell)',
      );
    assert.ok(cells.every((c) => !c.mimes.includes('image/png')));
  });

  test('a half-finished download (one file of four) is reported, not a failing cell', async () => {
    const dataDir = path.join(work, 'partial');
    fs.mkdirSync(dataDir);
    fs.writeFileSync(
      path.join(dataDir, 'train-labels-idx1-ubyte.gz'),
      gzipSync(labelsIdx([1, 2, 3])),
    );
    const out = path.join(work, 'partial-out');
    const run = await runNotebook(out, { MNIST_NB_FASHION_DIR: dataDir });
    assert.equal(run.code, 0, run.output);
    const cells = codeCells(path.join(out, '06-fashion-mnist.ipynb'));
    assert.match(cells[0].text, /Fashion-MNIST could not be read.*train-images-idx3-ubyte/);
    assert.match(cells[0].text, /npm run fetch-data -- fashion-mnist/);
    assert.ok(
      cells.slice(1).every((c) => c.text.includes('(skipped: Fashion-MNIST is not downloaded')),
    );
  });
});
