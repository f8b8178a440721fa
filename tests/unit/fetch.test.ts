// Tests for the dataset downloader against a loopback HTTP server (127.0.0.1 only) serving fixtures it writes.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { loadDataset } from '../../lib/data/datasets.js';
import {
  checkUrl,
  downloadFiles,
  networkErrorMessage,
  type DownloadOptions,
  type RemoteFile,
} from '../../lib/data/fetch.js';
import { ConfigError, DataError } from '../../lib/core/errors.js';
import { folderFiles, tempDir } from '../support/fixtures/idx-fixtures.js';
import { rejectsWithCode } from '../support/rejects.js';

const md5 = (b: Uint8Array): string => createHash('md5').update(b).digest('hex');

/** The four .gz files of a small dataset (20 training, 6 test images of 28×28) and their checksums. */
const FILES = folderFiles({
  trainLabels: Array.from({ length: 20 }, (_, i) => i % 10),
  testLabels: [0, 1, 2, 3, 4, 5],
  h: 28,
  w: 28,
  gzip: true,
});
const REMOTE: RemoteFile[] = Object.entries(FILES).map(([name, bytes]) => ({
  name,
  md5: md5(bytes),
}));
const BIG = 'train-images-idx3-ubyte.gz';

/** How the server treats a path; set per test. */
interface Behaviour {
  /** Send half the body, then cut the connection (the first `times` requests; Infinity = always). */
  truncate?: number;
  /** Ignore Range headers (answer 200 with the whole file). */
  noRange?: boolean;
  status?: number;
  /** Answer 302 to this location instead. */
  redirect?: string;
  /** Serve these bytes instead of the fixture. */
  body?: Buffer;
}

interface Hit {
  path: string;
  range?: string;
}

class FixtureServer {
  server: Server = createServer((req, res) => this.handle(req, res));
  behaviour = new Map<string, Behaviour>();
  hits: Hit[] = [];
  base = '';

  async start(): Promise<void> {
    await new Promise<void>((ok) => this.server.listen(0, '127.0.0.1', ok));
    this.base = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  stop(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((ok) => this.server.close(() => ok()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '/').split('?')[0];
    this.hits.push({ path, range: req.headers.range });
    const b = this.behaviour.get(path) ?? {};
    if (b.redirect) {
      res.writeHead(302, { location: b.redirect }).end();
      return;
    }
    const name = path.replace(/^\/files\//, '');
    const body = b.body ?? (path.startsWith('/files/') ? FILES[name] : undefined);
    if (b.status || !body) {
      res.writeHead(b.status ?? 404).end('no');
      return;
    }
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    const start = m && !b.noRange ? Number(m[1]) : 0;
    if (start >= body.length && start > 0) {
      res.writeHead(416, { 'content-range': `bytes */${body.length}` }).end();
      return;
    }
    const chunk = body.subarray(start);
    const headers: Record<string, string | number> = {
      'content-length': chunk.length,
      'accept-ranges': 'bytes',
    };
    if (start > 0) headers['content-range'] = `bytes ${start}-${body.length - 1}/${body.length}`;
    res.writeHead(start > 0 ? 206 : 200, headers);
    if (b.truncate && b.truncate > 0) {
      b.truncate--;
      // Flush half the body, then drop the socket: the client sees a short transfer.
      res.write(chunk.subarray(0, chunk.length >> 1), () =>
        setTimeout(() => res.socket?.destroy(), 20),
      );
      return;
    }
    res.end(chunk);
  }
}

/** A non-TTY sink for progress lines. */
function sink(): { stream: Writable; lines: () => string[] } {
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      text += chunk.toString();
      done();
    },
  });
  return { stream, lines: () => text.split('\n').filter(Boolean) };
}

/** Asserts that `fn` rejects with a DataError with this code whose message contains every snippet. */
const rejectsData = (fn: () => Promise<unknown>, code: string, ...snippets: string[]) =>
  rejectsWithCode(fn, DataError, code, ...snippets);

