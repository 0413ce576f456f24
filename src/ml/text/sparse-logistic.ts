/**
 * One-vs-rest logistic regression over sparse rows (TF-IDF of poster text), plain JS: the rows are
 * a few hundred non-zeros out of tens of thousands of features, which dense TF.js would waste.
 * Adam on minibatches, L2 on the weights, biases start at the training log prior odds, early stopping
 * on validation macro F1 at tuned per-class thresholds. Rows without any feature score the prior.
 */
import { macroF1Tuned } from '../genre/training/thresholds';
import { mulberry32, shuffleInPlace } from '../math/random';
import type { SparseRow } from './text-features';

export interface SparseLogisticOptions {
  l2: number;
  learningRate: number;
  batchSize: number;
  maxEpochs: number;
  patience: number;
  seed: number;
}

export const DEFAULT_SPARSE_LOGISTIC_OPTIONS: SparseLogisticOptions = {
  l2: 1e-4,
  learningRate: 0.02,
  batchSize: 64,
  maxEpochs: 30,
  patience: 4,
  seed: 1,
};

export interface SparseLogisticModel {
  dim: number;
  labels: number;
  /** Row-major dim x labels. */
  weights: Float32Array;
  bias: Float32Array;
}

export interface SparseLogisticResult {
  model: SparseLogisticModel;
  bestEpoch: number;
  bestValF1Macro: number;
  epochsRun: number;
}

/** n x labels probabilities. */
export function predictSparseLogistic(m: SparseLogisticModel, rows: readonly SparseRow[]): Float32Array {
  const L = m.labels;
  const out = new Float32Array(rows.length * L);
  const z = new Float64Array(L);
  rows.forEach((r, i) => {
    for (let j = 0; j < L; j++) z[j] = m.bias[j];
    for (let k = 0; k < r.index.length; k++) {
      const o = r.index[k] * L,
        v = r.value[k];
      for (let j = 0; j < L; j++) z[j] += v * m.weights[o + j];
    }
    for (let j = 0; j < L; j++) out[i * L + j] = 1 / (1 + Math.exp(-z[j]));
  });
  return out;
}

export function trainSparseLogistic(
  train: { rows: readonly SparseRow[]; Y: Uint8Array },
  val: { rows: readonly SparseRow[]; Y: Uint8Array },
  dim: number,
  labels: number,
  options: Partial<SparseLogisticOptions> = {},
): SparseLogisticResult {
  const o = { ...DEFAULT_SPARSE_LOGISTIC_OPTIONS, ...options };
  const L = labels;
  const n = train.rows.length;
  const W = new Float32Array(dim * L);
  const b = new Float32Array(L);
  for (let j = 0; j < L; j++) {
    let pos = 0;
    for (let i = 0; i < n; i++) pos += train.Y[i * L + j];
    const p = Math.min(1 - 1e-3, Math.max(1e-3, pos / Math.max(1, n)));
    b[j] = Math.log(p / (1 - p));
  }
  // Adam state; sparse (lazy) updates for weights touched by the batch, with L2 folded into their gradient.
  const mW = new Float32Array(W.length),
    vW = new Float32Array(W.length);
  const mb = new Float32Array(L),
    vb = new Float32Array(L);
  const b1 = 0.9,
    b2 = 0.999,
    eps = 1e-8;
  const rng = mulberry32(o.seed);
  const order = Int32Array.from({ length: n }, (_, i) => i);
  const gW = new Map<number, Float64Array>();
  const gb = new Float64Array(L);
  const z = new Float64Array(L);
  let step = 0;
  let best = { f1: -1, epoch: 0, W: W.slice(), b: b.slice() };
  let since = 0;
  let epochsRun = 0;
  for (let epoch = 1; epoch <= o.maxEpochs; epoch++) {
    epochsRun = epoch;
    shuffleInPlace(order, rng);
    for (let s = 0; s < n; s += o.batchSize) {
      const e = Math.min(n, s + o.batchSize);
      gW.clear();
      gb.fill(0);
      for (let t = s; t < e; t++) {
        const i = order[t];
        const r = train.rows[i];
        for (let j = 0; j < L; j++) z[j] = b[j];
        for (let k = 0; k < r.index.length; k++) {
          const off = r.index[k] * L,
            v = r.value[k];
          for (let j = 0; j < L; j++) z[j] += v * W[off + j];
        }
        for (let j = 0; j < L; j++) z[j] = 1 / (1 + Math.exp(-z[j])) - train.Y[i * L + j]; // dLoss/dz
        for (let j = 0; j < L; j++) gb[j] += z[j];
        for (let k = 0; k < r.index.length; k++) {
          const f = r.index[k],
            v = r.value[k];
          let g = gW.get(f);
          if (!g) gW.set(f, (g = new Float64Array(L)));
          for (let j = 0; j < L; j++) g[j] += v * z[j];
        }
      }
      const m = e - s;
      step++;
      const c1 = 1 - b1 ** step,
        c2 = 1 - b2 ** step;
      const lr = o.learningRate;
      for (let j = 0; j < L; j++) {
        const g = gb[j] / m;
        mb[j] = b1 * mb[j] + (1 - b1) * g;
        vb[j] = b2 * vb[j] + (1 - b2) * g * g;
        b[j] -= (lr * (mb[j] / c1)) / (Math.sqrt(vb[j] / c2) + eps);
      }
      for (const [f, g] of gW) {
        const off = f * L;
        for (let j = 0; j < L; j++) {
          const gg = g[j] / m + o.l2 * W[off + j];
          mW[off + j] = b1 * mW[off + j] + (1 - b1) * gg;
          vW[off + j] = b2 * vW[off + j] + (1 - b2) * gg * gg;
          W[off + j] -= (lr * (mW[off + j] / c1)) / (Math.sqrt(vW[off + j] / c2) + eps);
        }
      }
    }
    const f1 = val.rows.length ? macroF1Tuned(predictSparseLogistic({ dim, labels: L, weights: W, bias: b }, val.rows), val.Y, val.rows.length, L) : 0;
    if (f1 > best.f1 + 1e-4) {
      best = { f1, epoch, W: W.slice(), b: b.slice() };
      since = 0;
    } else if (++since >= o.patience) break;
  }
  return { model: { dim, labels: L, weights: best.W, bias: best.b }, bestEpoch: best.epoch, bestValF1Macro: best.f1, epochsRun };
}
