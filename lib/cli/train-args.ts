// Parses and validates `npm run train` arguments before any work starts: every error names the option and its range.
import { parseArgs } from 'node:util';
import { parseEngineChoice, type EngineChoice } from '../ml/engine.js';
import { ConfigError } from '../core/errors.js';
import { isModelName } from '../ml/persist.js';
import { ACTIVATIONS, MODEL_OF_RECORD, resolveConfig, type Activation, type MlpConfig } from '../ml/model.js';

export const DATASET_CHOICES = ['mnist', 'mnist-quick', 'fashion-mnist', 'idx-dir'] as const;
export type DatasetChoice = (typeof DATASET_CHOICES)[number];

export interface TrainCliOptions {
  readonly dataset: DatasetChoice;
  readonly dataDir?: string;
  readonly epochs: number;
  readonly batchSize: number;
  readonly limitTrain?: number;
  readonly validationSize: number;
  readonly engine: EngineChoice;
  readonly save?: string;
  readonly json: boolean;
  readonly verbose: boolean;
  readonly help: boolean;
  readonly model: MlpConfig;
}

export const TRAIN_USAGE = `Usage: npm run train -- [options]

Trains the multilayer perceptron on MNIST (or another IDX dataset) and reports accuracy per epoch.

  --dataset NAME         mnist (default: full 60k/10k), mnist-quick (10k subset), fashion-mnist, idx-dir
  --data-dir DIR         a folder with the four IDX files (implies --dataset idx-dir unless fashion-mnist)
  --epochs N             1..10000 (default 10)
  --batch-size N         1..training-set size (default 128)
  --learning-rate X      > 0 (default 0.001)
  --hidden LIST          hidden layer sizes, e.g. 256,128 (default); "none" for no hidden layer
  --activation NAME      ${ACTIVATIONS.join(', ')} (default relu)
  --dropout X            0 ≤ X < 1 (default 0.2)
  --l2 X                 ≥ 0 (default 0.0001)
  --seed N               integer (default 42): fixes weights, shuffling and dropout
  --limit-train N        train on the first N training samples only
  --validation-size N    training samples held out to watch validation accuracy (default 0: train on all
                         60,000, as the reference results do; e.g. 5000)
  --engine NAME          auto (default), tensorflow, wasm, cpu
  --save NAME            save the trained model to data/models/NAME/
  --json                 one JSON object per line instead of human output
  --verbose              stack traces on errors
  -h, --help             this help
`;

function integer(option: string, raw: string, min: number, max: number): number {
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`--${option}`, `expected an integer from ${min} to ${max}, got "${raw}"`);
  }
  return value;
}

function decimal(option: string, raw: string, ok: (x: number) => boolean, range: string): number {
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(value) || !ok(value)) {
    throw new ConfigError(`--${option}`, `expected a number ${range}, got "${raw}"`);
  }
  return value;
}

function hiddenList(raw: string): number[] {
  if (raw.trim().toLowerCase() === 'none' || raw.trim() === '') return [];
  const parts = raw.split(',');
  if (!parts.every((p) => /^\s*\d+\s*$/.test(p)) || parts.some((p) => Number(p) < 1 || Number(p) > 65536)) {
    throw new ConfigError('--hidden', `expected comma-separated layer sizes from 1 to 65536 (e.g. 256,128) or "none", got "${raw}"`);
  }
  return parts.map(Number);
}

function oneOf<T extends string>(option: string, raw: string, choices: readonly T[]): T {
  if ((choices as readonly string[]).includes(raw)) return raw as T;
  throw new ConfigError(`--${option}`, `unknown value "${raw}"; expected one of ${choices.join(', ')}`);
}