describe('downloadFiles over loopback HTTP', () => {
  const srv = new FixtureServer();
  let root = '';
  let cleanup: () => Promise<void> = async () => {};
  let n = 0;
  let dir = '';

  before(async () => {
    await srv.start();
    ({ dir: root, cleanup } = await tempDir('fetch-test-'));
  });
  after(async () => {
    await srv.stop();
    await cleanup();
  });
  beforeEach(() => {
    srv.behaviour.clear();
    srv.hits = [];
    dir = join(root, `case-${n++}`);
  });

  const opts = (extra: Partial<DownloadOptions> = {}): DownloadOptions => ({
    baseUrl: `${srv.base}/files/`,
    dir,
    files: REMOTE,
    allowInsecureLoopback: true,
    progress: sink().stream,
    ...extra,
  });

  const bigOnly = (md5sum = REMOTE.find((f) => f.name === BIG)!.md5): RemoteFile[] => [
    { name: BIG, md5: md5sum },
  ];

  it('downloads and verifies all four files, logs one line per file, then loads them as idx-dir', async () => {
    const out = sink();
    const results = await downloadFiles(opts({ progress: out.stream }));
    assert.deepEqual(
      results.map((r) => r.status),
      ['downloaded', 'downloaded', 'downloaded', 'downloaded'],
    );
    for (const [name, bytes] of Object.entries(FILES))
      assert.deepEqual(await readFile(join(dir, name)), bytes);
    assert.deepEqual((await readdir(dir)).sort(), Object.keys(FILES).sort()); // no .part left behind
    assert.equal(out.lines().length, 4);
    assert.ok(out.lines().every((l) => l.includes('MD5 ok') && !l.includes('\r')));
    const ds = await loadDataset({ dataset: 'idx-dir', dataDir: dir, validationSize: 4 });
    assert.deepEqual(
      [ds.train.count, ds.validation.count, ds.test.count, ds.height, ds.width],
      [16, 4, 6, 28, 28],
    );

    srv.hits = [];
    const again = await downloadFiles(opts());
    assert.deepEqual(
      again.map((r) => r.status),
      ['present', 'present', 'present', 'present'],
    );
    assert.equal(srv.hits.length, 0);
  });

  it('a checksum mismatch deletes the part file, keeps no final file and says both sums', async () => {
    const wrong = md5(Buffer.from('something else'));
    await rejectsData(
      () => downloadFiles(opts({ files: bigOnly(wrong) })),
      'fetch-checksum',
      wrong,
      REMOTE.find((f) => f.name === BIG)!.md5,
    );
    assert.deepEqual(await readdir(dir), []);
  });

  it('a transfer cut short every time fails after the retries, keeping only NAME.part', async () => {
    srv.behaviour.set(`/files/${BIG}`, { truncate: Infinity, noRange: true });
    await rejectsData(
      () => downloadFiles(opts({ files: bigOnly(), retries: 1 })),
      'fetch-truncated',
      'interrupted',
      'run the command again',
    );
    assert.equal(srv.hits.length, 2);
    assert.deepEqual(await readdir(dir), [`${BIG}.part`]);
    const part = await readFile(join(dir, `${BIG}.part`));
    assert.ok(part.length > 0 && part.length < FILES[BIG].length);
  });

  it('resumes an interrupted download with a Range request', async () => {
    srv.behaviour.set(`/files/${BIG}`, { truncate: 1 });
    await rejectsData(
      () => downloadFiles(opts({ files: bigOnly(), retries: 0 })),
      'fetch-truncated',
    );
    const have = (await readFile(join(dir, `${BIG}.part`))).length;
    const results = await downloadFiles(opts({ files: bigOnly() }));
    assert.equal(results[0].status, 'downloaded');
    assert.deepEqual(
      srv.hits.map((h) => h.range),
      [undefined, `bytes=${have}-`],
    );
    assert.deepEqual(await readFile(join(dir, BIG)), FILES[BIG]);
    assert.deepEqual(await readdir(dir), [BIG]);
  });

  it('retries within one call, and restarts cleanly when the server ignores Range', async () => {
    srv.behaviour.set(`/files/${BIG}`, { truncate: 1, noRange: true });
    await downloadFiles(opts({ files: bigOnly() }));
    assert.equal(srv.hits.length, 2);
    assert.match(srv.hits[1].range ?? '', /^bytes=\d+-$/);
    assert.deepEqual(await readFile(join(dir, BIG)), FILES[BIG]);
  });

  it('a stale part file longer than the file is discarded and the download restarts', async () => {
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, `${BIG}.part`), Buffer.alloc(FILES[BIG].length + 10, 7));
    await downloadFiles(opts({ files: bigOnly() }));
    assert.deepEqual(await readFile(join(dir, BIG)), FILES[BIG]);
  });

  it('a present file with the wrong MD5 is downloaded again', async () => {
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, BIG), 'stale');
    const [r] = await downloadFiles(opts({ files: bigOnly() }));
    assert.equal(r.status, 'downloaded');
    assert.deepEqual(await readFile(join(dir, BIG)), FILES[BIG]);
  });

  it('reports an HTTP 500 with the status and leaves nothing behind', async () => {
    srv.behaviour.set(`/files/${BIG}`, { status: 500 });
    await rejectsData(
      () => downloadFiles(opts({ files: bigOnly() })),
      'fetch-http',
      'HTTP 500',
      BIG,
    );
    assert.deepEqual(await readdir(dir), []);
  });

  it('follows redirects, but a bounded number, and never to plain http elsewhere', async () => {
    srv.behaviour.set('/old/' + BIG, { redirect: `/files/${BIG}` });
    await downloadFiles(opts({ baseUrl: `${srv.base}/old`, files: bigOnly() }));
    assert.deepEqual(
      srv.hits.map((h) => h.path),
      [`/old/${BIG}`, `/files/${BIG}`],
    );
    assert.deepEqual(await readFile(join(dir, BIG)), FILES[BIG]);

    srv.behaviour.set('/loop/' + BIG, { redirect: `/loop/${BIG}` });
    // Fresh folders below: the file is already present in `dir` and would not be requested again.
    const loopDir = join(dir, 'loop');
    await rejectsData(
      () =>
        downloadFiles(
          opts({ baseUrl: `${srv.base}/loop/`, dir: loopDir, files: bigOnly(), maxRedirects: 3 }),
        ),
      'fetch-redirects',
      'more than 3',
    );

    // Refused before any request is made: nothing leaves 127.0.0.1.
    srv.behaviour.set('/away/' + BIG, { redirect: `http://example.com/${BIG}` });
    srv.hits = [];
    await rejectsData(
      () =>
        downloadFiles(
          opts({ baseUrl: `${srv.base}/away/`, dir: join(dir, 'away'), files: bigOnly() }),
        ),
      'fetch-insecure',
      'http://example.com',
    );
    assert.equal(srv.hits.length, 1);
  });

  it('an unreachable host gives "could not reach HOST: … (offline?)"', async () => {
    const closed = createServer();
    await new Promise<void>((ok) => closed.listen(0, '127.0.0.1', ok));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((ok) => closed.close(ok));
    await rejectsData(
      () => downloadFiles(opts({ baseUrl: `http://127.0.0.1:${port}/`, files: bigOnly() })),
      'fetch-unreachable',
      `could not reach 127.0.0.1:${port}`,
      '(offline?)',
    );
    assert.ok(!existsSync(join(dir, BIG)));
  });
});

