/**
 * Cosine kNN vote over training embeddings: the score of a label for a query is the
 * similarity-weighted frequency of that label among its k nearest training rows.
 * Embeddings are L2-normalised, so cosine similarity is a dot product (batched TF.js matMul + topk).
 */
import type * as TF from '@tensorflow/tfjs';
import { l2NormalizeRows } from '../../math/vectors';
import type { Tf } from './tf';
import { macroF1Tuned } from './thresholds';

export interface Neighbours {
  n: number;
  k: number;
  /** n x k training-row indices, nearest first. */
  index: Int32Array;
  /** n x k cosine similarities. */
  sim: Float32Array;
}

/** The kMax nearest training rows (cosine) of every query row. */
export async function knnNeighbours(
  tf: Tf,
  Xtrain: Float32Array,
  ntrain: number,
  Xquery: Float32Array,
  nquery: number,
  dim: number,
  kMax: number,
  batch = 256,
): Promise<Neighbours> {
  const k = Math.min(kMax, ntrain);
  const index = new Int32Array(nquery * k);
  const sim = new Float32Array(nquery * k);
  // Pre-transposed (dim x ntrain): wasm matMul with transposeB is several times slower.
  const T = tf.tidy(() => tf.transpose(tf.tensor2d(l2NormalizeRows(Xtrain.slice(), ntrain, dim), [ntrain, dim])));
  const Q = l2NormalizeRows(Xquery.slice(), nquery, dim);
  try {
    for (let s = 0; s < nquery; s += batch) {
      const m = Math.min(batch, nquery - s);
      const { values, indices } = tf.tidy(() => {
        const q = tf.tensor2d(Q.subarray(s * dim, (s + m) * dim), [m, dim]);
        const sims = tf.matMul<TF.Tensor2D>(q, T);
        return tf.topk(sims, k, true);
      });
      sim.set(await values.data(), s * k);
      index.set(await indices.data(), s * k);
      values.dispose();
      indices.dispose();
    }
  } finally {
    T.dispose();
  }
  return { n: nquery, k, index, sim };
}

/** n x L scores from the first k neighbours: sum(sim * y) / sum(sim) (negative similarities count as 0). */
export function knnScores(nb: Neighbours, Ytrain: Uint8Array, numLabels: number, k: number): Float32Array {
  const L = numLabels;
  const kk = Math.min(k, nb.k);
  const out = new Float32Array(nb.n * L);
  for (let i = 0; i < nb.n; i++) {
    let wsum = 0;
    for (let r = 0; r < kk; r++) {
      const w = Math.max(0, nb.sim[i * nb.k + r]);
      const t = nb.index[i * nb.k + r];
      wsum += w;
      for (let j = 0; j < L; j++) if (Ytrain[t * L + j]) out[i * L + j] += w;
    }
    if (wsum > 0) for (let j = 0; j < L; j++) out[i * L + j] /= wsum;
  }
  return out;
}

export const DEFAULT_K_GRID = [10, 20, 50, 100, 150, 200];

/** Chooses k on validation (macro F1 at per-class thresholds tuned on validation). */
export function chooseK(
  nbVal: Neighbours,
  Ytrain: Uint8Array,
  Yval: Uint8Array,
  numLabels: number,
  grid: number[] = DEFAULT_K_GRID,
): { k: number; valF1Macro: number; curve: Array<{ k: number; valF1Macro: number }> } {
  const curve = grid
    .filter((k) => k <= nbVal.k)
    .map((k) => ({ k, valF1Macro: macroF1Tuned(knnScores(nbVal, Ytrain, numLabels, k), Yval, nbVal.n, numLabels) }));
  if (curve.length === 0) curve.push({ k: nbVal.k, valF1Macro: macroF1Tuned(knnScores(nbVal, Ytrain, numLabels, nbVal.k), Yval, nbVal.n, numLabels) });
  const best = curve.reduce((a, b) => (b.valF1Macro > a.valF1Macro + 1e-9 ? b : a));
  return { k: best.k, valF1Macro: best.valF1Macro, curve };
}
