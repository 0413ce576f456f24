/**
 * How posters, genres and year map into the collaborative space, learned on the movies people liked,
 * so that a movie nobody has liked yet (a new release) still gets a collaborative score.
 *
 * For every liked item l, its neighbour row S[l, ·] (item-kNN similarities) is regressed on the
 * features f_c of the rated items c (ridge): S[l, c] ≈ w_lᵀ f_c. A query's liked items then sum to
 * one vector u = Σ w_l, and an unrated item scores uᵀ f_c: its predicted co-like affinity with the
 * liked set, from its poster, genres and year alone. Features: the reduced poster vector, one-hot
 * genres, the standardised year, a bias.
 */
import { choleskyInPlace, choleskySolveInPlace } from '../math/cholesky';
import { GenreTable, genresOf } from './genre-profile';
import { NeighbourLists } from './item-knn';
import { PosterSpace } from './poster-space';

export interface TasteMap {
  /** feature count D */
  readonly dim: number;
  /** item -> w_item (D floats at item * D); zero for items nobody liked */
  readonly weights: Float32Array;
  /** item -> its features f (D floats at item * D) */
  readonly features: Float32Array;
}

export interface TasteMapOptions {
  ridge: number;
}

export function itemFeatures(space: PosterSpace, genres: GenreTable, years: ReadonlyArray<number | null>): { dim: number; features: Float32Array } {
  const n = years.length;
  const known = years.filter((y): y is number => y !== null);
  const mean = known.length ? known.reduce((a, b) => a + b, 0) / known.length : 0;
  const sd = known.length ? Math.sqrt(known.reduce((a, b) => a + (b - mean) ** 2, 0) / known.length) || 1 : 1;
  const g0 = space.dim;
  const yearAt = g0 + genres.names.length;
  const dim = yearAt + 2;
  const features = new Float32Array(n * dim);
  for (let i = 0; i < n; i++) {
    const o = i * dim;
    features.set(space.vectors.subarray(i * space.dim, (i + 1) * space.dim), o);
    for (const g of genresOf(genres, i)) features[o + g0 + g] = 1;
    const y = years[i];
    features[o + yearAt] = y === null ? 0 : (y - mean) / sd;
    features[o + yearAt + 1] = 1;
  }
  return { dim, features };
}

export function fitTasteMap(knn: NeighbourLists, rated: ArrayLike<number>, f: { dim: number; features: Float32Array }, o: TasteMapOptions): TasteMap {
  const d = f.dim;
  const n = knn.start.length - 1;
  const a = new Float64Array(d * d);
  for (let r = 0; r < rated.length; r++) {
    const fo = rated[r] * d;
    for (let i = 0; i < d; i++) {
      const fi = f.features[fo + i];
      if (fi === 0) continue;
      for (let j = 0; j <= i; j++) a[i * d + j] += fi * f.features[fo + j];
    }
  }
  for (let i = 0; i < d; i++) {
    for (let j = 0; j < i; j++) a[j * d + i] = a[i * d + j];
    a[i * d + i] += o.ridge;
  }
  // right-hand sides: column r is Σ_c S[l_r, c] f_c over l_r's neighbours
  const m = rated.length;
  const b = new Float64Array(d * m);
  for (let r = 0; r < m; r++) {
    const l = rated[r];
    for (let e = knn.start[l]; e < knn.start[l + 1]; e++) {
      const s = knn.sim[e];
      const fo = knn.item[e] * d;
      for (let i = 0; i < d; i++) b[i * m + r] += s * f.features[fo + i];
    }
  }
  choleskyInPlace(a, d);
  choleskySolveInPlace(a, d, b, m);
  const weights = new Float32Array(n * d);
  for (let r = 0; r < m; r++) for (let i = 0; i < d; i++) weights[rated[r] * d + i] = b[i * m + r];
  return { dim: d, weights, features: f.features };
}
