// `npm run train`'s option table and help, kept free of TensorFlow.js so --help and typos answer at once.
import {
  ACTIVATIONS,
  DATASET_NAMES,
  ENGINE_CHOICES,
  MODEL_KINDS,
  type ModelKind,
} from '../../lib/core/choices.js';
import { ConfigError } from '../../lib/core/errors.js';
import { usage, type DescribedOptionTable } from '../shared/options.js';

const MLP = 'MLP only (--model mlp)';
const CNN = 'CNN only (--model cnn)';

// In the order of the table before --help was generated from it: errors list the options this way.
export const TRAIN_OPTIONS = {
  dataset: {
    type: 'string',
    expects: `one of ${DATASET_NAMES.join(', ')}`,
    value: 'NAME',
    describe: 'mnist (default: full 60k/10k), mnist-quick (10k subset), fashion-mnist, idx-dir',
  },
  'data-dir': {
    type: 'string',
    expects: 'a folder with the four IDX files',
    value: 'DIR',
    describe: 'a folder with the four IDX files (implies --dataset idx-dir unless fashion-mnist)',
  },
  epochs: {
    type: 'string',
    expects: 'an integer from 1 to 10000',
    value: 'N',
    describe: '1..10000 (default 10)',
  },
  'batch-size': {
    type: 'string',
    expects: 'an integer from 1 to the training set size',
    value: 'N',
    describe: '1..training-set size (default 128)',
  },
  'learning-rate': {
    type: 'string',
    expects: 'a number > 0',
    value: 'X',
    describe: '> 0 (default 0.001)',
  },
  hidden: {
    type: 'string',
    expects: 'comma-separated layer sizes (e.g. 256,128) or "none"',
    value: 'LIST',
    group: MLP,
    describe: 'hidden layer sizes, e.g. 256,128 (default); "none" for no hidden layer',
  },
  activation: {
    type: 'string',
    expects: `one of ${ACTIVATIONS.join(', ')}`,
    value: 'NAME',
    group: MLP,
    describe: `${ACTIVATIONS.join(', ')} (default relu)`,
  },
  dropout: {
    type: 'string',
    expects: 'a number in [0, 1)',
    value: 'X',
    describe: '0 ≤ X < 1 (default 0.2 for the MLP, 0 for the CNN)',
  },
  l2: {
    type: 'string',
    expects: 'a number ≥ 0',
    value: 'X',
    group: MLP,
    describe: '≥ 0 (default 0.0001)',
  },
  model: {
    type: 'string',
    choices: MODEL_KINDS,
    value: 'KIND',
    describe:
      'mlp (default: the model of record) or cnn (conv 3×3 16 → pool → conv 3×3 32 → pool → dense 64 → 10)',
  },
  filters: {
    type: 'string',
    expects: 'comma-separated filter counts (e.g. 16,32)',
    value: 'LIST',
    group: CNN,
    describe: 'filters of each conv block (conv N×N ReLU + 2×2 max pooling); default 16,32',
  },
  'kernel-size': {
    type: 'string',
    expects: 'an integer from 1 to 28',
    value: 'N',
    group: CNN,
    describe: '1..28 (default 3)',
  },
  'dense-units': {
    type: 'string',
    expects: 'an integer from 0 to 65536',
    value: 'N',
    group: CNN,
    describe: '0..65536 (default 64): the dense ReLU layer before the output; 0 for none',
  },
  seed: {
    type: 'string',
    expects: 'an integer',
    value: 'N',
    describe: 'integer (default 42): fixes weights, shuffling and dropout',
  },
  'limit-train': {
    type: 'string',
    expects: 'a positive integer',
    value: 'N',
    describe: 'train on the first N training samples only',
  },
  'validation-size': {
    type: 'string',
    expects: 'an integer ≥ 0',
    value: 'N',
    describe:
      'training samples held out to watch validation accuracy (default 0: train on all 60,000, as the reference results do; e.g. 5000)',
  },
  engine: {
    type: 'string',
    expects: `one of ${ENGINE_CHOICES.join(', ')}`,
    value: 'NAME',
    describe: `${ENGINE_CHOICES[0]} (default), ${ENGINE_CHOICES.slice(1).join(', ')}`,
  },
  save: {
    type: 'string',
    expects: 'a model name',
    value: 'NAME',
    describe: 'save the model to data/models/NAME/ (npm run demo -- --model NAME serves it)',
  },
  json: { type: 'boolean', describe: 'one JSON object per line instead of human output' },
  verbose: { type: 'boolean', describe: 'stack traces on errors' },
  help: { type: 'boolean', short: 'h', describe: 'this help' },
} as const satisfies DescribedOptionTable;

/** Options that shape one architecture only; given with the other `--model`, they are an error, not ignored. */
const ONLY_FOR: Readonly<Record<string, ModelKind>> = {
  hidden: 'mlp',
  activation: 'mlp',
  l2: 'mlp',
  filters: 'cnn',
  'kernel-size': 'cnn',
  'dense-units': 'cnn',
};

/**
 * The `--model` kind, after checking that no option of the other architecture was given: one line
 * naming the option, before TensorFlow.js loads.
 */
export function trainModelKind(
  values: Readonly<Record<string, string | boolean | undefined>>,
): ModelKind {
  const kind = (values.model as ModelKind | undefined) ?? 'mlp';
  for (const [option, only] of Object.entries(ONLY_FOR)) {
    if (values[option] === undefined || only === kind) continue;
    throw new ConfigError(
      `--${option}`,
      only === 'cnn'
        ? 'shapes the CNN only; add --model cnn, or leave it out for the MLP'
        : 'shapes the MLP only; the CNN takes --filters, --kernel-size, --dense-units and --dropout (see --help)',
    );
  }
  return kind;
}

export const TRAIN_USAGE = usage(
  {
    synopsis: ['npm run train -- [options]'],
    about: [
      `Trains the multilayer perceptron (or, with --model cnn, the convolutional network) on MNIST (or
      another IDX dataset) and reports accuracy per epoch.`,
    ],
    settings: ['MNIST_ENGINE_THREADS'],
    notes: [
      'Bad options exit with status 2 and one line "error: …" on stderr; so does an option of the other model.',
    ],
  },
  TRAIN_OPTIONS,
);
