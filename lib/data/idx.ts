// Strict reader for IDX files (the MNIST container format), raw or gzip-compressed.
//
// Layout: a 4-byte magic (0x00 0x00, type 0x08 = unsigned byte, number of dims), one big-endian
// uint32 per dimension, then exactly prod(dims) bytes. Only the two kinds MNIST-style datasets use are
// accepted: 2049 (labels, 1 dim) and 2051 (images, 3 dims: count, rows, columns).
//
// Every defect throws DataError(code, file, message); the codes are stable:
//   idx-missing    the file does not exist
//   idx-not-file   the path is a directory (or another non-file)
//   idx-empty      zero bytes (before or after decompression)
//   idx-gzip       the name ends in .gz but the bytes are not gzip, or the gzip stream is corrupt
//   idx-magic      the magic number is not one of the accepted ones (or not the kind asked for)
//   idx-truncated  the header or the body is shorter than the dims say
//   idx-size       the body is longer than the dims say (trailing bytes)

import { readFile, stat } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { DataError } from '../core/errors.js';

/** A decoded IDX file: `data` holds prod(dims) unsigned bytes, row-major. */
export interface IdxArray {
  readonly dims: number[];
  readonly data: Uint8Array;
}

/** Which kind of IDX file a caller needs; undefined accepts either. */
export type IdxKind = 'images' | 'labels';

export const IDX_LABELS_MAGIC = 0x00000801;
export const IDX_IMAGES_MAGIC = 0x00000803;

const MAGIC_BY_KIND: Record<IdxKind, number> = {
  labels: IDX_LABELS_MAGIC,
  images: IDX_IMAGES_MAGIC,
};

const hex = (n: number): string => '0x' + n.toString(16).padStart(8, '0');

/** True when the bytes start with the gzip magic 1f 8b. */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

function gunzip(bytes: Uint8Array, file: string): Uint8Array {
  try {
    return gunzipSync(bytes);
  } catch (err) {
    throw new DataError(
      'idx-gzip',
      file,
      `the gzip data is corrupt or incomplete (${(err as Error).message}); delete the file and download it again`,
    );
  }
}

/** Undoes gzip when the bytes (or the name) say so; a `.gz` name with other bytes is an error. */
function decompress(bytes: Uint8Array, file: string): Uint8Array {
  if (bytes.length === 0)
    throw new DataError('idx-empty', file, 'the file is empty (0 bytes); expected an IDX file');
  if (isGzip(bytes)) return gunzip(bytes, file);
  if (file.endsWith('.gz')) {
    const first = Array.from(bytes.subarray(0, 2), (b) => b.toString(16).padStart(2, '0')).join(
      ' ',
    );
    throw new DataError(
      'idx-gzip',
      file,
      `the name ends in .gz but the file is not gzip (starts with ${first}, expected 1f 8b)`,
    );
  }
  return bytes;
}

function checkMagic(magic: number, file: string, kind: IdxKind | undefined): void {
  const allowed = kind ? [MAGIC_BY_KIND[kind]] : [IDX_LABELS_MAGIC, IDX_IMAGES_MAGIC];
  if (allowed.includes(magic)) return;
  const wanted = kind
    ? `${hex(MAGIC_BY_KIND[kind])} (${kind})`
    : `${hex(IDX_LABELS_MAGIC)} (labels) or ${hex(IDX_IMAGES_MAGIC)} (images)`;
  throw new DataError(
    'idx-magic',
    file,
    `found magic number ${hex(magic)}, expected ${wanted}; this is not an MNIST-style IDX file`,
  );
}

/**
 * Parses IDX bytes (raw or gzip). `file` names the source in error messages; `kind` restricts the
 * accepted magic number. The returned `data` is a view into the (decompressed) input, not a copy.
 */
export function parseIdx(bytes: Uint8Array, file: string, kind?: IdxKind): IdxArray {
  const raw = decompress(bytes, file);
  if (raw.length === 0)
    throw new DataError(
      'idx-empty',
      file,
      'the gzip data decompresses to 0 bytes; expected an IDX file',
    );
  if (raw.length < 4) {
    throw new DataError(
      'idx-truncated',
      file,
      `the header is truncated: ${raw.length} bytes, expected at least 4 for the magic number`,
    );
  }
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const magic = view.getUint32(0, false);
  checkMagic(magic, file, kind);
  const ndims = magic & 0xff;
  const headerBytes = 4 + 4 * ndims;
  if (raw.length < headerBytes) {
    throw new DataError(
      'idx-truncated',
      file,
      `the header is truncated: ${raw.length} bytes, expected ${headerBytes} for ${ndims} dimension(s)`,
    );
  }
  const dims = Array.from({ length: ndims }, (_, i) => view.getUint32(4 + 4 * i, false));
  const expected = dims.reduce((a, b) => a * b, 1);
  const actual = raw.length - headerBytes;
  const shape = dims.join('×');
  if (actual < expected) {
    throw new DataError(
      'idx-truncated',
      file,
      `the body is truncated: dims ${shape} need ${expected} bytes after the header, found ${actual}`,
    );
  }
  if (actual > expected) {
    throw new DataError(
      'idx-size',
      file,
      `dims ${shape} need ${expected} bytes after the header, found ${actual} (${actual - expected} trailing bytes)`,
    );
  }
  return { dims, data: raw.subarray(headerBytes) };
}

/** Reads and parses one IDX file (raw or gzip); a missing path or a directory is a DataError too. */
export async function readIdxFile(path: string, kind?: IdxKind): Promise<IdxArray> {
  let isFile: boolean;
  try {
    isFile = (await stat(path)).isFile();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new DataError(
        'idx-missing',
        path,
        'the file does not exist; expected an IDX file here',
      );
    }
    throw new DataError('idx-missing', path, `cannot read the file (${(err as Error).message})`);
  }
  if (!isFile)
    throw new DataError(
      'idx-not-file',
      path,
      'is a directory (or another non-file), expected an IDX file',
    );
  const bytes = await readFile(path);
  return parseIdx(bytes, path, kind);
}
