// `npm run demo`: a local page (127.0.0.1 only) where you draw a digit and the trained model guesses it live, in the browser.
//
// The server hands out a fixed list of files and nothing else: the page (demo/), lib/data/preprocess.ts
// transpiled for the browser, TensorFlow.js from node_modules, and the three files of one saved model.
// A request path is looked up as an exact string in that list, so no path from a request ever reaches
// the file system: "..", encoded or not, cannot escape.
import { existsSync, promises as fs, readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import {
  intOption,
  parseCli,
  runMain,
  usage,
  type DescribedOptionTable,
} from '../shared/options.js';
import { ConfigError } from '../../lib/core/errors.js';
import { projectRoot } from '../../lib/core/paths.js';

// Loaded after the options are parsed: lib/ml/persist brings TensorFlow.js, which --help should not wait for.
type Heavy = typeof import('../../lib/ml/persist.js') &
  typeof import('../../lib/notebook/draw-widget.js');
let heavy: Heavy;
async function loadHeavy(): Promise<Heavy> {
  heavy ??= {
    ...(await import('../../lib/ml/persist.js')),
    ...(await import('../../lib/notebook/draw-widget.js')),
  };
  return heavy;
}

const DEFAULT_PORT = 8765;
const HOST = '127.0.0.1';
const MODEL_FILES = ['model.json', 'weights.bin', 'meta.json'] as const;

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.bin': 'application/octet-stream',
};

// No inline scripts and no eval (demo/tf-setup.js keeps tf.min.js from needing it); the model arrives through fetch ('self').
const SECURITY_HEADERS = {
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Content-Security-Policy':
    "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
};

interface Options {
  port: number;
  modelArg: string;
}

const OPTIONS = {
  port: {
    type: 'string',
    expects: 'an integer from 0 to 65535 (0 picks a free port)',
    value: 'N',
    describe: '0..65535 (default 8765; 0 picks a free port)',
  },
  model: {
    type: 'string',
    expects: 'a model name or folder',
    value: 'NAME|PATH',
    describe:
      'a model saved under data/models/NAME/ (default mlp), or a folder path: an MLP or a CNN (npm run train -- --model cnn --save NAME)',
  },
  help: { type: 'boolean', short: 'h', describe: 'this help' },
} as const satisfies DescribedOptionTable;

const USAGE = usage(
  {
    synopsis: ['npm run demo -- [--port N] [--model NAME|PATH]'],
    about: [
      `Serves a page on http://127.0.0.1:PORT/ where you draw a digit with the mouse, a pen or a
      finger and see the trained model's probabilities for 0–9 as you draw. Everything runs offline
      in your browser.`,
    ],
    notes: ['Train the model first: npm run train -- --save mlp (or run notebook 03).'],
  },
  OPTIONS,
);

function parseOptions(argv: string[]): Options | undefined {
  const { values } = parseCli(argv, OPTIONS);
  if (values.help) return undefined;
  const port = intOption(
    '--port',
    values.port ?? String(DEFAULT_PORT),
    0,
    65535,
    '0 picks a free port',
  );
  return { port, modelArg: values.model ?? 'mlp' };
}

interface Route {
  /** Reads the body at request time, so a retrained model or an edited page shows on reload. */
  readonly body: () => Promise<Buffer | string>;
  readonly type: string;
  /** Model files change when you retrain: never cache them. */
  readonly noStore?: boolean;
}

