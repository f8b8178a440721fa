// Checked exercises of notebook 03-train: steps per epoch, and the best epoch read from the history.
import type { Split } from '../../data/types.js';
import type { EpochMetrics } from '../../ml/train.js';
import { compareAnswer } from './compare.js';
import { Exercise } from './exercise.js';

/** Exercise 3 (first part): (images, batch size) → the number of optimiser steps in one epoch. */
const stepsPerEpoch = new Exercise(
  'exercise 3 (steps per epoch)',
  (steps: (images: number, batchSize: number) => number | undefined, split: Split) => {
    for (const batchSize of [32, 128, 1024]) {
      const n = split.count;
      const found = compareAnswer(
        steps(n, batchSize),
        { shape: [], values: [Math.ceil(n / batchSize)] },
        {
          what: `steps for ${n.toLocaleString('en-US')} images in batches of ${batchSize}`,
          tolerance: 0,
          mistakes: [
            ...(n % batchSize
              ? [
                  {
                    value: Math.floor(n / batchSize),
                    say: 'the last, smaller batch is a step too: round up (Math.ceil)',
                  },
                ]
              : []),
            {
              value: n / batchSize,
              say: 'a number of steps is a whole number: round up (Math.ceil)',
            },
            { value: n * batchSize, say: 'divide the number of images by the batch size' },
          ],
        },
      );
      if (found) return found;
    }
    return null;
  },
  [
    'Each step takes one batch; every image is used once per epoch.',
    'When the images do not divide evenly, the last batch is smaller, and it is still a step.',
  ],
);

/** Exercise 6: (history) → the epoch (counted from 1) with the best validation accuracy. */
const bestEpoch = new Exercise(
  'exercise 6 (stop early, by hand)',
  (
    best: (history: readonly EpochMetrics[]) => number | undefined,
    history: readonly EpochMetrics[],
  ) => {
    const val = history.map((m) => m.valAccuracy ?? NaN);
    const test = history.map((m) => m.testAccuracy ?? NaN);
    const at = (xs: number[]) => xs.indexOf(Math.max(...xs));
    const answer = best(history);
    // Epochs that tie for the best validation accuracy are all right.
    const tied = history.filter((m) => m.valAccuracy === Math.max(...val)).map((m) => m.epoch);
    if (typeof answer === 'number' && tied.includes(answer))
      return tied.length > 1 ? `ok: epochs ${tied.join(' and ')} tie for the best` : null;
    const expected = tied[0];
    return compareAnswer(
      answer,
      { shape: [], values: [expected] },
      {
        what: 'your epoch',
        tolerance: 0,
        mistakes: [
          ...tied.map((epoch) => ({
            value: epoch - 1,
            say: 'that is its position in the list, counted from 0; epochs count from 1 (history[i].epoch)',
          })),
          {
            value: history[at(test)].epoch,
            say: 'that picks by test accuracy: decisions use the validation set; the test set is for the final verdict',
          },
          {
            value: history[at(history.map((m) => m.accuracy))].epoch,
            say: 'that picks by training accuracy (dropout on, averaged over the epoch): use valAccuracy',
          },
        ],
      },
    );
  },
  [
    'Each entry of history has epoch (from 1), accuracy (training), valAccuracy and testAccuracy.',
    'Find the largest valAccuracy and return the epoch field of that entry.',
  ],
);

export const trainExercises = { stepsPerEpoch, bestEpoch };
