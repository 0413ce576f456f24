/**
 * Iterative stratification for multi-label data (Sechidis, Tsoumakas & Vlahavas, ECML PKDD 2011),
 * deterministic for a seed.
 */
import { mulberry32, shuffleInPlace } from '../../math/random';

function argmaxTies(values: ArrayLike<number>, candidates: number[]): number[] {
  let best = -Infinity;
  let out: number[] = [];
  for (const j of candidates) {
    const v = values[j];
    if (v > best + 1e-12) {
      best = v;
      out = [j];
    } else if (Math.abs(v - best) <= 1e-12) out.push(j);
  }
  return out;
}

/**
 * Splits rows 0..n-1 of the multi-hot matrix Y (n x numLabels, row-major) into folds of the given
 * fractions (e.g. [0.7, 0.1, 0.2]) so that every label's positives are spread in the same proportions.
 * Every row, including rows with no label, lands in exactly one fold. Returned index arrays are sorted.
 */
export function iterativeStratifiedSplit(Y: Uint8Array, n: number, numLabels: number, fractions: number[], seed: number): Int32Array[] {
  if (Y.length !== n * numLabels) throw new RangeError(`iterativeStratifiedSplit: Y is not ${n}x${numLabels}`);
  if (fractions.length === 0 || fractions.some((f) => !(f >= 0))) throw new RangeError('bad fractions');
  const total = fractions.reduce((a, b) => a + b, 0);
  if (!(total > 0)) throw new RangeError('fractions must sum to > 0');
  const r = fractions.map((f) => f / total);
  const k = r.length;
  const rng = mulberry32(seed);

  // Random processing order (the algorithm's only source of randomness besides tie-breaks).
  const order = shuffleInPlace(
    Int32Array.from({ length: n }, (_, i) => i),
    rng,
  );

  const byLabel: number[][] = Array.from({ length: numLabels }, () => []);
  const remaining = new Int32Array(numLabels);
  const unlabelled: number[] = [];
  for (const i of order) {
    let any = false;
    for (let l = 0; l < numLabels; l++) {
      if (Y[i * numLabels + l]) {
        byLabel[l].push(i);
        remaining[l]++;
        any = true;
      }
    }
    if (!any) unlabelled.push(i);
  }

  const desired = r.map((f) => f * n); // c_j
  const desiredLabel = r.map((f) => Float64Array.from(remaining, (c) => c * f)); // c_j^l
  const fold = new Int32Array(n).fill(-1);
  const allFolds = Array.from({ length: k }, (_, j) => j);
  const pick = (cands: number[]): number => (cands.length === 1 ? cands[0] : cands[Math.floor(rng() * cands.length)]);

  const assign = (i: number, j: number) => {
    fold[i] = j;
    desired[j]--;
    for (let l = 0; l < numLabels; l++) {
      if (Y[i * numLabels + l]) {
        desiredLabel[j][l]--;
        remaining[l]--;
      }
    }
  };

  for (;;) {
    // Label with the fewest (but > 0) remaining examples; random tie-break.
    let min = Infinity;
    let ties: number[] = [];
    for (let l = 0; l < numLabels; l++) {
      const c = remaining[l];
      if (c <= 0) continue;
      if (c < min) {
        min = c;
        ties = [l];
      } else if (c === min) ties.push(l);
    }
    if (ties.length === 0) break;
    const l = pick(ties);
    for (const i of byLabel[l]) {
      if (fold[i] !== -1) continue;
      let cands = argmaxTies(
        desiredLabel.map((d) => d[l]),
        allFolds,
      );
      if (cands.length > 1) cands = argmaxTies(desired, cands);
      assign(i, pick(cands));
    }
  }
  for (const i of unlabelled) assign(i, pick(argmaxTies(desired, allFolds)));

  const counts = new Int32Array(k);
  for (let i = 0; i < n; i++) counts[fold[i]]++;
  const out = Array.from({ length: k }, (_, j) => new Int32Array(counts[j]));
  const pos = new Int32Array(k);
  for (let i = 0; i < n; i++) out[fold[i]][pos[fold[i]]++] = i;
  return out;
}