async function routes(modelDir: string, modelName: string): Promise<Map<string, Route>> {
  const root = projectRoot();
  const demoFile = (name: string) => () => fs.readFile(path.join(root, 'demo', name));
  // The page runs exactly the code the unit tests check: lib/data/preprocess.ts, transpiled as it is now.
  const preprocess = await heavy.preprocessBrowserSource('esm');
  const table = new Map<string, Route>([
    ['/', { body: demoFile('index.html'), type: TYPES['.html'] }],
    ['/index.html', { body: demoFile('index.html'), type: TYPES['.html'] }],
    ['/demo.js', { body: demoFile('demo.js'), type: TYPES['.js'] }],
    ['/style.css', { body: demoFile('style.css'), type: TYPES['.css'] }],
    ['/tf-setup.js', { body: demoFile('tf-setup.js'), type: TYPES['.js'] }],
    ['/preprocess.js', { body: async () => preprocess, type: TYPES['.js'] }],
    [
      '/vendor/tf.min.js',
      {
        body: () =>
          fs.readFile(path.join(root, 'node_modules', '@tensorflow', 'tfjs', 'dist', 'tf.min.js')),
        type: TYPES['.js'],
      },
    ],
    [
      '/info.json',
      {
        body: async () => JSON.stringify(modelInfo(modelDir, modelName)),
        type: TYPES['.json'],
        noStore: true,
      },
    ],
  ]);
  for (const file of MODEL_FILES) {
    table.set(`/model/${file}`, {
      body: () => fs.readFile(path.join(modelDir, file)),
      type: TYPES[path.extname(file)],
      noStore: true,
    });
  }
  return table;
}

interface ModelInfo {
  readonly name: string;
  readonly dir: string;
  readonly available: boolean;
  /** What to do when the model is missing, in one sentence. */
  readonly hint: string;
  readonly classNames: readonly string[];
  readonly testAccuracy?: number;
  /** From meta.json: 'cnn' for the CNN, else 'mlp' (models saved before the CNN have no kind). */
  readonly kind: 'mlp' | 'cnn';
}

function modelInfo(dir: string, name: string): ModelInfo {
  const available = MODEL_FILES.every((f) => existsSync(path.join(dir, f)));
  const shown = path.relative(projectRoot(), dir).startsWith('..')
    ? dir
    : path.relative(projectRoot(), dir);
  const isName = heavy.isModelName(name);
  const hint = available
    ? ''
    : isName
      ? `No trained model in ${shown}/ yet. Train one with \`npm run train -- --save ${name}\` (or run notebook 03), then reload this page.`
      : `No trained model in ${shown}/ yet. Point --model at a folder written by saveModel, or train the default one with \`npm run train -- --save mlp\` and run \`npm run demo\`.`;
  let classNames: readonly string[] = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];
  let testAccuracy: number | undefined;
  let kind: ModelInfo['kind'] = 'mlp';
  if (available) {
    try {
      const meta = JSON.parse(readFileSync(path.join(dir, 'meta.json'), 'utf8')) as {
        kind?: string;
        dataset?: { classNames?: string[] };
        history?: Array<{ testAccuracy?: number }>;
      };
      classNames = meta.dataset?.classNames ?? classNames;
      testAccuracy = meta.history?.at(-1)?.testAccuracy;
      if (meta.kind === 'cnn') kind = 'cnn';
    } catch {
      // A broken meta.json is the model loader's business; the page still shows digit names.
    }
  }
  return {
    name: isName ? name : path.basename(dir),
    dir: shown,
    available,
    hint,
    classNames,
    testAccuracy,
    kind,
  };
}

/** 400 for paths that try to climb out or smuggle bytes, even encoded (several times); else undefined. */
function rejectReason(rawPath: string): string | undefined {
  if (!rawPath.startsWith('/')) return 'the request path must start with /';
  let decoded = rawPath;
  for (let round = 0; round < 4 && decoded.includes('%'); round++) {
    try {
      decoded = decodeURIComponent(decoded);
    } catch {
      return 'the request path is not valid percent-encoding';
    }
  }
  if (decoded.includes('\0')) return 'the request path contains a NUL byte';
  if (decoded.includes('\\') || /(^|\/)\.\.?(\/|$)/.test(decoded))
    return 'the request path contains "." or ".." segments';
  return undefined;
}

