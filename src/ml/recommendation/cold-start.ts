/**
 * The cold-start reference of issue 9: a movie nobody has liked takes the collaborative scores of the
 * rated movies whose posters are nearest to its own (mean over its `posterNeighbours` nearest), added
 * to its genre-profile score. Nearest posters are searched in the reduced poster space and cached per
 * fitted model, because only the candidates a query lets through are ever looked up.
 */
import { TopK } from '../index/top-k';
import { dot } from '../math/vectors';
import { genreProfile, genreScore, genreTable } from './genre-profile';
import { fitItemKnn, ItemKnnOptions } from './item-knn';
import { likeMatrix } from './likes';
import { fitPosterSpace } from './poster-space';
import type { RankerSpec } from './ranker';

export interface CarriedOverOptions {
  knn: ItemKnnOptions;
  posterNeighbours: number;
  posterDims: number;
  /** weight of the carried-over score (each part is scaled to its maximum over the candidates first) */
  weight: number;
  seed: number;
}

export function carriedOverRanker(o: CarriedOverOptions, name = 'genre + CF of nearest rated posters'): RankerSpec {
  return {
    name,
    fit(train, catalog) {
      const at = new Map(catalog.map((c, i) => [c.movieId, i]));
      const toIndex = (ids: readonly number[]) => ids.flatMap((id) => at.get(id) ?? []);
      const m = likeMatrix(
        train.map((p) => toIndex(p.liked)),
        catalog.length,
      );
      const knn = fitItemKnn(m, o.knn);
      const genres = genreTable(catalog.map((c) => c.genres));
      const space = fitPosterSpace(
        catalog.map((c) => c.embedding),
        { dim: o.posterDims, sample: 4000, seed: o.seed },
      );
      const rated: number[] = [];
      for (let i = 0; i < catalog.length; i++) if (m.count[i] > 0 && space.has[i]) rated.push(i);
      const nearest = new Map<number, Int32Array>();
      const nearestOf = (c: number): Int32Array => {
        let hit = nearest.get(c);
        if (!hit) {
          const top = new TopK(o.posterNeighbours);
          if (space.has[c]) for (const r of rated) top.push(r, dot(space.vectors, c * space.dim, space.vectors, r * space.dim, space.dim));
          hit = Int32Array.from(top.ids);
          nearest.set(c, hit);
        }
        return hit;
      };
      return {
        rank(liked, k, accept) {
          const li = toIndex(liked);
          const cf = new Float64Array(catalog.length);
          for (const l of li) for (let e = knn.start[l]; e < knn.start[l + 1]; e++) cf[knn.item[e]] += knn.sim[e];
          const profile = genreProfile(genres, li);
          const skip = new Set(li);
          const cand: Array<{ i: number; g: number; c: number }> = [];
          let maxG = 0;
          let maxC = 0;
          for (let i = 0; i < catalog.length; i++) {
            if (skip.has(i) || (accept && !accept(catalog[i].movieId))) continue;
            const g = genreScore(genres, profile, i);
            let c = cf[i];
            if (m.count[i] === 0) {
              const nn = nearestOf(i);
              c = 0;
              for (const r of nn) c += cf[r];
              c /= nn.length || 1;
            }
            maxG = Math.max(maxG, g);
            maxC = Math.max(maxC, c);
            cand.push({ i, g, c });
          }
          const top = new TopK(k);
          for (const x of cand) top.push(x.i, x.g / (maxG || 1) + (o.weight * x.c) / (maxC || 1));
          return top.ids.map((i) => catalog[i].movieId);
        },
      };
    },
  };
}
