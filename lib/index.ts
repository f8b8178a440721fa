// The kit's public API in one import: notebooks use `import * as kit from '../build/lib/index.js'`.
export * from './core/errors.js';
export * from './core/paths.js';
export * from './data/types.js';
export * from './data/idx.js';
export * from './data/datasets.js';
export * from './data/fetch.js';
export * from './ml/engine.js';
export * from './ml/model.js';
export * from './core/random.js';
export * from './ml/forward.js';
export * from './ml/train.js';
export * from './ml/evaluate.js';
export * from './ml/persist.js';
export * from './ml/progress.js';
export * from './core/stats.js';
export * from './viz/charts.js';
export * from './viz/render.js';
export * from './notebook/display.js';
export * from './viz/tables.js';
export * from './viz/digit-images.js';
export * from './notebook/settings.js';
export * from './notebook/reports.js';
export * from './viz/figures.js';
export * from './notebook/explore.js';
export * from './data/preprocess.js';
export * from './data/class-counts.js';
export * from './notebook/draw-widget.js';
export * from './notebook/experiments.js';
export * from './ml/floor.js';

// Notebook 07 (beyond the MLP): the CNN, the wasm convolution gradients it needs, image transforms.
export { CONV_FILTER_GRADIENT_KERNEL, CONV_INPUT_GRADIENT_KERNEL, MAX_POOL_GRADIENT_KERNEL, conv2dBackpropFilterKernel, conv2dBackpropInputKernel, maxPoolGradKernel, ensureConvGradient } from './ml/conv-gradient.js';
export { CNN_DEFAULTS, SeededDropout, createCnn, predictCnn, resolveCnnConfig, trainCnn, type ClassifierTrainConfig, type CnnConfig, type CnnTrainOptions } from './ml/cnn.js';
export { permutePixels, pixelPermutation, shiftImages } from './data/transform.js';
