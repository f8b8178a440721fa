// Downloads IDX datasets (Fashion-MNIST, MNIST) over HTTPS with MD5 checks, resume and proxy support.
//
// Each file goes to NAME.part, is verified, then renamed, so a final name never holds a half or wrong
// file. An interrupted transfer keeps NAME.part and the next attempt resumes it with a Range request
// (or restarts when the server ignores Range). Proxies come from HTTPS_PROXY/https_proxy/NO_PROXY.

import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Agent, EnvHttpProxyAgent, request, type Dispatcher } from 'undici';
import type { FetchableDataset } from '../core/choices.js';
import { ConfigError, DataError } from '../core/errors.js';
import { formatPercent } from '../core/format.js';
import { defaultDataDir } from './datasets.js';

export interface RemoteFile {
  /** File name under the base URL and in the target folder, e.g. 'train-images-idx3-ubyte.gz'. */
  readonly name: string;
  /** Expected MD5, lowercase hex. */
  readonly md5: string;
}

/** The official mirrors and the checksums their maintainers publish. */
export const SOURCES: Record<
  FetchableDataset,
  { readonly baseUrl: string; readonly files: readonly RemoteFile[] }
> = {
  'fashion-mnist': {
    baseUrl: 'https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/',
    files: [
      { name: 'train-images-idx3-ubyte.gz', md5: '8d4fb7e6c68d591d4c3dfef9ec88bf0d' },
      { name: 'train-labels-idx1-ubyte.gz', md5: '25c81989df183df01b3e8a0aad5dffbe' },
      { name: 't10k-images-idx3-ubyte.gz', md5: 'bef4ecab320f06d8554ea6380940ec79' },
      { name: 't10k-labels-idx1-ubyte.gz', md5: 'bb300cfdad3c16e7a12a480ee83cd310' },
    ],
  },
  mnist: {
    baseUrl: 'https://storage.googleapis.com/cvdf-datasets/mnist/',
    files: [
      { name: 'train-images-idx3-ubyte.gz', md5: 'f68b3c2dcbeaaa9fbdd348bbdeb94873' },
      { name: 'train-labels-idx1-ubyte.gz', md5: 'd53e105ee54ea40749a09fcbcd1e9432' },
      { name: 't10k-images-idx3-ubyte.gz', md5: '9fb629c4189551a2d022fa330f9573f3' },
      { name: 't10k-labels-idx1-ubyte.gz', md5: 'ec29112dd5afa0611ce80d1b7f02629c' },
    ],
  },
};

export interface DownloadOptions {
  readonly baseUrl: string;
  /** Target folder (created if missing). */
  readonly dir: string;
  readonly files: readonly RemoteFile[];
  /** Tests only: allow plain http:// to 127.0.0.1, localhost or [::1]. */
  readonly allowInsecureLoopback?: boolean;
  /** Redirect hops allowed per request; default 5. */
  readonly maxRedirects?: number;
  /** Extra attempts after an interrupted transfer, each resuming the part file; default 2. */
  readonly retries?: number;
  /** Where progress goes; default process.stderr. A TTY gets a live line, anything else one line per file. */
  readonly progress?: NodeJS.WritableStream & { isTTY?: boolean };
  /** Milliseconds to wait for response headers, and between body chunks; default 30,000 and 60,000. */
  readonly headersTimeoutMs?: number;
  readonly bodyTimeoutMs?: number;
}

export interface DownloadResult {
  readonly name: string;
  readonly path: string;
  /** 'present': already there with the right MD5; 'downloaded': fetched now (possibly resuming a part file). */
  readonly status: 'present' | 'downloaded';
  readonly bytes: number;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/** Parses a URL and enforces HTTPS (plain HTTP only to loopback when a test allows it). */
export function checkUrl(
  url: string | URL,
  allowInsecureLoopback = false,
  option = 'baseUrl',
): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigError(
      option,
      `${JSON.stringify(String(url))} is not a valid URL; expected https://...`,
    );
  }
  if (parsed.protocol === 'https:') return parsed;
  if (parsed.protocol === 'http:' && allowInsecureLoopback && LOOPBACK.has(parsed.hostname))
    return parsed;
  throw new ConfigError(
    option,
    `${parsed.href} is not allowed; only https:// URLs are downloaded from`,
  );
}

/** One sentence for a network failure, e.g. "could not reach host: getaddrinfo ENOTFOUND host (offline?)". */
export function networkErrorMessage(host: string, err: unknown): string {
  // undici wraps the socket error: the useful code and text are often on `cause`.
  const e = err as { code?: string; message?: string; cause?: { code?: string; message?: string } };
  const detail = e.cause?.message || e.message || String(err);
  const code = e.cause?.code ?? e.code;
  const offline =
    code === 'ENOTFOUND' ||
    code === 'EAI_AGAIN' ||
    code === 'ECONNREFUSED' ||
    code === 'ENETUNREACH' ||
    code === 'EHOSTUNREACH' ||
    code === 'UND_ERR_CONNECT_TIMEOUT' ||
    code === 'ETIMEDOUT';
  return `could not reach ${host}: ${detail}${offline ? ' (offline?)' : ''}`;
}

