// The kit's named choices (activations, model kinds, datasets, engines): one TF-free list each, for lib and the CLI.
//
// The option tables of the scripts read these lists to answer --help and reject typos before
// TensorFlow.js loads, so this module imports nothing.

/** The hidden-layer activations the MLP builds (lib/ml/model.ts). */
export const ACTIVATIONS = ['relu', 'sigmoid', 'tanh', 'elu', 'linear'] as const;
export type Activation = (typeof ACTIVATIONS)[number];

/** The architectures the kit trains and saves: the MLP (lib/ml/model.ts) or the CNN (lib/ml/cnn.ts). */
export const MODEL_KINDS = ['mlp', 'cnn'] as const;
export type ModelKind = (typeof MODEL_KINDS)[number];

/** The datasets `loadDataset` reads (lib/data/datasets.ts). */
export const DATASET_NAMES = ['mnist', 'mnist-quick', 'fashion-mnist', 'idx-dir'] as const;
export type DatasetName = (typeof DATASET_NAMES)[number];

/** The datasets `npm run fetch-data` downloads (lib/data/fetch.ts holds their mirrors and checksums). */
export const FETCHABLE_DATASETS = ['fashion-mnist', 'mnist'] as const;
export type FetchableDataset = (typeof FETCHABLE_DATASETS)[number];

/** The TensorFlow.js engines, best first (lib/engine/engine.ts). */
export const ENGINE_NAMES = ['tensorflow', 'wasm', 'cpu'] as const;
export type EngineName = (typeof ENGINE_NAMES)[number];

/** What `--engine` and `initEngine` accept: the best available one, or one by name. */
export const ENGINE_CHOICES = ['auto', ...ENGINE_NAMES] as const;
export type EngineChoice = (typeof ENGINE_CHOICES)[number];
