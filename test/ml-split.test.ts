import { test } from 'node:test';
import assert from 'node:assert/strict';
import { iterativeStratifiedSplit } from '../src/ml/genre/training/split';
import { mulberry32 } from '../src/ml/math/random';

// Synthetic multi-label matrix: 6 labels with prevalences from 2% to 45%, correlated pairs, ~5% empty rows.
function synth(n: number, seed: number): { Y: Uint8Array; L: number } {
  const L = 6;
  const prev = [0.45, 0.3, 0.15, 0.08, 0.04, 0.02];
  const rng = mulberry32(seed);
  const Y = new Uint8Array(n * L);
  for (let i = 0; i < n; i++) {
    if (rng() < 0.05) continue;
    for (let j = 0; j < L; j++) if (rng() < prev[j]) Y[i * L + j] = 1;
    if (Y[i * L + 4] && rng() < 0.7) Y[i * L + 1] = 1;
  }
  return { Y, L };
}

const n = 3000;
const fractions = [0.7, 0.1, 0.2];
const { Y, L } = synth(n, 7);

test('every row is assigned exactly once, including rows without labels', () => {
  const folds = iterativeStratifiedSplit(Y, n, L, fractions, 42);
  assert.equal(folds.length, 3);
  const seen = new Uint8Array(n);
  for (const f of folds) for (const i of f) seen[i]++;
  assert.ok(seen.every((c) => c === 1));
  let empty = 0;
  for (let i = 0; i < n; i++) if (Y.subarray(i * L, (i + 1) * L).every((v) => v === 0)) empty++;
  assert.ok(empty > 50, 'the fixture has unlabelled rows');
});

test('deterministic for a seed, different for another seed', () => {
  const a = iterativeStratifiedSplit(Y, n, L, fractions, 42);
  const b = iterativeStratifiedSplit(Y, n, L, fractions, 42);
  const c = iterativeStratifiedSplit(Y, n, L, fractions, 43);
  assert.deepEqual(
    a.map((f) => [...f]),
    b.map((f) => [...f]),
  );
  assert.notDeepEqual(
    a.map((f) => [...f]),
    c.map((f) => [...f]),
  );
});

test('fold sizes respect the fractions', () => {
  const folds = iterativeStratifiedSplit(Y, n, L, fractions, 42);
  folds.forEach((f, j) => assert.ok(Math.abs(f.length - fractions[j] * n) <= 0.01 * n, `fold ${j}: ${f.length}`));
});

test('label proportions are stratified (each label split like the fractions)', () => {
  const folds = iterativeStratifiedSplit(Y, n, L, fractions, 42);
  for (let l = 0; l < L; l++) {
    let total = 0;
    for (let i = 0; i < n; i++) total += Y[i * L + l];
    folds.forEach((f, j) => {
      let c = 0;
      for (const i of f) c += Y[i * L + l];
      const expected = fractions[j] * total;
      assert.ok(Math.abs(c - expected) <= Math.max(1.5, 0.02 * total), `label ${l} fold ${j}: ${c} vs ${expected.toFixed(1)}`);
    });
  }
});

test('fold indices are sorted and in range; degenerate inputs work', () => {
  const folds = iterativeStratifiedSplit(Y, n, L, fractions, 1);
  for (const f of folds) for (let k = 1; k < f.length; k++) assert.ok(f[k] > f[k - 1] && f[k] < n);
  const none = iterativeStratifiedSplit(new Uint8Array(10 * 3), 10, 3, [0.5, 0.5], 3);
  assert.deepEqual(
    none.map((f) => f.length),
    [5, 5],
  );
  assert.throws(() => iterativeStratifiedSplit(new Uint8Array(5), 2, 3, [0.5, 0.5], 1), RangeError);
});