const OPTIONS = {
  dataset: { type: 'string' },
  'data-dir': { type: 'string' },
  epochs: { type: 'string' },
  'batch-size': { type: 'string' },
  'learning-rate': { type: 'string' },
  hidden: { type: 'string' },
  activation: { type: 'string' },
  dropout: { type: 'string' },
  l2: { type: 'string' },
  seed: { type: 'string' },
  'limit-train': { type: 'string' },
  'validation-size': { type: 'string' },
  engine: { type: 'string' },
  save: { type: 'string' },
  json: { type: 'boolean' },
  verbose: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** `--epochs -1` → `--epochs=-1`, so a negative number reaches range checking instead of looking like an option. */
function attachNegativeNumbers(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i].startsWith('--') ? argv[i].slice(2) : '';
    const spec = (OPTIONS as Record<string, { type: string }>)[name];
    if (spec?.type === 'string' && /^-\d|^-\.\d/.test(argv[i + 1] ?? '')) out.push(`${argv[i]}=${argv[++i]}`);
    else out.push(argv[i]);
  }
  return out;
}

/** Turns argv into validated options, or throws ConfigError naming the bad option and its allowed range. */
export function parseTrainArgs(argv: readonly string[]): TrainCliOptions {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({ args: attachNegativeNumbers(argv), options: OPTIONS, strict: true, allowPositionals: false }));
  } catch (error) {
    // node:util's messages are clear ("Unknown option '--x'"); keep their first sentence, on one line.
    const first = (error as Error).message.split('\n')[0];
    const ambiguous = /^Option '(--[\w-]+)' argument is ambiguous/.exec(first);
    if (ambiguous) throw new ConfigError(ambiguous[1], 'expects a value, but is followed by another option (see --help)');
    throw new ConfigError('arguments', `${first} (see --help)`);
  }
  const str = (name: string) => values[name] as string | undefined;
  const dataDir = str('data-dir');
  const datasetRaw = str('dataset') ?? (dataDir ? 'idx-dir' : 'mnist');
  const dataset = oneOf('dataset', datasetRaw, DATASET_CHOICES);
  if (dataset === 'idx-dir' && !dataDir) throw new ConfigError('--data-dir', 'is required with --dataset idx-dir');
  const model = resolveConfig({
    learningRate: str('learning-rate') === undefined ? MODEL_OF_RECORD.learningRate : decimal('learning-rate', str('learning-rate')!, (x) => x > 0, '> 0'),
    hidden: str('hidden') === undefined ? MODEL_OF_RECORD.hidden : hiddenList(str('hidden')!),
    activation: str('activation') === undefined ? MODEL_OF_RECORD.activation : oneOf<Activation>('activation', str('activation')!, ACTIVATIONS),
    dropout: str('dropout') === undefined ? MODEL_OF_RECORD.dropout : decimal('dropout', str('dropout')!, (x) => x >= 0 && x < 1, 'in [0, 1)'),
    l2: str('l2') === undefined ? MODEL_OF_RECORD.l2 : decimal('l2', str('l2')!, (x) => x >= 0, '≥ 0'),
    seed: str('seed') === undefined ? MODEL_OF_RECORD.seed : integer('seed', str('seed')!, 0, 2 ** 31 - 1),
  });
  const save = str('save');
  if (save !== undefined && !isModelName(save)) {
    throw new ConfigError('--save', `expected a model name of letters, digits, '.', '_' or '-' (at most 64), got "${save}"`);
  }
  return {
    dataset,
    dataDir,
    epochs: str('epochs') === undefined ? 10 : integer('epochs', str('epochs')!, 1, 10_000),
    batchSize: str('batch-size') === undefined ? 128 : integer('batch-size', str('batch-size')!, 1, 1_000_000),
    limitTrain: str('limit-train') === undefined ? undefined : integer('limit-train', str('limit-train')!, 1, 10_000_000),
    validationSize: str('validation-size') === undefined ? 0 : integer('validation-size', str('validation-size')!, 0, 10_000_000),
    engine: str('engine') === undefined ? 'auto' : parseEngineChoice(str('engine')!),
    save,
    json: values.json === true,
    verbose: values.verbose === true,
    help: values.help === true,
    model,
  };
}
