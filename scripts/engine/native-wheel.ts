// TensorFlow's CPU library from PyPI (the tensorflow-cpu wheel, pinned by version and sha256): download, verify, unpack.
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebStream } from 'node:stream/web';
import * as zlib from 'node:zlib';
import { EnvHttpProxyAgent, fetch } from 'undici';
import { KitError } from '../../lib/core/errors.js';

/** The wheel the native engine is built on: TensorFlow 2.21.0, CPU only, Linux x86-64 (glibc ≥ 2.27). */
export const TF_WHEEL = {
  version: '2.21.0',
  file: 'tensorflow_cpu-2.21.0-cp311-cp311-manylinux_2_27_x86_64.whl',
  url: 'https://files.pythonhosted.org/packages/59/03/9a99555a762de8cd4a405efbd39a732d926d8e58791441889560b7675b3e/tensorflow_cpu-2.21.0-cp311-cp311-manylinux_2_27_x86_64.whl',
  sha256: '2b847d217b02ee7731ed91431daf3250daa0196c3c94614d23be27232e6e5b6c',
  bytes: 273_829_956,
} as const;

/**
 * What tfjs-node's binding needs from the wheel: the two shared libraries (the C API lives in
 * libtensorflow_cc.so.2) and the C API headers with what they include (tf_status.h includes
 * xla/tsl/c/tsl_status.h in 2.21; ctstring from tsl). Everything else (Python, XLA, Eigen…) is left out.
 */
const LIBRARIES = ['libtensorflow_cc.so.2', 'libtensorflow_framework.so.2'];
const HEADER_PREFIXES = [
  'tensorflow/c/',
  'tensorflow/core/platform/ctstring',
  'tsl/platform/ctstring',
  'xla/tsl/c/',
];

async function sha256Of(file: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(fs.createReadStream(file), hash);
  return hash.digest('hex');
}

/** The wheel in `cacheDir`, downloaded (through HTTPS_PROXY when set) unless a verified copy is there. */
export async function ensureWheel(cacheDir: string, log: (line: string) => void): Promise<string> {
  const target = path.join(cacheDir, TF_WHEEL.file);
  if (fs.existsSync(target) && (await sha256Of(target)) === TF_WHEEL.sha256) {
    log(`wheel: ${TF_WHEEL.file} already in ${cacheDir}, sha256 ok`);
    return target;
  }
  await fsp.mkdir(cacheDir, { recursive: true });
  const part = `${target}.part`;
  log(`wheel: downloading ${TF_WHEEL.file} (${(TF_WHEEL.bytes / 1e6).toFixed(0)} MB) from PyPI`);
  const dispatcher = new EnvHttpProxyAgent();
  try {
    const response = await fetch(TF_WHEEL.url, { dispatcher });
    if (!response.ok || !response.body)
      throw new KitError(
        'native-engine',
        `GET ${TF_WHEEL.url}: HTTP ${response.status} ${response.statusText}`,
      );
    // undici's web stream type and Node's are the same object under two declarations.
    await pipeline(Readable.fromWeb(response.body as WebStream), fs.createWriteStream(part));
  } catch (error) {
    const cause = (error as { cause?: { message?: string } }).cause?.message;
    throw new KitError(
      'native-engine',
      `could not download ${TF_WHEEL.url}: ${(error as Error).message}${cause ? ` (${cause})` : ''}`,
    );
  } finally {
    await dispatcher.close();
  }
  const digest = await sha256Of(part);
  if (digest !== TF_WHEEL.sha256) {
    await fsp.rm(part, { force: true });
    throw new KitError(
      'native-engine',
      `${TF_WHEEL.file}: sha256 ${digest}, expected ${TF_WHEEL.sha256} (download corrupted or tampered with; removed)`,
    );
  }
  await fsp.rename(part, target);
  log(`wheel: downloaded, sha256 ok`);
  return target;
}

/** One file of a zip archive, as its central directory describes it. */
interface ZipEntry {
  readonly name: string;
  readonly method: number;
  readonly compressedSize: number;
  readonly localHeaderOffset: number;
}

async function readAt(fd: fsp.FileHandle, position: number, length: number): Promise<Buffer> {
  const buffer = Buffer.alloc(length);
  const { bytesRead } = await fd.read(buffer, 0, length, position);
  return buffer.subarray(0, bytesRead);
}