function send(
  res: http.ServerResponse,
  status: number,
  type: string,
  body: Buffer | string,
  head: boolean,
  extra: Record<string, string> = {},
): void {
  const bytes = typeof body === 'string' ? Buffer.from(body) : body;
  res.writeHead(status, {
    'Content-Type': type,
    'Content-Length': String(bytes.length),
    ...SECURITY_HEADERS,
    ...extra,
  });
  res.end(head ? undefined : bytes);
}

function handler(table: Map<string, Route>, allowedHosts: () => string[]) {
  return async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const text = TYPES['.html'].replace('html', 'plain');
    const head = req.method === 'HEAD';
    if (req.method !== 'GET' && !head)
      return send(res, 405, text, 'Only GET and HEAD are allowed.\n', false, {
        Allow: 'GET, HEAD',
      });
    // A page on another site could point its own host name at 127.0.0.1 (DNS rebinding): only answer our names.
    if (!allowedHosts().includes((req.headers.host ?? '').toLowerCase()))
      return send(res, 403, text, 'Unknown Host header.\n', head);
    const raw = req.url ?? '';
    const pathname = raw.split(/[?#]/, 1)[0];
    const reason = rejectReason(pathname);
    if (reason) return send(res, 400, text, `Bad request: ${reason}.\n`, head);
    const route = table.get(pathname);
    if (!route) return send(res, 404, text, 'Not found.\n', head);
    try {
      const body = await route.body();
      send(
        res,
        200,
        route.type,
        body,
        head,
        route.noStore ? { 'Cache-Control': 'no-store' } : { 'Cache-Control': 'no-cache' },
      );
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT')
        return send(res, 404, text, 'Not found (no trained model yet? see the page).\n', head);
      send(res, 500, text, 'Internal error while reading a file.\n', head);
    }
  };
}

interface DemoServer {
  readonly url: string;
  readonly port: number;
  readonly info: ModelInfo;
  close(): Promise<void>;
}

/** Starts the server on 127.0.0.1 (never another interface). Port 0 picks a free port. */
async function startDemoServer(options: {
  port: number;
  modelDir: string;
  modelName: string;
}): Promise<DemoServer> {
  const table = await routes(options.modelDir, options.modelName);
  let port = options.port;
  const handle = handler(table, () => [`${HOST}:${port}`, `localhost:${port}`]);
  // handle() answers every error itself (500 at worst), so its promise never rejects.
  const server = http.createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE')
        reject(
          new ConfigError(
            '--port',
            `port ${options.port} on ${HOST} is already in use; pick another with --port N, or --port 0 for a free one`,
          ),
        );
      else if (error.code === 'EACCES')
        reject(
          new ConfigError(
            '--port',
            `port ${options.port} needs special rights; use a port above 1023, or --port 0`,
          ),
        );
      else reject(error);
    });
    server.listen(options.port, HOST, () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  return {
    url: `http://${HOST}:${port}/`,
    port,
    info: modelInfo(options.modelDir, options.modelName),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections(); // keep-alive browser connections would otherwise hold close() open
      }),
  };
}

async function main(): Promise<number> {
  const options = parseOptions(process.argv.slice(2));
  if (!options) {
    process.stdout.write(USAGE);
    return 0;
  }
  await loadHeavy();
  const modelDir = heavy.resolveModelDir(options.modelArg);
  const server = await startDemoServer({
    port: options.port,
    modelDir,
    modelName: options.modelArg,
  });
  console.log(`Draw-a-digit demo: ${server.url}`);
  if (server.info.available) {
    const acc =
      server.info.testAccuracy === undefined
        ? ''
        : ` (test accuracy ${(100 * server.info.testAccuracy).toFixed(1)} %)`;
    console.log(`model: ${server.info.dir}/${acc}${server.info.kind === 'cnn' ? ', a CNN' : ''}`);
  } else {
    console.log(server.info.hint.replace(/`/g, ''));
  }
  console.log('Open the address in a browser; press Ctrl-C to stop.');
  await new Promise<void>((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      console.log(`\n${signal}: stopping the demo server`);
      void server.close().then(resolve);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  return 0;
}

runMain(main, { exit: true });