describe('progress and proxies', () => {
  it('a TTY gets a live line with bytes and percent', async () => {
    const srv = new FixtureServer();
    await srv.start();
    const { dir, cleanup } = await tempDir('fetch-tty-');
    try {
      const out = sink();
      const tty = Object.assign(out.stream, { isTTY: true });
      await downloadFiles({
        baseUrl: `${srv.base}/files/`,
        dir,
        files: REMOTE.slice(0, 1),
        allowInsecureLoopback: true,
        progress: tty,
      });
      const text = out.lines().join('\n');
      assert.match(text, /\r[\w.-]+: \d+\.\d \/ \d+\.\d MB 100%/);
    } finally {
      await srv.stop();
      await cleanup();
    }
  });

  it('goes through HTTPS_PROXY with a CONNECT to the target host', async () => {
    // The "proxy" is a loopback server that records the CONNECT and refuses it: nothing leaves 127.0.0.1.
    const proxy = createServer();
    const connects: string[] = [];
    proxy.on('connect', (req: IncomingMessage, socket) => {
      connects.push(req.url ?? '');
      socket.end('HTTP/1.1 403 Forbidden\r\n\r\n');
    });
    await new Promise<void>((ok) => proxy.listen(0, '127.0.0.1', ok));
    const saved = { ...process.env };
    const { dir, cleanup } = await tempDir('fetch-proxy-');
    try {
      for (const k of [
        'HTTPS_PROXY',
        'https_proxy',
        'HTTP_PROXY',
        'http_proxy',
        'NO_PROXY',
        'no_proxy',
      ])
        delete process.env[k];
      process.env.https_proxy = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
      await assert.rejects(
        downloadFiles({
          baseUrl: 'https://datasets.example.invalid/f/',
          dir,
          files: REMOTE.slice(0, 1),
          progress: sink().stream,
        }),
        DataError,
      );
      assert.deepEqual(connects, ['datasets.example.invalid:443']);
    } finally {
      process.env = saved;
      proxy.closeAllConnections();
      await new Promise((ok) => proxy.close(ok));
      await cleanup();
    }
  });
});

describe('URL policy and messages', () => {
  it('allows https, and http only to loopback when explicitly allowed', () => {
    assert.equal(checkUrl('https://example.com/x/').host, 'example.com');
    assert.equal(checkUrl('http://127.0.0.1:9/', true).port, '9');
    assert.equal(checkUrl('http://localhost/', true).hostname, 'localhost');
    for (const [url, allow] of [
      ['http://127.0.0.1/', false],
      ['http://example.com/', true],
      ['ftp://127.0.0.1/', true],
      ['not a url', true],
    ] as const) {
      assert.throws(
        () => checkUrl(url, allow),
        (e: unknown) => e instanceof ConfigError && /https:\/\//.test(e.message),
        url,
      );
    }
  });

  it('refuses a plain-http base URL before downloading anything', async () => {
    await assert.rejects(
      downloadFiles({
        baseUrl: 'http://127.0.0.1:1/',
        dir: '/nonexistent-never-created',
        files: REMOTE,
      }),
      ConfigError,
    );
    assert.ok(!existsSync('/nonexistent-never-created'));
  });

  it('explains a DNS failure as probably offline', () => {
    const err = Object.assign(new TypeError('fetch failed'), {
      cause: Object.assign(new Error('getaddrinfo ENOTFOUND example.org'), { code: 'ENOTFOUND' }),
    });
    assert.equal(
      networkErrorMessage('example.org', err),
      'could not reach example.org: getaddrinfo ENOTFOUND example.org (offline?)',
    );
  });
});