/** The central directory of a zip (a wheel is one); zip64 archives are refused (the wheel is < 4 GB). */
async function zipEntries(fd: fsp.FileHandle, file: string): Promise<ZipEntry[]> {
  const size = (await fd.stat()).size;
  const tailLength = Math.min(size, 65_557);
  const tail = await readAt(fd, size - tailLength, tailLength);
  const eocd = tail.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (eocd < 0)
    throw new KitError('native-engine', `${file}: not a zip archive (no end-of-directory record)`);
  const count = tail.readUInt16LE(eocd + 10);
  const dirSize = tail.readUInt32LE(eocd + 12);
  const dirOffset = tail.readUInt32LE(eocd + 16);
  if (count === 0xffff || dirOffset === 0xffffffff)
    throw new KitError('native-engine', `${file}: zip64 archive, not supported here`);
  const dir = await readAt(fd, dirOffset, dirSize);
  const entries: ZipEntry[] = [];
  for (let p = 0, i = 0; i < count; i++) {
    if (dir.readUInt32LE(p) !== 0x02014b50)
      throw new KitError('native-engine', `${file}: corrupt central directory`);
    const nameLength = dir.readUInt16LE(p + 28);
    const extraLength = dir.readUInt16LE(p + 30);
    const commentLength = dir.readUInt16LE(p + 32);
    entries.push({
      name: dir.toString('utf8', p + 46, p + 46 + nameLength),
      method: dir.readUInt16LE(p + 10),
      compressedSize: dir.readUInt32LE(p + 20),
      localHeaderOffset: dir.readUInt32LE(p + 42),
    });
    p += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

async function extractEntry(
  fd: fsp.FileHandle,
  wheel: string,
  entry: ZipEntry,
  to: string,
): Promise<void> {
  const header = await readAt(fd, entry.localHeaderOffset, 30);
  if (header.readUInt32LE(0) !== 0x04034b50)
    throw new KitError('native-engine', `${wheel}: bad local header for ${entry.name}`);
  const start = entry.localHeaderOffset + 30 + header.readUInt16LE(26) + header.readUInt16LE(28);
  const raw = fs.createReadStream(wheel, { start, end: start + entry.compressedSize - 1 });
  await fsp.mkdir(path.dirname(to), { recursive: true });
  const out = fs.createWriteStream(to);
  if (entry.method === 8) await pipeline(raw, zlib.createInflateRaw(), out);
  else if (entry.method === 0) await pipeline(raw, out);
  else
    throw new KitError(
      'native-engine',
      `${wheel}: ${entry.name} uses zip method ${entry.method}, not supported`,
    );
  if (!out.closed) await once(out, 'close');
}

/**
 * Unpacks the wheel's libraries and C API headers into `dir` in the layout tfjs-node's install script
 * unpacks libtensorflow into (lib/, include/), with the link names its binding.gyp links against.
 */
export async function stageLibtensorflow(wheel: string, dir: string): Promise<void> {
  const fd = await fsp.open(wheel, 'r');
  try {
    const entries = await zipEntries(fd, wheel);
    for (const lib of LIBRARIES) {
      const entry = entries.find((e) => e.name === `tensorflow/${lib}`);
      if (!entry) throw new KitError('native-engine', `${wheel}: no tensorflow/${lib} inside`);
      await extractEntry(fd, wheel, entry, path.join(dir, 'lib', lib));
    }
    const headers = entries.filter((e) => {
      const rest = e.name.startsWith('tensorflow/include/') ? e.name.slice(19) : '';
      return rest.endsWith('.h') && HEADER_PREFIXES.some((p) => rest.startsWith(p));
    });
    if (headers.length === 0)
      throw new KitError('native-engine', `${wheel}: no C API headers inside`);
    for (const h of headers)
      await extractEntry(fd, wheel, h, path.join(dir, 'include', h.name.slice(19)));
  } finally {
    await fd.close();
  }
  const lib = path.join(dir, 'lib');
  // binding.gyp links -ltensorflow -ltensorflow_framework; at run time the SONAMEs (…_cc.so.2, …_framework.so.2)
  // are found through its rpath. libtensorflow.so.2.9.1 is the file install.js checks to skip its download.
  await fsp.symlink('libtensorflow_cc.so.2', path.join(lib, 'libtensorflow.so'));
  await fsp.symlink('libtensorflow_framework.so.2', path.join(lib, 'libtensorflow_framework.so'));
  await fsp.symlink('libtensorflow_cc.so.2', path.join(lib, 'libtensorflow.so.2.9.1'));
}
