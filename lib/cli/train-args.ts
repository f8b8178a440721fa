// Parses and validates `npm run train` arguments before any work starts: every error names the option and its range.
import { parseEngineChoice, type EngineChoice } from '../ml/engine.js';
import { ConfigError } from '../core/errors.js';
import { isModelName } from '../ml/persist.js';
import { parseCli } from './options.js';
import { TRAIN_OPTIONS } from './train-options.js';
import {
  ACTIVATIONS,
  MODEL_OF_RECORD,
  resolveConfig,
  type Activation,
  type MlpConfig,
} from '../ml/model.js';

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
  if (
    !parts.every((p) => /^\s*\d+\s*$/.test(p)) ||
    parts.some((p) => Number(p) < 1 || Number(p) > 65536)
  ) {
    throw new ConfigError(
      '--hidden',
      `expected comma-separated layer sizes from 1 to 65536 (e.g. 256,128) or "none", got "${raw}"`,
    );
  }
  return parts.map(Number);
}

function oneOf<T extends string>(option: string, raw: string, choices: readonly T[]): T {
  if ((choices as readonly string[]).includes(raw)) return raw as T;
  throw new ConfigError(
    `--${option}`,
    `unknown value "${raw}"; expected one of ${choices.join(', ')}`,
  );
}

/** Turns argv into validated options, or throws ConfigError naming the bad option and its allowed range. */
export function parseTrainArgs(argv: readonly string[]): TrainCliOptions {
  const { values } = parseCli(argv, TRAIN_OPTIONS);
  const str = (name: keyof typeof TRAIN_OPTIONS) => values[name] as string | undefined;
  const dataDir = str('data-dir');
  const datasetRaw = str('dataset') ?? (dataDir ? 'idx-dir' : 'mnist');
  const dataset = oneOf('dataset', datasetRaw, DATASET_CHOICES);
  if (dataset === 'idx-dir' && !dataDir)
    throw new ConfigError('--data-dir', 'is required with --dataset idx-dir');
  const model = resolveConfig({
    learningRate:
      str('learning-rate') === undefined
        ? MODEL_OF_RECORD.learningRate
        : decimal('learning-rate', str('learning-rate')!, (x) => x > 0, '> 0'),
    hidden: str('hidden') === undefined ? MODEL_OF_RECORD.hidden : hiddenList(str('hidden')!),
    activation:
      str('activation') === undefined
        ? MODEL_OF_RECORD.activation
        : oneOf<Activation>('activation', str('activation')!, ACTIVATIONS),
    dropout:
      str('dropout') === undefined
        ? MODEL_OF_RECORD.dropout
        : decimal('dropout', str('dropout')!, (x) => x >= 0 && x < 1, 'in [0, 1)'),
    l2:
      str('l2') === undefined
        ? MODEL_OF_RECORD.l2
        : decimal('l2', str('l2')!, (x) => x >= 0, '≥ 0'),
    seed:
      str('seed') === undefined
        ? MODEL_OF_RECORD.seed
        : integer('seed', str('seed')!, 0, 2 ** 31 - 1),
  });
  const save = str('save');
  if (save !== undefined && !isModelName(save)) {
    throw new ConfigError(
      '--save',
      `expected a model name of letters, digits, '.', '_' or '-' (at most 64), got "${save}"`,
    );
  }
  return {
    dataset,
    dataDir,
    epochs: str('epochs') === undefined ? 10 : integer('epochs', str('epochs')!, 1, 10_000),
    batchSize:
      str('batch-size') === undefined
        ? 128
        : integer('batch-size', str('batch-size')!, 1, 1_000_000),
    limitTrain:
      str('limit-train') === undefined
        ? undefined
        : integer('limit-train', str('limit-train')!, 1, 10_000_000),
    validationSize:
      str('validation-size') === undefined
        ? 0
        : integer('validation-size', str('validation-size')!, 0, 10_000_000),
    engine: str('engine') === undefined ? 'auto' : parseEngineChoice(str('engine')!),
    save,
    json: values.json === true,
    verbose: values.verbose === true,
    help: values.help === true,
    model,
  };
}
