// Checked exercises of notebook 01 (explore the data): the mean image, never-used pixels, closest to the mean.
import * as tf from '@tensorflow/tfjs';
import type { Split } from '../../data/types.js';
import { classMeanImages, farthestFromClassMean } from '../explore.js';
import { compareAnswer, readAnswer, valuesOf } from './compare.js';
import { Exercise } from './exercise.js';

const PIXELS = 784;
const imagesTensor = (split: Split) => tf.tensor2d(split.images, [split.count, PIXELS]);

/** Exercise 5: a function from the images tensor [n, 784] to the mean image [784]. */
const meanImage = new Exercise(
  'exercise 5 (the mean image)',
  (meanImageOf: (images: tf.Tensor2D) => tf.Tensor | undefined, split: Split) => {
    const images = imagesTensor(split);
    return compareAnswer(meanImageOf(images), valuesOf(tf.mean(images, 0)), {
      what: 'the mean image',
      shapes: [
        {
          shape: [split.count],
          say: 'one number per image: that averages each image over its pixels (axis 1); average over the images, axis 0',
        },
        {
          shape: [],
          say: 'one number: that averages everything; average over the images only, axis 0',
        },
      ],
    });
  },
  [
    'The images tensor has one row per image and one column per pixel. Which axis runs over the images?',
    'tf.mean(tensor, axis) averages along one axis and removes it: the result must keep the 784 pixels.',
  ],
);

/** Pixels that are 0 in every image of the split, counted in plain JavaScript (the reference). */
function pixelsWhere(split: Split, test: (max: number, min: number) => boolean): number {
  let count = 0;
  for (let p = 0; p < PIXELS; p++) {
    let max = 0;
    let min = Infinity;
    for (let i = 0; i < split.count; i++) {
      const v = split.images[i * PIXELS + p];
      max = Math.max(max, v);
      min = Math.min(min, v);
    }
    if (test(max, min)) count++;
  }
  return count;
}

/** Exercise 6: a function from an images tensor to the number of pixels that are 0 in every image. */
const neverInked = new Exercise(
  'exercise 6 (never-used pixels)',
  (count: (images: tf.Tensor2D) => number | tf.Tensor | undefined, split: Split) => {
    const images = imagesTensor(split);
    const expected = pixelsWhere(split, (max) => max === 0);
    return compareAnswer(
      count(images),
      { shape: [], values: [expected] },
      {
        what: 'your count',
        tolerance: 0,
        mistakes: [
          {
            value: PIXELS - expected,
            say: 'that counts the pixels with ink somewhere; count those whose maximum is 0',
          },
          {
            value: pixelsWhere(split, (_max, min) => min === 0),
            say: 'that counts pixels that are 0 in at least one image (tf.min); a never-used pixel is 0 in all of them: its maximum over the images (axis 0) is 0',
          },
        ],
      },
    );
  },
  [
    'A pixel is never used when its largest value over all images is 0.',
    'tf.max(images, 0) gives each pixel its largest value; tf.equal(…, 0) marks the never-used ones; tf.sum counts the marks (cast them to numbers first).',
  ],
);

/** The reference: indices of the `k` images of each class closest to its class mean, classes in order. */
function closest(split: Split, means: Float32Array, k: number): number[] {
  const sorted = farthestFromClassMean(split, means, 10, split.count); // every image, farthest first
  return Array.from({ length: 10 }, (_, c) =>
    sorted
      .filter((o) => o.label === c)
      .slice(-k)
      .reverse()
      .map((o) => o.index),
  ).flat();
}

/** Exercise 2: the 3 images of each class closest to the class mean, 30 indices, classes 0…9 in order. */
const closestToMean = new Exercise(
  'exercise 2 (closest to the mean)',
  (
    closestOf: (split: Split, means: Float32Array) => ArrayLike<number> | undefined,
    split: Split,
  ) => {
    const means = classMeanImages(split, 10);
    const read = readAnswer(closestOf(split, means));
    if (typeof read === 'string') return read;
    const expected = closest(split, means, 3);
    if (read.values.length !== expected.length)
      return `expected 30 indices (3 per class, classes 0 to 9), got ${read.values.length}`;
    // Within a class the order is free: closest first or last, the same three images.
    const sameSet = (a: ArrayLike<number>, b: ArrayLike<number>, c: number) => {
      const want = new Set(Array.from(b).slice(3 * c, 3 * c + 3));
      return [0, 1, 2].every((j) => want.has(a[3 * c + j]));
    };
    const classes = Array.from({ length: 10 }, (_, c) => c);
    const wrong = classes.filter((c) => !sameSet(read.values, expected, c));
    if (wrong.length === 0) return null;
    const farthest = farthestFromClassMean(split, means, 10, 3).map((o) => o.index);
    if (classes.every((c) => sameSet(read.values, farthest, c)))
      return 'those are the farthest from the mean; the closest are at the other end of each class list';
    if (wrong.length === 10)
      return 'no class is right: 3 indices per class, classes 0 to 9 in order (indices into the split)';
    return (
      `right for ${10 - wrong.length} classes, wrong for digit${wrong.length > 1 ? 's' : ''} ` +
      `${wrong.join(', ')}: are you sure each of those classes was sorted whole, not cut short?`
    );
  },
  [
    'kit.farthestFromClassMean(split, means, 10, perClass) lists each class farthest first; its last images are the closest.',
    'perClass cuts each class list to that many images: pass split.count so that no class is cut.',
  ],
);

export const exploreExercises = { meanImage, neverInked, closestToMean };
