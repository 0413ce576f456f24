/**
 * The learned blend: a logistic regression that reorders a query's collaborative candidates (the movies
 * its EASE walk reaches) from what each candidate's signals say about it: the EASE score, its rank,
 * item-kNN, popularity (all likes, and "later" likes: those after a person's first few), the genre
 * profile, and how its release year sits against the liked movies' years (people go on to like
 * movies of the era of the ones they first liked: held-out likes' mean year correlates 0.74 with the
 * first five likes').
 *
 * It is fitted the way it is used, on held-out people: the training people are split into seeded
 * folds; for each fold, EASE and item-kNN are fitted on the other folds, each person of the fold gives
 * their `given` earliest likes as the query, and the candidates they went on to like are the
 * positives. Nobody's own likes ever score their own query. A person's `liked` list is read in time
 * order (earliest first), as the offline protocol gives it.
 */
import { TopK } from '../index/top-k';
import { fitLogistic, LogisticModel, logit } from '../math/logistic';
import { mulberry32, shuffleInPlace } from '../math/random';
import { genreProfile, genreScore, GenreTable } from './genre-profile';
import type { NeighbourLists } from './item-knn';
import { LikeMatrix, likeMatrix } from './likes';

export interface RerankOptions {
  /** collaborative candidates reordered per query */
  candidates: number;
  /** earliest likes of a held-out person given as the query */
  given: number;
  /** folds of the training people (each one's queries are scored by models fitted on the others) */
  folds: number;
  /** L2 penalty of the logistic regression (on standardised features) */
  l2: number;
  seed: number;
}

/** The signals a query's features are read from (the fitted model's, or a fold's). */
export interface RerankSignals {
  readonly cf: NeighbourLists;
  readonly knn: NeighbourLists;
  /** likes per item */
  readonly count: Int32Array;
  /** likes per item after each person's `given` earliest */
  readonly later: Int32Array;
  readonly genres: GenreTable;
  readonly years: ReadonlyArray<number | null>;
}

/** Release year minus the latest liked movie's year: the edges of the one-hot bins. */
const YEAR_EDGES = [-30, -15, -8, -4, -1, 1, 4, 8];

export const RERANK_FEATURES = [
  'ease',
  'ease raw',
  'ease rank',
  'log likes',
  'log later likes',
  'item-kNN',
  'genre',
  'year - latest liked year',
  'squared (year - mean liked year)',
  '|year - latest liked year|',
  'year',
  'latest liked year',
  ...YEAR_EDGES.map((_, k) => `year bin ${k}`),
  `year bin ${YEAR_EDGES.length}`,
] as const;

const F = RERANK_FEATURES.length;

/** Summed neighbour weights of the given items. */
export function walk(lists: NeighbourLists, items: readonly number[], out: Float32Array, w = 1): Float32Array {
  for (const i of items) for (let e = lists.start[i]; e < lists.start[i + 1]; e++) out[lists.item[e]] += w * lists.sim[e];
  return out;
}

/**
 * The query's candidates: the `max` items its collaborative walk scores highest (score > 0), that
 * `eligible` lets through, best first (ties: lower index first).
 */
export function candidatesOf(cf: Float32Array, max: number, eligible: (i: number) => boolean): number[] {
  const top = new TopK(max);
  for (let i = 0; i < cf.length; i++) if (cf[i] > 0 && eligible(i)) top.push(i, cf[i]);
  return top.ids;
}

