// The one registry of the kit's MNIST_* environment variables: each declared once, read and validated only here.
import { ConfigError } from './errors.js';

/** Who sets a variable: the person running the kit, one of the kit's own runners, or a test. */
type Setter = 'user' | 'runner' | 'test';

interface SettingBase {
  /** What it changes, in one sentence for docs/settings.md. */
  readonly meaning: string;
  /** The value used when it is unset or empty, in words. */
  readonly default: string;
  readonly setBy: readonly Setter[];
}

/** On/off: 1, true, yes, on or 0, false, no, off (any case); unset or empty is off. */
interface FlagSetting extends SettingBase {
  readonly kind: 'flag';
}

interface IntegerSetting extends SettingBase {
  readonly kind: 'integer';
  readonly min: number;
  readonly max: number;
  /** What the number counts, for the error message: "threads for the engine". */
  readonly counts: string;
}

/** A file or folder, or a program's name on PATH; whether it must exist is checked where it is used. */
interface PathSetting extends SettingBase {
  readonly kind: 'path';
}

interface StringSetting extends SettingBase {
  readonly kind: 'string';
}

/** Comma-separated names; empty items are dropped. */
interface ListSetting extends SettingBase {
  readonly kind: 'list';
}

type Setting = FlagSetting | IntegerSetting | PathSetting | StringSetting | ListSetting;

