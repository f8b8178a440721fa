// Parses and validates `npm run train` arguments before any work starts: every error names the option and its range.
import {
  ACTIVATIONS,
  DATASET_NAMES,
  type Activation,
  type DatasetName,
  type EngineChoice,
} from '../../lib/core/choices.js';
import { parseEngineChoice } from '../../lib/engine/engine.js';
import { ConfigError } from '../../lib/core/errors.js';
import { isModelName } from '../../lib/ml/persist.js';
import { CNN_DEFAULTS, resolveCnnConfig, type CnnConfig } from '../../lib/ml/cnn.js';
import { parseCli } from '../shared/options.js';
import { TRAIN_OPTIONS, trainModelKind } from './train-options.js';
import { MODEL_OF_RECORD, resolveConfig, type MlpConfig } from '../../lib/ml/model.js';

interface TrainCommonOptions {
  readonly dataset: DatasetName;
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
}

/** `kind` says which architecture `model` configures (its input shape and classes are set from the data later). */
export type TrainCliOptions =
  | (TrainCommonOptions & { readonly kind: 'mlp'; readonly model: MlpConfig })
  | (TrainCommonOptions & { readonly kind: 'cnn'; readonly model: CnnConfig });

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

function filterList(raw: string): number[] {
  const parts = raw.split(',');
  if (
    !parts.every((p) => /^\s*\d+\s*$/.test(p)) ||
    parts.some((p) => Number(p) < 1 || Number(p) > 4096)
  ) {
    throw new ConfigError(
      '--filters',
      `expected comma-separated filter counts from 1 to 4096 (e.g. 16,32), got "${raw}"`,
    );
  }
  return parts.map(Number);
}

const CNN_FLAGS: Readonly<Record<string, string>> = {
  filters: '--filters',
  kernelSize: '--kernel-size',
  denseUnits: '--dense-units',
};

/** The CNN's own checks (e.g. blocks that shrink the image to nothing), worded with the CLI's option names. */
function cnnConfig(overrides: Partial<CnnConfig>): CnnConfig {
  try {
    return resolveCnnConfig(overrides);
  } catch (error) {
    if (error instanceof ConfigError && CNN_FLAGS[error.option]) {
      throw new ConfigError(CNN_FLAGS[error.option], error.message.slice(error.option.length + 2));
    }
    throw error;
  }
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
  const dataset = oneOf('dataset', datasetRaw, DATASET_NAMES);
  if (dataset === 'idx-dir' && !dataDir)
    throw new ConfigError('--data-dir', 'is required with --dataset idx-dir');
  const kind = trainModelKind(values);
  const learningRate =
    str('learning-rate') === undefined
      ? undefined
      : decimal('learning-rate', str('learning-rate')!, (x) => x > 0, '> 0');
  const dropout =
    str('dropout') === undefined
      ? undefined
      : decimal('dropout', str('dropout')!, (x) => x >= 0 && x < 1, 'in [0, 1)');
  const seed =
    str('seed') === undefined ? undefined : integer('seed', str('seed')!, 0, 2 ** 31 - 1);
  const common = {
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
    save: saveName(str('save')),
    json: values.json === true,
    verbose: values.verbose === true,
    help: values.help === true,
  } satisfies TrainCommonOptions;
  if (kind === 'cnn') {
    const model = cnnConfig({
      learningRate: learningRate ?? CNN_DEFAULTS.learningRate,
      dropout: dropout ?? CNN_DEFAULTS.dropout,
      seed: seed ?? CNN_DEFAULTS.seed,
      filters: str('filters') === undefined ? CNN_DEFAULTS.filters : filterList(str('filters')!),
      kernelSize:
        str('kernel-size') === undefined
          ? CNN_DEFAULTS.kernelSize
          : integer('kernel-size', str('kernel-size')!, 1, 28),
      denseUnits:
        str('dense-units') === undefined
          ? CNN_DEFAULTS.denseUnits
          : integer('dense-units', str('dense-units')!, 0, 65536),
    });
    return { ...common, kind, model };
  }
  const model = resolveConfig({
    learningRate: learningRate ?? MODEL_OF_RECORD.learningRate,
    hidden: str('hidden') === undefined ? MODEL_OF_RECORD.hidden : hiddenList(str('hidden')!),
    activation:
      str('activation') === undefined
        ? MODEL_OF_RECORD.activation
        : oneOf<Activation>('activation', str('activation')!, ACTIVATIONS),
    dropout: dropout ?? MODEL_OF_RECORD.dropout,
    l2:
      str('l2') === undefined
        ? MODEL_OF_RECORD.l2
        : decimal('l2', str('l2')!, (x) => x >= 0, '≥ 0'),
    seed: seed ?? MODEL_OF_RECORD.seed,
  });
  return { ...common, kind, model };
}

function saveName(save: string | undefined): string | undefined {
  if (save !== undefined && !isModelName(save)) {
    throw new ConfigError(
      '--save',
      `expected a model name of letters, digits, '.', '_' or '-' (at most 64), got "${save}"`,
    );
  }
  return save;
}