/** MD5 of a file, lowercase hex. */
export async function md5File(path: string): Promise<string> {
  const hash = createHash('md5');
  await pipeline(createReadStream(path), hash);
  return hash.digest('hex');
}

async function sizeOf(path: string): Promise<number | undefined> {
  try {
    const s = await stat(path);
    return s.isFile() ? s.size : undefined;
  } catch {
    return undefined;
  }
}

/** A transfer that stopped early: the part file is kept so the next attempt can resume. */
class InterruptedError extends DataError {
  constructor(url: string, received: number, total: number | undefined, why: string) {
    const of = total === undefined ? '' : ` of ${total}`;
    super(
      'fetch-truncated',
      url,
      `the download was interrupted after ${received}${of} bytes (${why}); run the command again to resume`,
    );
  }
}

interface Context {
  readonly opts: DownloadOptions;
  readonly direct: Agent;
  readonly proxied: EnvHttpProxyAgent;
  readonly log: (line: string) => void;
}

/** GET with bounded redirects; every hop must pass checkUrl. Returns the final response. */
async function get(
  ctx: Context,
  start: URL,
  headers: Record<string, string>,
): Promise<Dispatcher.ResponseData> {
  let url = start;
  const max = ctx.opts.maxRedirects ?? 5;
  for (let hop = 0; ; hop++) {
    // Loopback is never proxied: a test server on 127.0.0.1 must be reached directly.
    const dispatcher = LOOPBACK.has(url.hostname) ? ctx.direct : ctx.proxied;
    let res: Dispatcher.ResponseData;
    try {
      res = await request(url, {
        method: 'GET',
        headers,
        dispatcher,
        headersTimeout: ctx.opts.headersTimeoutMs ?? 30_000,
        bodyTimeout: ctx.opts.bodyTimeoutMs ?? 60_000,
      });
    } catch (err) {
      throw new DataError('fetch-unreachable', url.href, networkErrorMessage(url.host, err));
    }
    const location = res.headers['location'];
    if (!REDIRECTS.has(res.statusCode) || typeof location !== 'string') return res;
    await res.body.dump();
    if (hop >= max)
      throw new DataError(
        'fetch-redirects',
        start.href,
        `more than ${max} redirects; expected the file within ${max} hops`,
      );
    try {
      url = checkUrl(new URL(location, url), ctx.opts.allowInsecureLoopback, 'redirect');
    } catch (err) {
      throw new DataError(
        'fetch-insecure',
        start.href,
        `redirected to ${location}, refused: only https:// is downloaded from (${(err as Error).message})`,
      );
    }
  }
}

/** Where a 206 body starts and the full size, from "Content-Range: bytes START-END/TOTAL". */
function parseContentRange(
  value: unknown,
): { start: number; total: number | undefined } | undefined {
  const m = typeof value === 'string' ? /^bytes (\d+)-\d+\/(\d+|\*)$/.exec(value.trim()) : null;
  if (!m) return undefined;
  return { start: Number(m[1]), total: m[2] === '*' ? undefined : Number(m[2]) };
}

function progressMeter(
  ctx: Context,
  name: string,
  already: number,
  total: number | undefined,
): Transform {
  const tty = ctx.opts.progress?.isTTY === true;
  let received = already;
  let last = 0;
  const mb = (n: number): string => (n / 1e6).toFixed(1);
  const show = (): void => {
    const pct = total ? ` ${formatPercent(received / total, 0)}` : '';
    ctx.opts.progress?.write(
      `\r${name}: ${mb(received)}${total ? ' / ' + mb(total) : ''} MB${pct}   `,
    );
  };
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      received += chunk.length;
      const now = Date.now();
      if (tty && now - last > 200) {
        last = now;
        show();
      }
      done(null, chunk);
    },
    flush(done) {
      if (tty) {
        show();
        ctx.opts.progress?.write('\n');
      }
      done();
    },
  });
}

