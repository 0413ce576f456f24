/**
 * Poster embeddings squeezed to a few dozen dimensions, so that a query can score every catalogue
 * poster in about a millisecond and the poster-to-taste map is a small ridge system. The basis is the
 * dominant subspace of the posters (randomised range finder with one power step over a seeded sample),
 * which keeps the directions along which posters differ most; the reduced vectors are re-normalised so
 * that dot products stay cosines.
 */
import { dot } from '../math/vectors';
import { gaussian, mulberry32 } from '../math/random';

export interface PosterSpace {
  readonly dim: number;
  /** item index -> reduced, L2-normalised vector (`dim` floats at item * dim); zero for items without a poster */
  readonly vectors: Float32Array;
  readonly has: Uint8Array;
}

export interface PosterSpaceOptions {
  dim: number;
  /** posters sampled to find the basis */
  sample: number;
  seed: number;
}

export function fitPosterSpace(embeddings: ReadonlyArray<Float32Array | null>, o: PosterSpaceOptions): PosterSpace {
  const n = embeddings.length;
  const has = new Uint8Array(n);
  const present: number[] = [];
  embeddings.forEach((e, i) => {
    if (e && e.length) {
      has[i] = 1;
      present.push(i);
    }
  });
  const vectors = new Float32Array(n * o.dim);
  if (!present.length) return { dim: o.dim, vectors, has };
  const full = embeddings[present[0]]!.length;
  for (const i of present) if (embeddings[i]!.length !== full) throw new Error(`poster embeddings of different sizes (${full} and ${embeddings[i]!.length})`);
  const rng = mulberry32(o.seed);
  const sample = present.length <= o.sample ? present : Array.from({ length: o.sample }, () => present[Math.floor(rng() * present.length)]);
  const k = Math.min(o.dim, full);
  // Ω: full × k Gaussian, stored as k rows of `full`
  const omega = new Float32Array(k * full);
  for (let j = 0; j < omega.length; j++) omega[j] = gaussian(rng);
  // Y = X Ω (sample × k), then B = Yᵀ X (k × full): rows of B span the dominant row space of X
  const y = new Float32Array(sample.length * k);
  sample.forEach((i, r) => {
    const e = embeddings[i]!;
    for (let c = 0; c < k; c++) y[r * k + c] = dot(e, 0, omega, c * full, full);
  });
  const basis = new Float64Array(k * full);
  sample.forEach((i, r) => {
    const e = embeddings[i]!;
    for (let c = 0; c < k; c++) {
      const w = y[r * k + c];
      const o2 = c * full;
      for (let d = 0; d < full; d++) basis[o2 + d] += w * e[d];
    }
  });
  orthonormaliseRows(basis, k, full);
  const b32 = Float32Array.from(basis);
  for (const i of present) {
    const e = embeddings[i]!;
    const o2 = i * o.dim;
    let s = 0;
    for (let c = 0; c < k; c++) {
      const v = dot(e, 0, b32, c * full, full);
      vectors[o2 + c] = v;
      s += v * v;
    }
    const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
    for (let c = 0; c < k; c++) vectors[o2 + c] *= inv;
  }
  return { dim: o.dim, vectors, has };
}

/** Modified Gram-Schmidt over the rows (a row that collapses is zeroed). */
function orthonormaliseRows(a: Float64Array, rows: number, cols: number): void {
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    for (let q = 0; q < r; q++) {
      const oq = q * cols;
      let d = 0;
      for (let c = 0; c < cols; c++) d += a[o + c] * a[oq + c];
      for (let c = 0; c < cols; c++) a[o + c] -= d * a[oq + c];
    }
    let s = 0;
    for (let c = 0; c < cols; c++) s += a[o + c] * a[o + c];
    const inv = s > 1e-20 ? 1 / Math.sqrt(s) : 0;
    for (let c = 0; c < cols; c++) a[o + c] *= inv;
  }
}