/** Row-major candidates × RERANK_FEATURES.length; `cf` is the query's walk over `s.cf`. */
export function rerankFeatures(s: RerankSignals, liked: readonly number[], cf: Float32Array, candidates: readonly number[]): Float64Array {
  const x = new Float64Array(candidates.length * F);
  if (!candidates.length) return x;
  const knn = walk(s.knn, liked, new Float32Array(s.count.length));
  let cfBest = 0;
  let knnBest = 0;
  for (const c of candidates) {
    cfBest = Math.max(cfBest, cf[c]);
    knnBest = Math.max(knnBest, knn[c]);
  }
  const profile = genreProfile(s.genres, liked);
  let latest = -Infinity;
  let sum = 0;
  let dated = 0;
  for (const l of liked) {
    const y = s.years[l];
    if (y === null || y === undefined) continue;
    latest = Math.max(latest, y);
    sum += y;
    dated++;
  }
  const meanYear = dated ? sum / dated : 0;
  candidates.forEach((c, r) => {
    const o = r * F;
    x[o] = cfBest > 0 ? cf[c] / cfBest : 0;
    x[o + 1] = cf[c];
    x[o + 2] = Math.log1p(r);
    x[o + 3] = Math.log1p(s.count[c]);
    x[o + 4] = Math.log1p(s.later[c]);
    x[o + 5] = knnBest > 0 ? knn[c] / knnBest : 0;
    x[o + 6] = genreScore(s.genres, profile, c);
    const y = s.years[c];
    // without a year on either side, every year feature stays 0
    if (y === null || y === undefined || !dated) return;
    const delta = y - latest;
    x[o + 7] = delta / 10;
    x[o + 8] = ((y - meanYear) / 10) ** 2;
    x[o + 9] = Math.abs(delta) / 10;
    x[o + 10] = (y - 1990) / 10;
    x[o + 11] = (latest - 1990) / 10;
    let bin = 0;
    while (bin < YEAR_EDGES.length && delta >= YEAR_EDGES[bin]) bin++;
    x[o + 12 + bin] = 1;
  });
  return x;
}

/** Likes per item after each person's `given` earliest. */
export function laterLikes(people: ReadonlyArray<readonly number[]>, items: number, given: number): Int32Array {
  return likeMatrix(
    people.map((l) => l.slice(given)),
    items,
  ).count;
}

/**
 * Fits the blend on held-out training people. `people`: each one's liked item indices in time order;
 * `fitCollaborative` fits the EASE and item-kNN lists the way the model does. Null when no fold has a
 * person with more likes than `given` (nothing to learn from).
 */
export function fitRerank(
  people: ReadonlyArray<readonly number[]>,
  items: number,
  genres: GenreTable,
  years: ReadonlyArray<number | null>,
  fitCollaborative: (likes: LikeMatrix) => { cf: NeighbourLists; knn: NeighbourLists },
  o: RerankOptions,
): LogisticModel | null {
  const fold = new Int32Array(people.length);
  shuffleInPlace(
    Int32Array.from(people, (_, i) => i),
    mulberry32(o.seed),
  ).forEach((p, rank) => (fold[p] = rank % o.folds));
  const xs: Float64Array[] = [];
  const ys: number[] = [];
  for (let f = 0; f < o.folds; f++) {
    const queries = people.filter((l, p) => fold[p] === f && l.length > o.given);
    if (!queries.length) continue;
    const train = people.filter((_, p) => fold[p] !== f);
    const likes = likeMatrix(train, items);
    const { cf, knn } = fitCollaborative(likes);
    const signals: RerankSignals = { cf, knn, count: likes.count, later: laterLikes(train, items, o.given), genres, years };
    for (const l of queries) {
      const liked = l.slice(0, o.given);
      const skip = new Set(liked);
      const walked = walk(cf, liked, new Float32Array(items));
      const candidates = candidatesOf(walked, o.candidates, (i) => !skip.has(i));
      const wanted = new Set(l.slice(o.given));
      xs.push(rerankFeatures(signals, liked, walked, candidates));
      for (const c of candidates) ys.push(wanted.has(c) ? 1 : 0);
    }
  }
  if (!ys.some((y) => y === 1)) return null;
  const x = new Float64Array(ys.length * F);
  let at = 0;
  for (const part of xs) {
    x.set(part, at);
    at += part.length;
  }
  return fitLogistic(x, Uint8Array.from(ys), F, { l2: o.l2, iterations: 25 });
}

/** The blend's log-odds of each candidate (row r of `x`). */
export function rerankScores(m: LogisticModel, x: Float64Array, rows: number): Float64Array {
  const out = new Float64Array(rows);
  for (let r = 0; r < rows; r++) out[r] = logit(m, x, r * F);
  return out;
}
