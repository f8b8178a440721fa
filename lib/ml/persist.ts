// Saves and loads trained models under data/models/<name>/ in the TensorFlow.js format, atomically.
import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { MODEL_KINDS, type ModelKind } from '../core/choices.js';
import { KitError, ModelFileError } from '../core/errors.js';
import { createCnn, resolveCnnConfig, type CnnConfig } from './cnn.js';
import { createMlp, resolveConfig, type MlpConfig } from './model.js';
import { projectRoot } from '../core/paths.js';
import type { EpochMetrics } from './train.js';

export const META_FORMAT = 'mnist-notebooks/model@1';

/** The architectures a saved model can have: the MLP of lib/ml/model.ts or the CNN of lib/ml/cnn.ts. */

/** What is saved beside the weights: enough to rebuild, evaluate and explain the model. */
export interface ModelMeta {
  readonly format: typeof META_FORMAT;
  /**
   * Absent means 'mlp': MLPs are saved without it (as before the CNN existed), so every meta.json
   * written so far still loads, and an MLP's meta.json is unchanged.
   */
  readonly kind?: ModelKind;
  readonly config: MlpConfig | CnnConfig;
  readonly history: readonly EpochMetrics[];
  readonly dataset?: {
    readonly name: string;
    readonly source: string;
    readonly trainSamples: number;
    readonly classNames: readonly string[];
  };
  readonly engine?: string;
  readonly createdAt: string;
}

export type ModelMetaInput = Omit<ModelMeta, 'format' | 'createdAt' | 'history'> & {
  history?: readonly EpochMetrics[];
};

/** data/models in the project, where trained models live by default. */
function modelsDir(): string {
  return path.join(projectRoot(), 'data', 'models');
}

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** A model name as `--save NAME` and data/models/NAME/ take it: letters, digits, '.', '_', '-', at most 64. */
export function isModelName(name: string): boolean {
  return NAME_RE.test(name);
}

/** A bare name resolves under data/models/; anything with a slash is taken as a folder path. */
export function resolveModelDir(nameOrPath: string): string {
  if (nameOrPath.includes('/') || nameOrPath.includes(path.sep)) return path.resolve(nameOrPath);
  if (!isModelName(nameOrPath)) {
    throw new KitError(
      'model-name',
      `model name "${nameOrPath}" is not valid: use letters, digits, '.', '_' or '-' (at most 64)`,
    );
  }
  return path.join(modelsDir(), nameOrPath);
}

async function writeFileSynced(file: string, data: string | Uint8Array): Promise<void> {
  const handle = await fs.open(file, 'w');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Writes model.json + weights.bin + meta.json into a temporary sibling folder, then swaps it in:
 * at every instant the target is either the old complete model or the new complete one.
 */
export async function saveModel(
  model: tf.LayersModel,
  meta: ModelMetaInput,
  nameOrPath: string,
): Promise<string> {
  const target = resolveModelDir(nameOrPath);
  const parent = path.dirname(target);
  const base = path.basename(target);
  await fs.mkdir(parent, { recursive: true });
  const staging = path.join(parent, `.${base}.tmp-${process.pid}-${Date.now()}`);
  const retired = path.join(parent, `.${base}.old-${process.pid}-${Date.now()}`);
  await fs.mkdir(staging);
  try {
    await model.save(
      tf.io.withSaveHandler(async (artifacts) => {
        const weights = new Uint8Array(
          tf.io.CompositeArrayBuffer.join(artifacts.weightData ?? new ArrayBuffer(0)),
        );
        const modelJson = {
          format: 'layers-model',
          generatedBy: `TensorFlow.js tfjs-layers v${tf.version_layers}`,
          convertedBy: null,
          modelTopology: artifacts.modelTopology,
          weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs }],
        };
        await writeFileSynced(path.join(staging, 'weights.bin'), weights);
        await writeFileSynced(path.join(staging, 'model.json'), JSON.stringify(modelJson));
        const full: ModelMeta = {
          format: META_FORMAT,
          history: [],
          ...meta,
          // A CNN config saved without its kind would load as an MLP and fail: mark it whatever the caller said.
          ...(meta.kind === 'cnn' || 'filters' in meta.config ? { kind: 'cnn' as const } : {}),
          createdAt: new Date().toISOString(),
        };
        await writeFileSynced(
          path.join(staging, 'meta.json'),
          JSON.stringify(full, null, 2) + '\n',
        );
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      }),
    );
    const hadOld = existsSync(target);
    if (hadOld) await fs.rename(target, retired);
    await fs.rename(staging, target);
    if (hadOld) await fs.rm(retired, { recursive: true, force: true });
    return target;
  } catch (error) {
    await fs.rm(staging, { recursive: true, force: true });
    throw error;
  }
}

