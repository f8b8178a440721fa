// The checked exercises, one object per notebook: kit.<notebook>Exercises.<exercise>.check(…) / .hint().
export { breakExercises } from './break-it.js';
export { buildExercises } from './build.js';
export { cnnExercises } from './cnn.js';
export { confusionExercises } from './confusions.js';
export { exploreExercises } from './explore.js';
export { gradientExercises } from './gradients.js';
export { trainExercises } from './train.js';