export const SETTINGS = {
  MNIST_NB_QUICK: {
    kind: 'flag',
    meaning:
      'Quick mode for notebooks: the 10,000-digit `mnist-quick` subset and 2 epochs, saved model `mlp-quick`. `--quick` of `npm run notebooks`, `jupyter` and `room` sets it for the kernels; the notebook runner ignores it from the shell.',
    default: 'off',
    setBy: ['runner', 'user'],
  },
  MNIST_NB_STATIC: {
    kind: 'flag',
    meaning:
      'Figures are shown as PNG pictures instead of interactive plotly (what GitHub and untrusted notebooks display).',
    default: 'off (interactive)',
    setBy: ['runner'],
  },
  MNIST_NB_MODEL: {
    kind: 'string',
    meaning:
      'The saved model notebooks 03, 04 and 07 share: a name under `data/models/` or a folder path.',
    default: '`mlp` (`mlp-quick` in quick mode)',
    setBy: ['user', 'runner', 'test'],
  },
  MNIST_NB_FASHION_DIR: {
    kind: 'path',
    meaning: 'The folder with the four Fashion-MNIST IDX files, for notebook 06.',
    default: '`data/fashion-mnist`',
    setBy: ['user', 'test', 'runner'],
  },
  MNIST_NB_FIGURES_DIR: {
    kind: 'path',
    meaning: 'Where figures also go as files (`<name>.png`, `<name>.html`).',
    default: 'no figure files',
    setBy: ['runner'],
  },
  MNIST_NB_FIGURES_PLOTLY: {
    kind: 'string',
    meaning: "The plotly.js script the figures' HTML files load (a path relative to them).",
    default: 'plotly.js inlined in each HTML file',
    setBy: ['runner'],
  },
  MNIST_NB_NOTEBOOK: {
    kind: 'string',
    meaning:
      "The name of the notebook the kernel runs: the runner's word to the kernel; the kit itself does not read it.",
    default: 'unset',
    setBy: ['runner'],
  },
  MNIST_NB_BROWSER: {
    kind: 'path',
    meaning: 'The Chromium executable that draws PNG figures and runs the browser tests.',
    default: "`/usr/bin/chromium`, else playwright's own download",
    setBy: ['user'],
  },
  MNIST_NB_PYTHON: {
    kind: 'path',
    meaning:
      'Your own Python with Jupyter (nbclient; JupyterLab and Notebook 7 for `npm run jupyter`), used as it is instead of `.venv/`.',
    default: "the project's `.venv/`",
    setBy: ['user', 'test'],
  },
  MNIST_NB_BASE_PYTHON: {
    kind: 'path',
    meaning: 'The Python (≥ 3.10, with venv) that `npm run python-env` makes `.venv/` from.',
    default: '`python3`, then `python`',
    setBy: ['user', 'test'],
  },
  MNIST_NB_VENV: {
    kind: 'path',
    meaning: "The project's Python environment folder.",
    default: '`.venv/`',
    setBy: ['user', 'test'],
  },
  MNIST_NB_JUPYTER_DIR: {
    kind: 'path',
    meaning: "The project's Jupyter folder (kernel spec, config, runtime files).",
    default: '`.jupyter/`',
    setBy: ['user', 'test'],
  },
  MNIST_NB_TSLAB: {
    kind: 'path',
    meaning: 'The tslab program the kernel spec runs.',
    default: '`node_modules/.bin/tslab`',
    setBy: ['user', 'test'],
  },
  MNIST_ENGINE_THREADS: {
    kind: 'integer',
    min: 1,
    max: 8,
    counts: 'threads for the engine',
    meaning:
      "Threads the engine computes with: XNNPACK's pool on wasm (1 = the single-threaded build), TensorFlow's intra-op pool on the native engine (unless `TF_NUM_INTRAOP_THREADS` is set). `npm run notebooks --jobs N` sets cores / N for each kernel unless you set it.",
    default: 'the cores available, at most 8',
    setBy: ['user', 'runner', 'test'],
  },
  MNIST_BENCH_PYTHON: {
    kind: 'path',
    meaning: "The Python with PyTorch that runs `npm run bench`'s reference.",
    default: '`/usr/bin/python3`',
    setBy: ['user'],
  },
  MNIST_BENCH_TORCH_THREADS: {
    kind: 'integer',
    min: 1,
    max: 256,
    counts: "threads for PyTorch's reference",
    meaning: "Threads of `npm run bench`'s PyTorch reference.",
    default: '1',
    setBy: ['user'],
  },
  MNIST_BENCH_BLAS_DIR: {
    kind: 'path',
    meaning:
      "A folder put first on the PyTorch reference's library path (another BLAS for `npm run bench`).",
    default: 'the library path as it is',
    setBy: ['user'],
  },
  MNIST_SKIP_NATIVE: {
    kind: 'flag',
    meaning:
      'Tests that need the native engine are skipped (with the reason) instead of failing when it is not installed.',
    default: 'off: they fail, so CI cannot pass by skipping',
    setBy: ['user'],
  },
  MNIST_NB_SKIP_BROWSER: {
    kind: 'flag',
    meaning:
      "Tests that need Chromium or the project's Jupyter are skipped (with the reason) instead of failing when these are missing.",
    default: 'off: they fail, so CI cannot pass by skipping',
    setBy: ['user'],
  },
  MNIST_NB_LAB_ONLY: {
    kind: 'list',
    meaning:
      'The JupyterLab test runs only these notebooks (name prefixes, e.g. `02,03`) while working on it.',
    default: 'every notebook',
    setBy: ['user'],
  },
  MNIST_NB_ROOM_LEARNERS: {
    kind: 'integer',
    min: 1,
    max: 200,
    counts: 'learner accounts for the room test',
    meaning:
      'How many learners the room test (tests/integration/room.test.ts) creates, for a one-off load check.',
    default: '4',
    setBy: ['user'],
  },
  MNIST_NB_ROOM_NOTEBOOKS: {
    kind: 'list',
    meaning: 'The notebooks each learner of the room test runs (file names).',
    default: '`02-build-mlp.ipynb`',
    setBy: ['user'],
  },
  MNIST_TRACE_TF: {
    kind: 'path',
    meaning:
      'A file where the CLI test records every `@tensorflow/*` import (to prove `--help` loads none).',
    default: 'no record',
    setBy: ['test'],
  },
} as const satisfies Readonly<Record<string, Setting>>;

