import { test } from 'node:test';
import assert from 'node:assert/strict';
import { multilabelMetrics, binarize } from '../src/ml/genre/training/metrics';

const close = (a: number, b: number, eps = 1e-12) => assert.ok(Math.abs(a - b) <= eps, `${a} != ${b}`);
const labels = ['a', 'b', 'c'];

test('hand-computed macro/micro/hamming with a label that never occurs (zero_division = 0)', () => {
  // rows:      a b c
  const yTrue = Uint8Array.from([1, 0, 0, /**/ 1, 1, 0, /**/ 0, 1, 0, /**/ 0, 0, 0]);
  const yPred = Uint8Array.from([1, 0, 0, /**/ 0, 1, 0, /**/ 1, 1, 0, /**/ 0, 0, 0]);
  const m = multilabelMetrics(yTrue, yPred, 4, labels);
  // a: tp1 fp1 fn1 -> P .5 R .5 F1 .5; b: tp2 -> 1 1 1; c: nothing -> 0 0 0
  assert.deepEqual(
    m.perClass.map((c) => [c.label, c.precision, c.recall, c.f1, c.support]),
    [
      ['a', 0.5, 0.5, 0.5, 2],
      ['b', 1, 1, 1, 2],
      ['c', 0, 0, 0, 0],
    ],
  );
  close(m.f1Macro, 0.5);
  close(m.precisionMacro, 0.5);
  close(m.recallMacro, 0.5);
  // micro: TP 3, FP 1, FN 1
  close(m.f1Micro, 0.75);
  close(m.precisionMicro, 0.75);
  close(m.recallMicro, 0.75);
  close(m.hamming, 2 / 12);
  close(m.subsetAccuracy, 0.5);
  assert.equal(m.n, 4);
});

test('micro differs from macro when classes are imbalanced', () => {
  // 'a' frequent and perfectly predicted, 'b' rare and always missed.
  const yTrue = Uint8Array.from([1, 0, 1, 0, 1, 0, 1, 1]);
  const yPred = Uint8Array.from([1, 0, 1, 0, 1, 0, 1, 0]);
  const m = multilabelMetrics(yTrue, yPred, 4, ['a', 'b']);
  close(m.f1Macro, 0.5); // (1 + 0) / 2
  close(m.f1Micro, 8 / 9); // TP 4, FN 1: 8 / (8 + 1)
  close(m.recallMacro, 0.5);
  close(m.precisionMacro, 0.5); // b: 0/0 -> 0
  close(m.hamming, 1 / 8);
});

test('predicting positives for an absent label: precision 0, recall 0/0 -> 0, F1 0', () => {
  const yTrue = Uint8Array.from([0, 1, 0, 1]);
  const yPred = Uint8Array.from([1, 1, 1, 1]);
  const m = multilabelMetrics(yTrue, yPred, 2, ['a', 'b']);
  assert.deepEqual(m.perClass[0], { label: 'a', precision: 0, recall: 0, f1: 0, support: 0 });
  assert.deepEqual(m.perClass[1], { label: 'b', precision: 1, recall: 1, f1: 1, support: 2 });
  close(m.f1Micro, 4 / 6);
  close(m.hamming, 0.5);
});

test('all-empty predictions and truths give zeros, not NaN', () => {
  const z = new Uint8Array(6);
  const m = multilabelMetrics(z, z, 2, labels);
  for (const v of [m.f1Macro, m.f1Micro, m.precisionMacro, m.recallMacro, m.hamming]) assert.equal(v, 0);
});

test('shape mismatch throws', () => {
  assert.throws(() => multilabelMetrics(new Uint8Array(6), new Uint8Array(5), 2, labels), RangeError);
});

test('binarize with a global and per-label thresholds (>= is positive)', () => {
  const p = Float32Array.from([0.1, 0.5, 0.9, 0.25, 0.3, 0.74]);
  assert.deepEqual([...binarize(p, 2, 0.5)], [0, 1, 1, 0, 0, 1]);
  assert.deepEqual([...binarize(p, 2, 0.25)], [0, 1, 1, 1, 1, 1]);
  assert.deepEqual([...binarize(p, 2, [0.1, 0.6, 0.75])], [1, 0, 1, 1, 0, 0]);
  assert.throws(() => binarize(p, 2, [0.5, 0.5]), RangeError);
});
