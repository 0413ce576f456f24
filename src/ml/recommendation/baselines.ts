/**
 * The baselines every recommender is measured against (marquee evaluate-recs): random, popularity
 * (likes counted over the training people only), genre profile, poster similarity (Marquee's original
 * method: cosine to the mean of the liked posters) and plain item-kNN over co-likes.
 */
import { TopK } from '../index/top-k';
import { mulberry32 } from '../math/random';
import { dot } from '../math/vectors';
import { genreProfile, genreScore, genreTable } from './genre-profile';
import { fitItemKnn, ItemKnnOptions } from './item-knn';
import { likeMatrix } from './likes';
import type { RankerSpec } from './ranker';
import type { CatalogItem, PersonLikes } from './taste-model';

/** Ranks every accepted, not-liked catalogue item by `score` (ties: catalogue order). */
function rankBy(
  catalog: readonly CatalogItem[],
  liked: number[],
  k: number,
  accept: ((id: number) => boolean) | undefined,
  score: (i: number) => number,
): number[] {
  const skip = new Set(liked);
  const top = new TopK(k);
  for (let i = 0; i < catalog.length; i++) {
    const id = catalog[i].movieId;
    if (skip.has(id) || (accept && !accept(id))) continue;
    top.push(i, score(i) - i * 1e-12);
  }
  return top.result().map((h) => catalog[h.id].movieId);
}

function indexer(catalog: readonly CatalogItem[]): (ids: readonly number[]) => number[] {
  const at = new Map(catalog.map((c, i) => [c.movieId, i]));
  return (ids) => ids.flatMap((id) => at.get(id) ?? []);
}

export function randomRanker(seed: number): RankerSpec {
  return {
    name: 'random',
    fit(_train, catalog) {
      const rng = mulberry32(seed);
      return { rank: (liked, k, accept) => rankBy(catalog, liked, k, accept, () => rng()) };
    },
  };
}

export function likeCounts(train: readonly PersonLikes[], catalog: readonly CatalogItem[]): Int32Array {
  const toIndex = indexer(catalog);
  return likeMatrix(
    train.map((p) => toIndex(p.liked)),
    catalog.length,
  ).count;
}

export const popularityRanker: RankerSpec = {
  name: 'popularity',
  fit(train, catalog) {
    const count = likeCounts(train, catalog);
    return { rank: (liked, k, accept) => rankBy(catalog, liked, k, accept, (i) => count[i]) };
  },
};

export const genreProfileRanker: RankerSpec = {
  name: 'genre profile',
  fit(_train, catalog) {
    const table = genreTable(catalog.map((c) => c.genres));
    const toIndex = indexer(catalog);
    return {
      rank(liked, k, accept) {
        const profile = genreProfile(table, toIndex(liked));
        return rankBy(catalog, liked, k, accept, (i) => genreScore(table, profile, i));
      },
    };
  },
};

/** Cosine of each poster to the normalised mean of the liked posters, on the full embeddings. */
export const posterRanker: RankerSpec = {
  name: 'poster similarity',
  fit(_train, catalog) {
    const toIndex = indexer(catalog);
    return {
      rank(liked, k, accept) {
        const vecs = toIndex(liked).flatMap((i) => catalog[i].embedding ?? []);
        if (!vecs.length) return [];
        const q = new Float32Array(vecs[0].length);
        for (const v of vecs) for (let j = 0; j < q.length; j++) q[j] += v[j];
        return rankBy(catalog, liked, k, accept, (i) => {
          const e = catalog[i].embedding;
          return e ? dot(q, 0, e, 0, q.length) : -Infinity;
        });
      },
    };
  },
};

/** Item-kNN: Σ of the liked items' neighbour similarities; items outside every list rank after, by popularity. */
export function itemKnnRanker(o: ItemKnnOptions, name = 'item-kNN'): RankerSpec {
  return {
    name,
    fit(train, catalog) {
      const toIndex = indexer(catalog);
      const m = likeMatrix(
        train.map((p) => toIndex(p.liked)),
        catalog.length,
      );
      const knn = fitItemKnn(m, o);
      let most = 1;
      for (const c of m.count) most = Math.max(most, c);
      return {
        rank(liked, k, accept) {
          const s = new Float64Array(catalog.length);
          for (const l of toIndex(liked)) for (let e = knn.start[l]; e < knn.start[l + 1]; e++) s[knn.item[e]] += knn.sim[e];
          return rankBy(catalog, liked, k, accept, (i) => s[i] + (1e-6 * m.count[i]) / most);
        },
      };
    },
  };
}
