// Stands in for @tensorflow/tfjs-node inside danfojs-node (see package.json "overrides"): danfo gets the
// project's own TensorFlow.js instance, so one tfjs-core is loaded and the engine chosen by lib/engine is shared.
module.exports = require('@tensorflow/tfjs');
