// Loaded just before vendor/tf.min.js: gives its bundled regenerator runtime a global to assign to.
//
// tf.min.js runs `regeneratorRuntime = r` in strict mode and, when that throws because the global does
// not exist, falls back to `Function("r", "regeneratorRuntime = r")(r)`: a string evaluated as code,
// which the page's Content-Security-Policy (no 'unsafe-eval') blocks, and TensorFlow.js then fails to
// load. Declaring the global first makes the plain assignment succeed, so the strict policy can stay.
window.regeneratorRuntime = undefined;
