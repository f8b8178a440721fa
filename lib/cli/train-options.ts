// `npm run train`'s option table and help, kept free of TensorFlow.js so --help and typos answer at once.
import type { OptionTable } from './options.js';

/** Must equal lib/ml/model.ts ACTIVATIONS (tests/cli-convention.test.ts checks); listed here so help loads no TensorFlow.js. */
export const ACTIVATION_NAMES = ['relu', 'sigmoid', 'tanh', 'elu', 'linear'] as const;

export const TRAIN_OPTIONS = {
  dataset: { type: 'string', expects: 'one of mnist, mnist-quick, fashion-mnist, idx-dir' },
  'data-dir': { type: 'string', expects: 'a folder with the four IDX files' },
  epochs: { type: 'string', expects: 'an integer from 1 to 10000' },
  'batch-size': { type: 'string', expects: 'an integer from 1 to the training set size' },
  'learning-rate': { type: 'string', expects: 'a number > 0' },
  hidden: { type: 'string', expects: 'comma-separated layer sizes (e.g. 256,128) or "none"' },
  activation: { type: 'string', expects: `one of ${ACTIVATION_NAMES.join(', ')}` },
  dropout: { type: 'string', expects: 'a number in [0, 1)' },
  l2: { type: 'string', expects: 'a number ≥ 0' },
  seed: { type: 'string', expects: 'an integer' },
  'limit-train': { type: 'string', expects: 'a positive integer' },
  'validation-size': { type: 'string', expects: 'an integer ≥ 0' },
  engine: { type: 'string', expects: 'one of auto, tensorflow, wasm, cpu' },
  save: { type: 'string', expects: 'a model name' },
  json: { type: 'boolean' },
  verbose: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies OptionTable;

export const TRAIN_USAGE = `Usage: npm run train -- [options]

Trains the multilayer perceptron on MNIST (or another IDX dataset) and reports accuracy per epoch.

  --dataset NAME         mnist (default: full 60k/10k), mnist-quick (10k subset), fashion-mnist, idx-dir
  --data-dir DIR         a folder with the four IDX files (implies --dataset idx-dir unless fashion-mnist)
  --epochs N             1..10000 (default 10)
  --batch-size N         1..training-set size (default 128)
  --learning-rate X      > 0 (default 0.001)
  --hidden LIST          hidden layer sizes, e.g. 256,128 (default); "none" for no hidden layer
  --activation NAME      ${ACTIVATION_NAMES.join(', ')} (default relu)
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

Bad options exit with status 2 and one line "error: …" on stderr.
`;
