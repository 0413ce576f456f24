/**
 * `marquee evaluate-recs`: every method of the comparison, both segments, in one run on the same people
 * and the same folds. The method lists are here so that the CLI, docs/recommendations.md and the tests
 * name the same things.
 */
import { genreProfileRanker, itemKnnRanker, popularityRanker, posterRanker, randomRanker } from './baselines';
import { carriedOverRanker } from './cold-start';
import { DEFAULT_PROTOCOL, evaluateCold, evaluateWarm, Progress, ProtocolOptions, RatingEvent, SegmentResult } from './protocol';
import type { RankerSpec } from './ranker';
import { CatalogItem, DEFAULT_TASTE_OPTIONS, fitTasteModel, TasteOptions } from './taste-model';

export interface RecsEvaluation {
  protocol: ProtocolOptions;
  chosen: { name: string; options: TasteOptions };
  warm: SegmentResult;
  cold: SegmentResult;
  /** chosen precision@10 over the best of popularity and item-kNN (target ≥ 1.1) */
  warmRatio: number;
  /** chosen cold recall@100 over the genre profile's (target ≥ 1.2) */
  coldRatio: number;
}

/** The taste model as a ranker (its `recommend`, with the given options). */
export function tasteRanker(name: string, options: Partial<TasteOptions> = {}): RankerSpec {
  return {
    name,
    fit(train, catalog) {
      const model = fitTasteModel(train, catalog, options);
      return { rank: (liked, k, accept) => model.recommend({ liked, disliked: [], k, accept }).map((r) => r.movieId) };
    },
  };
}

export const CHOSEN = 'taste model (default)';
/** the default before the learned blend: the same model, collaborative candidates in EASE's order */
export const PREVIOUS = 'EASE + taste map + genre + poster, no learned blend (second default)';
const KNN = { neighbours: 100, shrinkage: 10 };

export function warmMethods(seed: number, extra: RankerSpec[] = []): RankerSpec[] {
  return [
    randomRanker(seed),
    popularityRanker,
    genreProfileRanker,
    posterRanker,
    itemKnnRanker(KNN),
    tasteRanker('EASE alone', { collaborative: 'ease', rerank: false, popularityWeight: 0, genreWeight: 0, coldWeight: 0, posterWeight: 0 }),
    tasteRanker('item-kNN + popularity + genre (first default)', { collaborative: 'item-knn', rerank: false, popularityWeight: 0.3 }),
    tasteRanker(PREVIOUS, { rerank: false }),
    tasteRanker('taste model, learned blend without release years', { rerankYears: false }),
    ...extra,
    tasteRanker(CHOSEN),
  ];
}

export function coldMethods(seed: number, extra: RankerSpec[] = []): RankerSpec[] {
  return [
    randomRanker(seed),
    genreProfileRanker,
    posterRanker,
    carriedOverRanker({ knn: KNN, posterNeighbours: 50, posterDims: 32, weight: 0.3, seed }),
    ...extra,
    tasteRanker(CHOSEN),
  ];
}

export function evaluateRecommenders(
  ratings: readonly RatingEvent[],
  catalog: CatalogItem[],
  protocol: Partial<ProtocolOptions> = {},
  progress: Progress = () => undefined,
  extra: { warm?: RankerSpec[]; cold?: RankerSpec[] } = {},
): RecsEvaluation {
  const o: ProtocolOptions = { ...DEFAULT_PROTOCOL };
  for (const [k, v] of Object.entries(protocol) as Array<[keyof ProtocolOptions, number | undefined]>) if (v !== undefined) o[k] = v;
  const warm = evaluateWarm(ratings, catalog, warmMethods(o.seed, extra.warm), o, progress);
  const cold = evaluateCold(ratings, catalog, coldMethods(o.seed, extra.cold), o, progress);
  const p = (s: SegmentResult, name: string) => s.methods.find((m) => m.method === name)?.scores;
  const chosenWarm = p(warm, CHOSEN)!.precision10;
  const bestBaseline = Math.max(p(warm, 'popularity')!.precision10, p(warm, 'item-kNN')!.precision10);
  return {
    protocol: o,
    chosen: { name: CHOSEN, options: DEFAULT_TASTE_OPTIONS },
    warm,
    cold,
    warmRatio: bestBaseline ? chosenWarm / bestBaseline : 0,
    coldRatio: p(cold, CHOSEN)!.recall100 / (p(cold, 'genre profile')!.recall100 || 1),
  };
}