async function readRequired(dir: string, file: string): Promise<Buffer> {
  const full = path.join(dir, file);
  try {
    return await fs.readFile(full);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ModelFileError(
      full,
      code === 'ENOENT'
        ? 'missing: a saved model needs model.json, weights.bin and meta.json'
        : `cannot be read (${code})`,
    );
  }
}

function parseJson(file: string, bytes: Buffer): unknown {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    throw new ModelFileError(
      file,
      `is not valid JSON (truncated or corrupted?): ${(error as Error).message}`,
    );
  }
}

/** A folder left between the two renames of an interrupted save: bring the old model back. */
async function recoverRetired(target: string): Promise<void> {
  const parent = path.dirname(target);
  const prefix = `.${path.basename(target)}.old-`;
  const entries = existsSync(parent) ? await fs.readdir(parent) : [];
  const retired = entries
    .filter((e) => e.startsWith(prefix))
    .sort()
    .pop();
  if (retired) await fs.rename(path.join(parent, retired), target);
}

interface LoadedBase {
  readonly model: tf.Sequential;
  readonly meta: ModelMeta;
  readonly dir: string;
}

/** A saved model, rebuilt: check `kind` to know which config it carries. */
export type LoadedModel =
  | (LoadedBase & { readonly kind: 'mlp'; readonly config: MlpConfig })
  | (LoadedBase & { readonly kind: 'cnn'; readonly config: CnnConfig });

/** Loads a model saved by `saveModel`, checking every file against the saved config before use. */
export async function loadModel(nameOrPath: string): Promise<LoadedModel> {
  const dir = resolveModelDir(nameOrPath);
  if (!existsSync(dir)) await recoverRetired(dir);
  if (!existsSync(dir)) {
    throw new ModelFileError(
      dir,
      'no saved model here; train one first (npm run train -- --save NAME, or notebook 03)',
    );
  }
  const metaFile = path.join(dir, 'meta.json');
  const meta = parseJson(metaFile, await readRequired(dir, 'meta.json')) as ModelMeta;
  if (meta?.format !== META_FORMAT)
    throw new ModelFileError(metaFile, `format is "${meta?.format}", expected "${META_FORMAT}"`);
  const kind = meta.kind ?? 'mlp';
  if (!MODEL_KINDS.includes(kind))
    throw new ModelFileError(
      metaFile,
      `kind is ${JSON.stringify(kind)}, expected one of ${MODEL_KINDS.join(', ')} (or none, for an MLP)`,
    );
  let built: Pick<LoadedModel, 'kind' | 'config'>;
  try {
    built =
      kind === 'cnn'
        ? { kind, config: resolveCnnConfig(meta.config as Partial<CnnConfig>) }
        : { kind, config: resolveConfig(meta.config as Partial<MlpConfig>) };
  } catch (error) {
    throw new ModelFileError(metaFile, `holds an invalid config: ${(error as Error).message}`);
  }
  const modelFile = path.join(dir, 'model.json');
  const modelJson = parseJson(modelFile, await readRequired(dir, 'model.json')) as {
    weightsManifest?: Array<{ weights: tf.io.WeightsManifestEntry[] }>;
  };
  const specs = modelJson.weightsManifest?.flatMap((g) => g.weights) ?? [];
  const weightBytes = await readRequired(dir, 'weights.bin');
  const { model } = built.kind === 'cnn' ? createCnn(built.config) : createMlp(built.config);
  const expected = model.weights.map((w) => w.shape);
  const shapesMatch =
    specs.length === expected.length &&
    specs.every((s, i) => JSON.stringify(s.shape) === JSON.stringify(expected[i]));
  if (!shapesMatch) {
    model.dispose();
    throw new ModelFileError(
      modelFile,
      `weights ${JSON.stringify(specs.map((s) => s.shape))} do not match the architecture in meta.json ${JSON.stringify(expected)}`,
    );
  }
  const needed = specs.reduce((sum, s) => sum + 4 * s.shape.reduce((a, b) => a * b, 1), 0);
  if (specs.some((s) => s.dtype !== 'float32') || weightBytes.length !== needed) {
    model.dispose();
    throw new ModelFileError(
      path.join(dir, 'weights.bin'),
      `holds ${weightBytes.length} bytes, expected ${needed} float32 bytes (truncated or from another model?)`,
    );
  }
  const buffer = weightBytes.buffer.slice(
    weightBytes.byteOffset,
    weightBytes.byteOffset + weightBytes.length,
  );
  const named = tf.io.decodeWeights(buffer, specs);
  const tensors = specs.map((s) => named[s.name]);
  model.setWeights(tensors);
  tf.dispose(tensors);
  return { ...built, model, meta, dir } as LoadedModel;
}
