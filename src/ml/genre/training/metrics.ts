/**
 * Multi-label classification metrics with scikit-learn definitions (zero_division = 0).
 * Label matrices are row-major Uint8Array of n x L (0/1).
 */
export interface ClassMetrics {
  label: string;
  precision: number;
  recall: number;
  f1: number;
  /** Number of true positives in yTrue for this label. */
  support: number;
}

export interface MetricsReport {
  n: number;
  f1Macro: number;
  f1Micro: number;
  precisionMacro: number;
  recallMacro: number;
  precisionMicro: number;
  recallMicro: number;
  /** Fraction of wrong (row, label) entries. */
  hamming: number;
  /** Fraction of rows whose whole label set is predicted exactly. */
  subsetAccuracy: number;
  perClass: ClassMetrics[];
}

const div = (a: number, b: number): number => (b === 0 ? 0 : a / b);

export function multilabelMetrics(yTrue: Uint8Array, yPred: Uint8Array, n: number, labels: readonly string[]): MetricsReport {
  const L = labels.length;
  if (yTrue.length !== n * L || yPred.length !== n * L) {
    throw new RangeError(`multilabelMetrics: expected ${n}x${L} matrices, got ${yTrue.length} and ${yPred.length}`);
  }
  const tp = new Float64Array(L);
  const fp = new Float64Array(L);
  const fn = new Float64Array(L);
  let wrong = 0;
  let exact = 0;
  for (let i = 0; i < n; i++) {
    let rowOk = true;
    for (let j = 0; j < L; j++) {
      const t = yTrue[i * L + j] !== 0;
      const p = yPred[i * L + j] !== 0;
      if (t && p) tp[j]++;
      else if (p) fp[j]++;
      else if (t) fn[j]++;
      if (t !== p) {
        wrong++;
        rowOk = false;
      }
    }
    if (rowOk) exact++;
  }
  const perClass: ClassMetrics[] = [];
  let sp = 0,
    sr = 0,
    sf = 0,
    TP = 0,
    FP = 0,
    FN = 0;
  for (let j = 0; j < L; j++) {
    const precision = div(tp[j], tp[j] + fp[j]);
    const recall = div(tp[j], tp[j] + fn[j]);
    const f1 = div(2 * tp[j], 2 * tp[j] + fp[j] + fn[j]);
    perClass.push({ label: labels[j], precision, recall, f1, support: tp[j] + fn[j] });
    sp += precision;
    sr += recall;
    sf += f1;
    TP += tp[j];
    FP += fp[j];
    FN += fn[j];
  }
  return {
    n,
    f1Macro: L ? sf / L : 0,
    f1Micro: div(2 * TP, 2 * TP + FP + FN),
    precisionMacro: L ? sp / L : 0,
    recallMacro: L ? sr / L : 0,
    precisionMicro: div(TP, TP + FP),
    recallMicro: div(TP, TP + FN),
    hamming: n * L ? wrong / (n * L) : 0,
    subsetAccuracy: n ? exact / n : 0,
    perClass,
  };
}

/** probs (n x L) >= threshold -> 1. `thresholds` is one number for all labels or one per label. */
export function binarize(probs: Float32Array, n: number, thresholds: number[] | number): Uint8Array {
  const L = n === 0 ? (Array.isArray(thresholds) ? thresholds.length : 0) : probs.length / n;
  if (n > 0 && !Number.isInteger(L)) throw new RangeError('binarize: probs length is not a multiple of n');
  if (Array.isArray(thresholds) && n > 0 && thresholds.length !== L) {
    throw new RangeError(`binarize: ${thresholds.length} thresholds for ${L} labels`);
  }
  const out = new Uint8Array(probs.length);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < L; j++) {
      const t = Array.isArray(thresholds) ? thresholds[j] : thresholds;
      out[i * L + j] = probs[i * L + j] >= t ? 1 : 0;
    }
  }
  return out;
}