/** One attempt: resumes `part` when it has bytes and the server honours Range, else restarts it. */
async function transfer(ctx: Context, url: URL, name: string, part: string): Promise<void> {
  let offset = (await sizeOf(part)) ?? 0;
  const res = await get(ctx, url, offset > 0 ? { range: `bytes=${offset}-` } : {});
  let total: number | undefined;
  if (res.statusCode === 206 && offset > 0) {
    const range = parseContentRange(res.headers['content-range']);
    if (!range || range.start !== offset) {
      await res.body.dump();
      await rm(part, { force: true });
      throw new InterruptedError(
        url.href,
        0,
        undefined,
        `the server resumed at the wrong offset; the part file was discarded`,
      );
    }
    total = range.total;
  } else if (res.statusCode === 416 && offset > 0) {
    // The part is at least as long as the file yet failed the MD5 check earlier: start over.
    await res.body.dump();
    await rm(part, { force: true });
    return transfer(ctx, url, name, part);
  } else if (res.statusCode === 200) {
    offset = 0; // the server ignored Range (or none was sent): restart the part file
    const length = Number(res.headers['content-length']);
    total = Number.isFinite(length) && length >= 0 ? length : undefined;
  } else {
    await res.body.dump();
    throw new DataError(
      'fetch-http',
      url.href,
      `the server answered HTTP ${res.statusCode}; expected 200 with the file`,
    );
  }
  const out = createWriteStream(part, { flags: offset > 0 ? 'a' : 'w' });
  try {
    await pipeline(res.body, progressMeter(ctx, name, offset, total), out);
  } catch (err) {
    const received = (await sizeOf(part)) ?? 0;
    throw new InterruptedError(url.href, received, total, (err as Error).message);
  }
  const received = (await sizeOf(part)) ?? 0;
  if (total !== undefined && received < total) {
    throw new InterruptedError(url.href, received, total, 'the connection closed early');
  }
}

async function downloadOne(ctx: Context, file: RemoteFile): Promise<DownloadResult> {
  const { opts } = ctx;
  const path = join(opts.dir, file.name);
  const part = path + '.part';
  const url = new URL(file.name, opts.baseUrl.endsWith('/') ? opts.baseUrl : opts.baseUrl + '/');
  const expected = file.md5.toLowerCase();
  const existing = await sizeOf(path);
  if (existing !== undefined) {
    if ((await md5File(path)) === expected) {
      ctx.log(`${file.name}: already present, MD5 ok`);
      return { name: file.name, path, status: 'present', bytes: existing };
    }
    ctx.log(`${file.name}: present but its MD5 differs; downloading it again`);
  }
  // A part file that is already complete (interrupted just before the rename) needs no network.
  const partDone = (await sizeOf(part)) !== undefined && (await md5File(part)) === expected;
  const retries = opts.retries ?? 2;
  for (let attempt = 0; !partDone; attempt++) {
    try {
      await transfer(ctx, url, file.name, part);
      break;
    } catch (err) {
      if (!(err instanceof InterruptedError) || attempt >= retries) throw err;
      ctx.log(`${file.name}: ${err.message}; retrying (${attempt + 1}/${retries})`);
    }
  }
  const actual = await md5File(part);
  if (actual !== expected) {
    await rm(part, { force: true });
    throw new DataError(
      'fetch-checksum',
      url.href,
      `downloaded data has MD5 ${actual}, expected ${expected}; the partial file was deleted, try again`,
    );
  }
  await rename(part, path);
  const bytes = (await sizeOf(path)) ?? 0;
  ctx.log(`${file.name}: downloaded ${bytes} bytes, MD5 ok`);
  return { name: file.name, path, status: 'downloaded', bytes };
}

/** Downloads each file (sequentially) into `dir`, skipping ones already present with the right MD5. */
export async function downloadFiles(opts: DownloadOptions): Promise<DownloadResult[]> {
  checkUrl(opts.baseUrl, opts.allowInsecureLoopback);
  for (const f of opts.files) {
    if (!/^[0-9a-f]{32}$/i.test(f.md5))
      throw new ConfigError('md5', `${JSON.stringify(f.md5)} for ${f.name} is not 32 hex digits`);
    if (!/^[\w.-]+$/.test(f.name))
      throw new ConfigError('files', `${JSON.stringify(f.name)} is not a plain file name`);
  }
  await mkdir(opts.dir, { recursive: true });
  const progress = opts.progress ?? process.stderr;
  const ctx: Context = {
    opts: { ...opts, progress },
    direct: new Agent(),
    proxied: new EnvHttpProxyAgent(),
    log: (line) => progress.write(line + '\n'),
  };
  try {
    const results: DownloadResult[] = [];
    for (const file of opts.files) results.push(await downloadOne(ctx, file));
    return results;
  } finally {
    // Close the keep-alive pools so the process can exit at once.
    await Promise.all([ctx.direct.close(), ctx.proxied.close()]);
  }
}

/** Downloads a known dataset from its official mirror into `dir` (default data/<name> in the project). */
export async function fetchDataset(
  name: FetchableDataset,
  options: Omit<DownloadOptions, 'files' | 'baseUrl' | 'dir'> & {
    dir?: string;
    baseUrl?: string;
  } = {},
): Promise<DownloadResult[]> {
  const source = Object.hasOwn(SOURCES, name) ? SOURCES[name] : undefined;
  if (!source)
    throw new ConfigError(
      'dataset',
      `must be one of ${Object.keys(SOURCES).join(', ')}; got ${JSON.stringify(name)}`,
    );
  return downloadFiles({
    ...options,
    dir: options.dir ?? defaultDataDir(name),
    baseUrl: options.baseUrl ?? source.baseUrl,
    files: source.files,
  });
}
