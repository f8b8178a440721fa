// Experiments in notebook 05: their size (normal or --quick), their data, and their results in words.
import { formatPercent } from '../core/format.js';
import { loadDataset } from '../data/datasets.js';
import type { ExperimentData, ExperimentResult } from '../ml/experiment.js';
import { notebookSettings } from './settings.js';

/** How big the experiments are: sized so notebook 05 runs in minutes on two CPU cores. */
export interface ExperimentScale {
  readonly dataset: 'mnist' | 'mnist-quick';
  readonly trainSize: number;
  readonly validationSize: number;
  readonly epochs: number;
  readonly batchSize: number;
  /** The small training set of the overfitting and memorisation experiments. */
  readonly smallTrainSize: number;
  readonly smallEpochs: number;
}

const EXPERIMENT_SCALES: Readonly<Record<'normal' | 'quick', ExperimentScale>> = Object.freeze({
  normal: Object.freeze({
    dataset: 'mnist',
    trainSize: 10_000,
    validationSize: 2000,
    epochs: 5,
    batchSize: 128,
    smallTrainSize: 1000,
    smallEpochs: 40,
  }),
  quick: Object.freeze({
    dataset: 'mnist-quick',
    trainSize: 2000,
    validationSize: 1000,
    epochs: 3,
    batchSize: 128,
    smallTrainSize: 500,
    smallEpochs: 15,
  }),
});

/** The normal scale, or the quick one when the notebook runner was started with --quick (MNIST_NB_QUICK=1). */
export function experimentScale(quick = notebookSettings().quick): ExperimentScale {
  return quick ? EXPERIMENT_SCALES.quick : EXPERIMENT_SCALES.normal;
}

/** The first `trainSize` training digits, a validation split held out from the training files, and the whole test set. */
export async function loadExperimentData(
  scale: ExperimentScale = experimentScale(),
): Promise<ExperimentData> {
  const ds = await loadDataset({
    dataset: scale.dataset,
    validationSize: scale.validationSize,
    limitTrain: scale.trainSize,
  });
  return { train: ds.train, validation: ds.validation, test: ds.test };
}

/** One row of the summary table. */
export function summaryRow(r: ExperimentResult): Record<string, string | number> {
  return {
    variant: r.name,
    'train acc': formatPercent(r.trainAccuracy),
    'test acc': formatPercent(r.testAccuracy),
    'epochs to 95 %': r.epochsTo95 === null ? '—' : String(r.epochsTo95),
    seconds: Number(r.seconds.toFixed(1)),
    stopped: r.stop ? `${r.stop.reason} (epoch ${r.stop.epoch}, batch ${r.stop.batch})` : '—',
    'what broke': r.broke,
  };
}

/** One line for a notebook cell: the facts of one run. */
export function describeResult(r: ExperimentResult): string {
  const reached =
    r.epochsTo95 === null
      ? 'never reached 95 % validation accuracy'
      : `95 % validation accuracy after epoch ${r.epochsTo95}`;
  const stop = r.stop ? `; ${r.stop.message}` : '';
  return `${r.name}: train ${formatPercent(r.trainAccuracy)}, validation ${formatPercent(r.validationAccuracy)}, test ${formatPercent(r.testAccuracy)}; ${reached}; ${r.seconds.toFixed(1)} s${stop}`;
}
