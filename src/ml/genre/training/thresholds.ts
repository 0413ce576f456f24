/** Decision-threshold tuning for multi-label probabilities (done on the validation split only). */

/** 0.01, 0.02, ..., 0.99 */
export const DEFAULT_THRESHOLD_GRID: readonly number[] = Array.from({ length: 99 }, (_, i) => (i + 1) / 100);

export interface ThresholdTuning {
  thresholds: number[];
  /** Best F1 of each label on the tuning data at its threshold. */
  f1: number[];
}

function f1At(probs: Float32Array, Y: Uint8Array, n: number, L: number, j: number, t: number): number {
  let tp = 0,
    fp = 0,
    fn = 0;
  for (let i = 0; i < n; i++) {
    const p = probs[i * L + j] >= t;
    const y = Y[i * L + j] !== 0;
    if (p && y) tp++;
    else if (p) fp++;
    else if (y) fn++;
  }
  const d = 2 * tp + fp + fn;
  return d === 0 ? 0 : (2 * tp) / d;
}

/**
 * For every label independently, the grid threshold maximising that label's F1 on (probs, Y).
 * Ties (plateaus) resolve to the median of the tied thresholds; a label without positives keeps `fallback`.
 */
export function tunePerClassThresholds(
  probs: Float32Array,
  Y: Uint8Array,
  n: number,
  numLabels: number,
  grid: readonly number[] = DEFAULT_THRESHOLD_GRID,
  fallback = 0.5,
): ThresholdTuning {
  const L = numLabels;
  const thresholds: number[] = [];
  const f1: number[] = [];
  for (let j = 0; j < L; j++) {
    let pos = 0;
    for (let i = 0; i < n; i++) pos += Y[i * L + j];
    if (pos === 0) {
      thresholds.push(fallback);
      f1.push(0);
      continue;
    }
    let best = -1;
    let ties: number[] = [];
    for (const t of grid) {
      const f = f1At(probs, Y, n, L, j, t);
      if (f > best + 1e-12) {
        best = f;
        ties = [t];
      } else if (Math.abs(f - best) <= 1e-12) ties.push(t);
    }
    thresholds.push(ties[Math.floor((ties.length - 1) / 2)]);
    f1.push(best);
  }
  return { thresholds, f1 };
}

/** The single grid threshold maximising macro F1 over all labels. */
export function tuneGlobalThreshold(
  probs: Float32Array,
  Y: Uint8Array,
  n: number,
  numLabels: number,
  grid: readonly number[] = DEFAULT_THRESHOLD_GRID,
): { threshold: number; f1Macro: number } {
  let best = { threshold: 0.5, f1Macro: -1 };
  for (const t of grid) {
    let s = 0;
    for (let j = 0; j < numLabels; j++) s += f1At(probs, Y, n, numLabels, j, t);
    const m = s / numLabels;
    if (m > best.f1Macro + 1e-12) best = { threshold: t, f1Macro: m };
  }
  return best;
}

/** Macro F1 at per-class thresholds tuned on the same rows (the early-stopping and k-selection score). */
export function macroF1Tuned(probs: Float32Array, Y: Uint8Array, n: number, L: number): number {
  const t = tunePerClassThresholds(probs, Y, n, L);
  return t.f1.reduce((a, b) => a + b, 0) / L;
}
