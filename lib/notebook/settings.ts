// Notebook settings (quick mode, which saved model to use) and the train-if-missing step notebook 04 needs.
import { existsSync } from 'node:fs';
import type * as tf from '@tensorflow/tfjs';
import type { Dataset } from '../data/types.js';
import { setting } from '../core/settings.js';
import { defaultDataDir } from '../data/datasets.js';
import { ModelFileError } from '../core/errors.js';
import { createMlp, type MlpConfig } from '../ml/model.js';
import { loadModel, resolveModelDir, saveModel, type ModelMeta } from '../ml/persist.js';
import { createProgress } from '../ml/progress.js';
import { trainModel, type EpochMetrics } from '../ml/train.js';

export interface NotebookSettings {
  /** MNIST_NB_QUICK=1 (`npm run notebooks -- --quick`): a small dataset and few epochs, for tests and a first look. */
  readonly quick: boolean;
  readonly dataset: 'mnist' | 'mnist-quick';
  readonly epochs: number;
  readonly batchSize: number;
  /**
   * The saved model notebooks 03 and 04 share: 'mlp', or 'mlp-quick' in quick mode so a quick run never
   * overwrites the real model. MNIST_NB_MODEL overrides it (a name under data/models/ or a folder path).
   */
  readonly modelName: string;
  /** Where notebook 06 finds Fashion-MNIST: MNIST_NB_FASHION_DIR (the tests' small fixtures), else data/fashion-mnist. */
  readonly fashionDir: string;
}

/** The settings for this run, read from the environment the notebook runner sets. */
export function notebookSettings(env: NodeJS.ProcessEnv = process.env): NotebookSettings {
  const quick = setting('MNIST_NB_QUICK', env);
  const override = setting('MNIST_NB_MODEL', env);
  return Object.freeze({
    quick,
    dataset: quick ? 'mnist-quick' : 'mnist',
    epochs: quick ? 2 : 10,
    batchSize: 128,
    modelName: override ?? (quick ? 'mlp-quick' : 'mlp'),
    fashionDir: setting('MNIST_NB_FASHION_DIR', env) ?? defaultDataDir('fashion-mnist'),
  });
}

/** One line for the top of a notebook: what this run uses. */
export function describeSettings(s: NotebookSettings): string {
  const mode = s.quick
    ? '**Quick mode** (MNIST_NB_QUICK=1): the 10,000-digit `mnist-quick` subset'
    : '**Full mode**: all of MNIST (60,000 training and 10,000 test digits)';
  return `${mode}, ${s.epochs} epochs of training, batch size ${s.batchSize}, saved model \`${s.modelName}\`.`;
}

/** Where output lines go: console.log, which tslab attaches to the running cell (process.stdout is the kernel's own). */
export const cellOutput = {
  isTTY: false,
  write(text: string): boolean {
    console.log(text.replace(/\n$/, ''));
    return true;
  },
};

export interface ReadyModel {
  readonly model: tf.Sequential;
  readonly config: MlpConfig;
  readonly history: readonly EpochMetrics[];
  readonly meta?: ModelMeta;
  /** True when no saved model existed and this call trained (and saved) one. */
  readonly trained: boolean;
  readonly dir: string;
}

/**
 * Loads the saved model `settings.modelName`; when there is none yet, trains the model of record on
 * `data` for `settings.epochs` epochs (one line per epoch to `out`) and saves it under that name.
 * A model folder that exists but is broken is an error, not a reason to retrain silently.
 */
export async function loadOrTrainModel(
  settings: NotebookSettings,
  data: Dataset,
  out: { write(s: string): unknown; isTTY?: boolean } = cellOutput,
  engine?: string,
): Promise<ReadyModel> {
  const dir = resolveModelDir(settings.modelName);
  if (existsSync(dir)) {
    const loaded = await loadModel(settings.modelName);
    if (loaded.kind !== 'mlp') {
      loaded.model.dispose();
      throw new ModelFileError(
        loaded.dir,
        'holds a CNN; notebooks 03 and 04 analyse an MLP: save the CNN under another name, or set MNIST_NB_MODEL to an MLP',
      );
    }
    return {
      model: loaded.model,
      config: loaded.config,
      history: loaded.meta.history,
      meta: loaded.meta,
      trained: false,
      dir: loaded.dir,
    };
  }
  out.write(
    `No saved model at ${dir}: training the model of record now (${settings.epochs} epochs on ${data.name}).\n`,
  );
  const { model, config } = createMlp();
  const progress = createProgress(settings.epochs, out);
  const result = await trainModel(model, config, data, {
    epochs: settings.epochs,
    batchSize: settings.batchSize,
    onEpoch: progress.onEpoch,
  });
  if (result.stop)
    throw new ModelFileError(dir, `could not train a model to save: ${result.stop.message}`);
  const dataset = {
    name: data.name,
    source: data.source,
    trainSamples: data.train.count,
    classNames: data.classNames,
  };
  const saved = await saveModel(
    model,
    { config, history: result.history, engine: engine ?? result.backend, dataset },
    settings.modelName,
  );
  out.write(`Saved to ${saved}.\n`);
  return { model, config, history: result.history, trained: true, dir: saved };
}
