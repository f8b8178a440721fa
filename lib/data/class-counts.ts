// Counts labels per class: the class balance of a split, or how often a model predicts each class.
import { ConfigError } from '../core/errors.js';

/** How many labels fall in each class 0…numClasses-1; a label outside that range is an error. */
export function classCounts(labels: ArrayLike<number>, numClasses: number): number[] {
  const counts = new Array<number>(numClasses).fill(0);
  for (let i = 0; i < labels.length; i++) {
    const c = labels[i];
    if (!Number.isInteger(c) || c < 0 || c >= numClasses) {
      throw new ConfigError(
        'labels',
        `label ${i} is ${c}; expected a class from 0 to ${numClasses - 1}`,
      );
    }
    counts[c]++;
  }
  return counts;
}
