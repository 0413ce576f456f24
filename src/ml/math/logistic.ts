/**
 * Binary logistic regression on a few dense features, fitted exactly by Newton's method (IRLS) with an
 * L2 penalty on the weights (not the bias). Features are standardised first so one penalty means the
 * same for every feature; the returned model applies the standardisation itself. Meant for tens of
 * features and up to a few hundred thousand rows (the recommender's learned blend), where each Newton
 * step is one pass over the rows and a (d+1)² Cholesky solve.
 */
import { choleskyInPlace, choleskySolveInPlace } from './cholesky';

export interface LogisticModel {
  /** per feature: (x − mean) / scale before the weights */
  readonly mean: Float64Array;
  readonly scale: Float64Array;
  readonly weights: Float64Array;
  readonly bias: number;
}

export interface LogisticFitOptions {
  l2: number;
  /** Newton steps at most (it converges in well under ten on these problems) */
  iterations: number;
}

/** `x`: row-major rows × d; `y`: 1 for a positive row, 0 otherwise. */
export function fitLogistic(x: Float64Array, y: Uint8Array, d: number, o: LogisticFitOptions): LogisticModel {
  const rows = y.length;
  if (x.length !== rows * d) throw new Error(`logistic: ${x.length} values for ${rows} rows of ${d} features`);
  const mean = new Float64Array(d);
  const scale = new Float64Array(d);
  for (let r = 0; r < rows; r++) for (let j = 0; j < d; j++) mean[j] += x[r * d + j] / (rows || 1);
  for (let r = 0; r < rows; r++) for (let j = 0; j < d; j++) scale[j] += (x[r * d + j] - mean[j]) ** 2 / (rows || 1);
  // a constant feature keeps scale 1 (and gets weight 0 through the penalty)
  for (let j = 0; j < d; j++) scale[j] = Math.sqrt(scale[j]) || 1;
  const p = d + 1; // the bias is the last coefficient
  const w = new Float64Array(p);
  const z = new Float64Array(p);
  for (let it = 0; it < o.iterations; it++) {
    const h = new Float64Array(p * p);
    const g = new Float64Array(p);
    for (let r = 0; r < rows; r++) {
      for (let j = 0; j < d; j++) z[j] = (x[r * d + j] - mean[j]) / scale[j];
      z[d] = 1;
      let t = 0;
      for (let j = 0; j < p; j++) t += w[j] * z[j];
      const q = 1 / (1 + Math.exp(-t));
      const v = q * (1 - q);
      const e = q - y[r];
      for (let a = 0; a < p; a++) {
        g[a] += e * z[a];
        const va = v * z[a];
        for (let b = 0; b <= a; b++) h[a * p + b] += va * z[b];
      }
    }
    for (let a = 0; a < p; a++) for (let b = 0; b < a; b++) h[b * p + a] = h[a * p + b];
    for (let j = 0; j < d; j++) {
      g[j] += o.l2 * w[j];
      h[j * p + j] += o.l2;
    }
    h[d * p + d] += 1e-9;
    choleskyInPlace(h, p);
    choleskySolveInPlace(h, p, g, 1);
    let step = 0;
    for (let j = 0; j < p; j++) {
      w[j] -= g[j];
      step = Math.max(step, Math.abs(g[j]));
    }
    if (step < 1e-6) break;
  }
  return { mean, scale, weights: w.slice(0, d), bias: w[d] };
}

/** The model's log-odds for one row of `x` starting at `offset`. */
export function logit(m: LogisticModel, x: ArrayLike<number>, offset = 0): number {
  let t = m.bias;
  for (let j = 0; j < m.weights.length; j++) t += (m.weights[j] * (x[offset + j] - m.mean[j])) / m.scale[j];
  return t;
}
