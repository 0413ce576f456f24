/**
 * The era split: how a model holds up on posters of another time than its training data. Movies
 * released before `testBefore` (1996-1999 in our catalogue) are the test set; the later ones are
 * split into training and validation by iterative stratification, so validation comes from the
 * training era (model and threshold choices never see the old posters).
 */
import { iterativeStratifiedSplit } from './split';

export const ERA_TEST_BEFORE = 2000;
/** Training / validation fractions of the recent movies. */
export const ERA_TRAIN_VAL = [0.9, 0.1] as const;

export interface RowSplit {
  train: Int32Array;
  val: Int32Array;
  test: Int32Array;
}

/**
 * Splits rows 0..n-1 by year: rows with a year before `testBefore` are the test set; rows from that
 * year on go to train/val (stratified on Y, seeded). Rows without a year (0 or NaN) never enter test.
 */
export function eraSplit(years: ArrayLike<number>, Y: Uint8Array, numLabels: number, seed: number, testBefore = ERA_TEST_BEFORE): RowSplit {
  const n = years.length;
  const recent: number[] = [];
  const old: number[] = [];
  for (let i = 0; i < n; i++) (years[i] > 0 && years[i] < testBefore ? old : recent).push(i);
  const Yr = new Uint8Array(recent.length * numLabels);
  recent.forEach((i, k) => Yr.set(Y.subarray(i * numLabels, (i + 1) * numLabels), k * numLabels));
  const [tr, va] = iterativeStratifiedSplit(Yr, recent.length, numLabels, [...ERA_TRAIN_VAL], seed);
  return { train: tr.map((k) => recent[k]), val: va.map((k) => recent[k]), test: Int32Array.from(old) };
}
