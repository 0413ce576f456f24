/**
 * Dense symmetric positive-definite algebra in Float64 (row-major n×n), for the small ridge systems of
 * the recommenders (EASE's item Gram matrix, the poster-to-taste map). Plain loops: n is at most a
 * few thousand, and Float64 keeps the Gram matrices of co-like counts well conditioned.
 */

/** In-place Cholesky factorisation A = L Lᵀ (L in the lower triangle; the upper is left as it was). */
export function choleskyInPlace(a: Float64Array, n: number): void {
  for (let j = 0; j < n; j++) {
    const rj = j * n;
    let d = a[rj + j];
    for (let k = 0; k < j; k++) d -= a[rj + k] * a[rj + k];
    if (!(d > 0)) throw new Error(`matrix is not positive definite (pivot ${j}: ${d})`);
    const ljj = Math.sqrt(d);
    a[rj + j] = ljj;
    const inv = 1 / ljj;
    for (let i = j + 1; i < n; i++) {
      const ri = i * n;
      let s = a[ri + j];
      for (let k = 0; k < j; k++) s -= a[ri + k] * a[rj + k];
      a[ri + j] = s * inv;
    }
  }
}

/** Solves L Lᵀ X = B for `m` right-hand sides stored as the columns of the row-major n×m matrix `b` (in place). */
export function choleskySolveInPlace(l: Float64Array, n: number, b: Float64Array, m: number): void {
  // forward: L Y = B
  for (let i = 0; i < n; i++) {
    const ri = i * n;
    const bi = i * m;
    for (let k = 0; k < i; k++) {
      const lik = l[ri + k];
      if (lik === 0) continue;
      const bk = k * m;
      for (let c = 0; c < m; c++) b[bi + c] -= lik * b[bk + c];
    }
    const inv = 1 / l[ri + i];
    for (let c = 0; c < m; c++) b[bi + c] *= inv;
  }
  // backward: Lᵀ X = Y
  for (let i = n - 1; i >= 0; i--) {
    const bi = i * m;
    for (let k = i + 1; k < n; k++) {
      const lki = l[k * n + i];
      if (lki === 0) continue;
      const bk = k * m;
      for (let c = 0; c < m; c++) b[bi + c] -= lki * b[bk + c];
    }
    const inv = 1 / l[i * n + i];
    for (let c = 0; c < m; c++) b[bi + c] *= inv;
  }
}

/**
 * Inverts a symmetric positive-definite matrix in place (full symmetric result): Cholesky, then L⁻¹ by
 * row-wise forward substitution, then A⁻¹ = L⁻ᵀ L⁻¹ as a sum of row outer products. About 2n³/3
 * multiply-adds, every inner loop over contiguous memory.
 */
export function invertSpdInPlace(a: Float64Array, n: number): void {
  choleskyInPlace(a, n);
  // L⁻¹, row by row, over the lower triangle: X_i = (e_i − Σ_{k<i} L_ik X_k) / L_ii (X_k is zero right of k)
  const tmp = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const ri = i * n;
    tmp.fill(0, 0, i + 1);
    for (let k = 0; k < i; k++) {
      const lik = a[ri + k];
      if (lik === 0) continue;
      const rk = k * n;
      for (let c = 0; c <= k; c++) tmp[c] -= lik * a[rk + c];
    }
    const inv = 1 / a[ri + i];
    tmp[i] = 1;
    for (let c = 0; c <= i; c++) a[ri + c] = tmp[c] * inv;
  }
  // A⁻¹ = Σ_k X_kᵀ X_k over the rows of X; accumulate the upper triangle in `out`, then mirror
  const out = new Float64Array(n * n);
  for (let k = 0; k < n; k++) {
    const rk = k * n;
    for (let i = 0; i <= k; i++) {
      const xi = a[rk + i];
      if (xi === 0) continue;
      const ri = i * n;
      for (let j = i; j <= k; j++) out[ri + j] += xi * a[rk + j];
    }
  }
  for (let i = 0; i < n; i++) for (let j = i; j < n; j++) a[i * n + j] = a[j * n + i] = out[i * n + j];
}