export type SettingName = keyof typeof SETTINGS;

/** What `setting()` returns for each kind: unset and empty read as the default (undefined: the caller's). */
type SettingValue<N extends SettingName> = (typeof SETTINGS)[N]['kind'] extends 'flag'
  ? boolean
  : (typeof SETTINGS)[N]['kind'] extends 'integer'
    ? number | undefined
    : (typeof SETTINGS)[N]['kind'] extends 'list'
      ? string[]
      : string | undefined;

const FLAG_ON = ['1', 'true', 'yes', 'on'];
const FLAG_OFF = ['0', 'false', 'no', 'off'];

function parseFlag(name: string, raw: string): boolean {
  const value = raw.toLowerCase();
  if (FLAG_ON.includes(value)) return true;
  if (FLAG_OFF.includes(value)) return false;
  throw new ConfigError(name, `expected 1 or 0 (or true/false, yes/no, on/off), got "${raw}"`);
}

function parseInteger(name: string, spec: IntegerSetting, raw: string): number {
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n < spec.min || n > spec.max)
    throw new ConfigError(
      name,
      `expected an integer from ${spec.min} to ${spec.max} (${spec.counts}), got "${raw}"`,
    );
  return n;
}

/**
 * The value of one setting in `env`, validated: a bad value is a ConfigError naming the variable, the
 * value and what was expected. Surrounding blanks are ignored; unset or empty reads as the default.
 */
export function setting<N extends SettingName>(
  name: N,
  env: NodeJS.ProcessEnv = process.env,
): SettingValue<N> {
  const spec: Setting = SETTINGS[name];
  const raw = env[name]?.trim() ?? '';
  let value: boolean | number | string | string[] | undefined;
  if (spec.kind === 'flag') value = raw !== '' && parseFlag(name, raw);
  else if (spec.kind === 'list')
    value = raw
      .split(',')
      .map((item) => item.trim())
      .filter(Boolean);
  else if (raw === '') value = undefined;
  else value = spec.kind === 'integer' ? parseInteger(name, spec, raw) : raw;
  return value as SettingValue<N>;
}

function typeOf(spec: Setting): string {
  if (spec.kind === 'integer') return `integer ${spec.min}–${spec.max}`;
  if (spec.kind === 'flag') return 'flag (1/0)';
  if (spec.kind === 'list') return 'comma-separated list';
  return spec.kind;
}

/** One setting in words for a command's --help: what it does, its type and its default. */
export function settingHelp(name: SettingName): string {
  const spec: Setting = SETTINGS[name];
  return `${spec.meaning} (${typeOf(spec)}; default: ${spec.default})`.replace(/`/g, '');
}

/** docs/settings.md, generated from SETTINGS (`npm run docs`; a test fails when the file is stale). */
export function settingsMarkdown(): string {
  const rows = Object.entries(SETTINGS).map(([name, spec]: [string, Setting]) =>
    [`\`${name}\``, typeOf(spec), spec.default, spec.setBy.join(', '), spec.meaning].join(' | '),
  );
  return [
    '# Settings: the environment variables the kit reads',
    '',
    '<!-- Generated from lib/core/settings.ts by `npm run docs`: edit the registry, not this file. -->',
    '',
    'Every `MNIST_*` variable the notebooks, `lib/`, the scripts and the tests read is declared once, in',
    '`lib/core/settings.ts`, and read only through it: a value that does not fit its type is an error',
    'naming the variable, the value and what was expected. Unset and empty both mean the default.',
    'Flags take `1`, `true`, `yes`, `on` or `0`, `false`, `no`, `off`. *Set by*: `user` (you),',
    '`runner` (the kit sets it for the processes it starts), `test` (the tests set it for theirs).',
    '',
    '| variable | type | default | set by | what it does |',
    '|---|---|---|---|---|',
    ...rows.map((row) => `| ${row} |`),
    '',
  ].join('\n');
}
