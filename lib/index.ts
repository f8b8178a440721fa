// The kit's public API for notebooks: `import * as kit from '../build/lib/index.js'`, then `kit.<name>`.
// A chosen list, grouped as a notebook meets it; scripts and tests import modules directly.
// tests/notebook-api.test.ts fails if a notebook calls a name that is not exported here, and if a name
// here is called by no notebook and not listed in that test with its reason.

// --- Errors, paths, seeded randomness ------------------------------------------------------------
export { DataError } from './core/errors.js';
export { projectRoot } from './core/paths.js';
export { createRng, permutation } from './core/random.js';

// --- Data: loading, class counts, and the deliberate damage of notebook 05 -----------------------
export type { Dataset, Split } from './data/types.js';
export { loadDataset } from './data/datasets.js';
export { classCounts } from './data/class-counts.js';
export { headSplit, scaleImages, shuffleLabels, sortByLabel } from './data/transforms.js';

// --- The engine and the model --------------------------------------------------------------------
export { initEngine } from './engine/engine.js';
export {
  createMlp,
  REFERENCE_ACCURACY,
  resolveConfig,
  summarize,
  type MlpConfig,
} from './ml/model.js';

// --- Training, evaluation, saving ----------------------------------------------------------------
export { trainModel, type EpochMetrics, type TrainResult } from './ml/train.js';
export { createProgress } from './ml/progress.js';
export {
  confidentMistakes,
  confusionMatrix,
  leastConfidentCorrect,
  mistakes,
  mostConfusedPairs,
  perClassScores,
  predict,
  type Predictions,
} from './ml/evaluate.js';
export { loadModel, saveModel } from './ml/persist.js';
export { measureMatmulFloor } from './engine/floor.js';

// --- Figures (plotly) and images -----------------------------------------------------------------
export { barChart, digitHeatmap, lineChart } from './viz/charts.js';
export {
  accuracyCurves,
  classBalanceChart,
  confusionFigure,
  lossCurves,
  perClassChart,
  pixelHistogram,
  probabilityChart,
  weightHistogram,
} from './viz/figures.js';
export { digitGalleryPng } from './viz/digit-images.js';
export { firstLayerImages, weightImages } from './viz/weight-images.js';

// --- Showing things in a notebook cell -----------------------------------------------------------
export { show, showDigits, showMarkdown, showPng, showTable } from './notebook/display.js';
export { drawDigitWidget, showDrawDigit } from './notebook/draw-widget.js';
export {
  cellOutput,
  describeSettings,
  loadOrTrainModel,
  notebookSettings,
} from './notebook/settings.js';

// --- Checked exercises: kit.<notebook>Exercises.<name>.check(answer, …) and .hint() ----------------
export {
  breakExercises,
  buildExercises,
  cnnExercises,
  confusionExercises,
  exploreExercises,
  gradientExercises,
  trainExercises,
} from './notebook/exercises/index.js';

// --- Tables (danfo DataFrames) -------------------------------------------------------------------
export {
  accuracyFrame,
  classBalanceFrame,
  confusedPairsFrame,
  layerFrame,
  perClassFrame,
} from './notebook/reports.js';

// --- Exploring the data --------------------------------------------------------------------------
export {
  classMeanImages,
  farthestFromClassMean,
  pixelStats,
  predictionCaption,
  type PixelStats,
} from './notebook/explore.js';

// --- "Break it" experiments (notebook 05) --------------------------------------------------------
export {
  constantWeights,
  runExperiment,
  type ExperimentData,
  type ExperimentResult,
} from './ml/experiment.js';
export { hiddenUnitSpread } from './ml/probes.js';
export {
  describeResult,
  experimentScale,
  loadExperimentData,
  summaryRow,
} from './notebook/experiments.js';
export {
  compareBatches,
  compareCurves,
  gradientNormFigure,
  trainVsValidation,
} from './viz/experiment-figures.js';

// --- Notebook 07 (beyond the MLP): the CNN, trained by the same loop, scored by the same predict --
export { createCnn, trainCnn } from './ml/cnn.js';
export { permutePixels, pixelPermutation, shiftImages } from './data/transforms.js';
