/**
 * The taste model behind `recommendations` and `Movie.alsoLiked`: fitted once from people's likes and
 * the catalogue (genres, year, poster embeddings), then queried in about a millisecond.
 *
 * Scores add up per candidate, and the largest part names the reason:
 * - COLLABORATIVE: EASE over co-likes (movies people liked together with the liked ones), the top
 *   candidates reordered by a learned blend of EASE, item-kNN, popularity, genre and release-year
 *   signals whose weights are fitted on held-out training people (rerank.ts);
 * - POSTER: for movies nobody has liked yet, their predicted collaborative score from poster, genres
 *   and year (the taste map), plus how much their poster looks like the liked ones;
 * - GENRE: the share of the liked movies carrying the candidate's genres;
 * - POPULAR: how many people liked it (the prior, and all there is for an empty query).
 * The weights are the defaults that `marquee evaluate-recs` chose (docs/recommendations.md).
 */
import { TopK } from '../index/top-k';
import type { LogisticModel } from '../math/logistic';
import { dot } from '../math/vectors';
import { genreProfile, genreScore, GenreTable, genreTable, sharedGenres } from './genre-profile';
import { fitEase } from './ease';
import { fitItemKnn, NeighbourLists } from './item-knn';
import { LikeMatrix, likeMatrix } from './likes';
import { fitPosterSpace, PosterSpace } from './poster-space';
import { candidatesOf, fitRerank, laterLikes, RerankSignals, rerankFeatures, rerankScores, walk } from './rerank';
import { fitRp3beta } from './rp3beta';
import { fitTasteMap, itemFeatures, TasteMap } from './taste-map';

export type RecommendationReason = 'COLLABORATIVE' | 'POSTER' | 'POPULAR' | 'GENRE';

/** One person's likes and dislikes, as movie ids of the catalogue. */
export interface PersonLikes {
  person: string;
  /** earliest first where the time is known: the learned blend learns from each person's first likes */
  liked: number[];
  disliked: number[];
}

/** A catalogue movie; `embedding` is its L2-normalised poster embedding (null when not embedded). */
export interface CatalogItem {
  movieId: number;
  genres: readonly string[];
  year: number | null;
  embedding: Float32Array | null;
}

export interface TasteQuery {
  liked: number[];
  disliked: number[];
  k: number;
  /** a candidate must pass it (the API's filters) */
  accept?: (movieId: number) => boolean;
  /** never recommended (liked and disliked ids are excluded anyway) */
  exclude?: ReadonlySet<number>;
}

export interface TasteRecommendation {
  movieId: number;
  score: number;
  reason: RecommendationReason;
  /** the liked movies behind it, most influential first, at most 3 */
  because: number[];
}

export interface AlsoLikedItem {
  movieId: number;
  /** item-kNN similarity (shrunk cosine of the two like vectors) */
  score: number;
  /** people who liked both */
  people: number;
}

export interface TasteModel {
  recommend(q: TasteQuery): TasteRecommendation[];
  alsoLiked(movieId: number, k: number): AlsoLikedItem[];
  readonly stats: { people: number; items: number; likes: number };
  /** Everything a query reads, as typed arrays (for a fit in a worker thread to hand back; see tasteModelFromState). */
  toState(): TasteModelState;
}

/**
 * A fitted model as plain data: typed arrays (transferable without a copy) and a few small fields.
 * `tasteModelFromState(model.toState())` answers exactly as `model` does.
 */
export interface TasteModelState {
  ids: Int32Array;
  likes: LikeMatrix;
  knn: NeighbourLists;
  /** absent when the collaborative model is item-kNN itself (the same lists as knn) */
  cf: NeighbourLists | null;
  genres: GenreTable;
  space: PosterSpace;
  map: TasteMap | null;
  /** the learned blend's inputs beyond the lists above: likes after each person's first ones, release years */
  later: Int32Array;
  years: ReadonlyArray<number | null>;
  rerank: LogisticModel | null;
  options: TasteOptions;
  people: number;
}

export interface TasteOptions {
  /** the co-like model behind COLLABORATIVE: EASE weights or item-kNN similarities */
  collaborative: 'ease' | 'item-knn' | 'rp3beta';
  /** RP3β: popularity exponent of the destination item */
  rp3Beta: number;
  /** EASE ridge λ */
  easeLambda: number;
  /** EASE: items with fewer likes get no weights (they still reach people through the taste map) */
  easeMinLikes: number;
  /** item-kNN (and RP3β) neighbours kept per item */
  neighbours: number;
  /** EASE weights kept per item (the positive ones; cutting to 100 cost precision@10 0.268 -> 0.262) */
  easeNeighbours: number;
  /** item-kNN shrinkage λ in c / (c + λ) */
  shrinkage: number;
  /** weight of the popularity prior (likes / most likes) on liked-by-someone movies */
  popularityWeight: number;
  /** weight of the genre profile */
  genreWeight: number;
  /** weight of the taste map's predicted collaborative score on movies nobody liked */
  coldWeight: number;
  /** weight of poster likeness (cosine to the mean liked poster) on movies nobody liked */
  posterWeight: number;
  /** a disliked movie counts as this many times minus a liked one */
  dislikeWeight: number;
  /**
   * reorder each query's collaborative candidates by the learned blend (rerank.ts: EASE, item-kNN,
   * popularity, genre and release-year signals, weights fitted on held-out training people)
   */
  rerank: boolean;
  /** collaborative candidates the blend reorders per query */
  rerankCandidates: number;
  /** earliest likes of a held-out training person given as the blend's training query */
  rerankGiven: number;
  /** folds of the training people for fitting the blend (each fold costs one more EASE fit) */
  rerankFolds: number;
  /** L2 penalty of the blend's logistic regression */
  rerankL2: number;
  /** the blend sees release years (off: an ablation, every year feature 0) */
  rerankYears: boolean;
  /** reduced poster dimensions (poster space) */
  posterDims: number;
  /** ridge of the taste map */
  mapRidge: number;
  seed: number;
}

export const DEFAULT_TASTE_OPTIONS: TasteOptions = {
  collaborative: 'ease',
  easeLambda: 300,
  easeNeighbours: 2000,
  easeMinLikes: 2,
  rp3Beta: 0.3,
  neighbours: 100,
  shrinkage: 10,
  popularityWeight: 0,
  genreWeight: 0.05,
  coldWeight: 1,
  posterWeight: 0.05,
  dislikeWeight: 0.5,
  rerank: true,
  rerankCandidates: 200,
  rerankGiven: 5,
  rerankFolds: 4,
  rerankL2: 1,
  rerankYears: true,
  posterDims: 32,
  mapRidge: 10,
  seed: 1,
};

const BECAUSE = 3;

export function fitTasteModel(people: PersonLikes[], catalog: CatalogItem[], options: Partial<TasteOptions> = {}): TasteModel {
  const o = { ...DEFAULT_TASTE_OPTIONS, ...options };
  const indexOf = new Map<number, number>();
  catalog.forEach((c, i) => {
    if (indexOf.has(c.movieId)) throw new Error(`movie ${c.movieId} is twice in the catalogue`);
    indexOf.set(c.movieId, i);
  });
  const toIndex = (ids: readonly number[]) => ids.flatMap((id) => indexOf.get(id) ?? []);
  const liked = people.map((p) => toIndex(p.liked));
  const likes = likeMatrix(liked, catalog.length);
  // item-kNN always answers alsoLiked (its lists are co-like counts people can read); the chosen
  // collaborative model drives recommend and the taste map
  const collaborative = (m: LikeMatrix) => {
    const knn = fitItemKnn(m, o);
    const cf =
      o.collaborative === 'ease'
        ? fitEase(m, { lambda: o.easeLambda, minLikes: o.easeMinLikes, neighbours: o.easeNeighbours })
        : o.collaborative === 'rp3beta'
          ? fitRp3beta(m, { beta: o.rp3Beta, neighbours: o.neighbours })
          : knn;
    return { knn, cf };
  };
  const { knn, cf } = collaborative(likes);
  const genres = genreTable(catalog.map((c) => c.genres));
  const years = catalog.map((c) => c.year);
  const blendYears = o.rerankYears ? years : years.map(() => null);
  const signals: RerankSignals = { cf, knn, count: likes.count, later: laterLikes(liked, catalog.length, o.rerankGiven), genres, years: blendYears };
  const rerank = o.rerank
    ? fitRerank(liked, catalog.length, genres, blendYears, collaborative, {
        candidates: o.rerankCandidates,
        given: o.rerankGiven,
        folds: o.rerankFolds,
        l2: o.rerankL2,
        seed: o.seed,
      })
    : null;
  const space = posterSpaceOf(catalog, o);
  const rated: number[] = [];
  for (let i = 0; i < catalog.length; i++) if (likes.count[i] > 0) rated.push(i);
  const map = rated.length ? fitTasteMap(cf, rated, itemFeatures(space, genres, years), { ridge: o.mapRidge }) : null;
  return new FittedTasteModel(
    Int32Array.from(catalog, (c) => c.movieId),
    indexOf,
    likes,
    knn,
    cf,
    genres,
    space,
    map,
    signals,
    rerank,
    o,
    people.length,
  );
}

/** The model a toState() describes (typed arrays are used, not copied). */
export function tasteModelFromState(s: TasteModelState): TasteModel {
  const indexOf = new Map<number, number>();
  s.ids.forEach((id, i) => indexOf.set(id, i));
  const cf = s.cf ?? s.knn;
  const signals: RerankSignals = { cf, knn: s.knn, count: s.likes.count, later: s.later, genres: s.genres, years: s.years };
  return new FittedTasteModel(s.ids, indexOf, s.likes, s.knn, cf, s.genres, s.space, s.map, signals, s.rerank, s.options, s.people);
}

/** The distinct buffers under a state's typed arrays: the transfer list of a postMessage that hands it over. */
export function stateBuffers(s: TasteModelState): ArrayBuffer[] {
  const arrays: ArrayBufferView[] = [
    s.ids,
    s.likes.byPerson.start,
    s.likes.byPerson.index,
    s.likes.byItem.start,
    s.likes.byItem.index,
    s.likes.count,
    ...[s.knn, s.cf].flatMap((l) => (l ? [l.start, l.item, l.sim, l.people] : [])),
    s.genres.start,
    s.genres.genre,
    s.space.vectors,
    s.space.has,
    ...(s.map ? [s.map.weights, s.map.features] : []),
    s.later,
    ...(s.rerank ? [s.rerank.mean, s.rerank.scale, s.rerank.weights] : []),
  ];
  return [...new Set(arrays.map((a) => a.buffer as ArrayBuffer))];
}

/**
 * The poster space depends on the catalogue alone, and projecting every poster is most of a fit's
 * time: refits on the same catalogue array (new ratings, the evaluation's folds) reuse it. A catalogue
 * array is treated as immutable; a changed catalogue comes as a new array.
 */
const spaces = new WeakMap<readonly CatalogItem[], Map<string, PosterSpace>>();
function posterSpaceOf(catalog: readonly CatalogItem[], o: TasteOptions): PosterSpace {
  let byKey = spaces.get(catalog);
  if (!byKey) spaces.set(catalog, (byKey = new Map<string, PosterSpace>()));
  const key = `${o.posterDims}/${o.seed}/${catalog.length}`;
  let space = byKey.get(key);
  if (!space) {
    space = fitPosterSpace(
      catalog.map((c) => c.embedding),
      { dim: o.posterDims, sample: 4000, seed: o.seed },
    );
    byKey.set(key, space);
  }
  return space;
}

interface Parts {
  collaborative: number;
  poster: number;
  genre: number;
  popular: number;
}

/**
 * A new movie's poster score is first bounded from its first HEAD_DIMS poster-space dimensions (the
 * leading ones carry most of a vector) and the rest by Cauchy-Schwarz; only a bound that beats the
 * current top k is computed in full.
 */
const HEAD_DIMS = 8;

/** Per cold item, in the model's `cold` order: poster-space head and tail, the tail's norm, year feature, genre set. */
interface ColdTable {
  headDims: number;
  head: Float32Array;
  tail: Float32Array;
  tailNorm: Float32Array;
  year: Float32Array;
  set: Int32Array;
}

function coldTable(cold: Int32Array, space: PosterSpace, map: TasteMap | null, genreCount: number, setOf: Int32Array): ColdTable {
  const sd = space.dim;
  const headDims = Math.min(HEAD_DIMS, sd);
  const tailDims = sd - headDims;
  const n = cold.length;
  const t: ColdTable = {
    headDims,
    head: new Float32Array(n * headDims),
    tail: new Float32Array(n * tailDims),
    tailNorm: new Float32Array(n),
    year: new Float32Array(n),
    set: new Int32Array(n),
  };
  const yearAt = sd + genreCount;
  for (let r = 0; r < n; r++) {
    const c = cold[r];
    t.head.set(space.vectors.subarray(c * sd, c * sd + headDims), r * headDims);
    t.tail.set(space.vectors.subarray(c * sd + headDims, (c + 1) * sd), r * tailDims);
    let norm = 0;
    for (let j = 0; j < tailDims; j++) norm += t.tail[r * tailDims + j] ** 2;
    t.tailNorm[r] = Math.sqrt(norm);
    t.year[r] = map ? map.features[c * map.dim + yearAt] : 0;
    t.set[r] = setOf[c];
  }
  return t;
}

class FittedTasteModel implements TasteModel {
  readonly stats: { people: number; items: number; likes: number };
  private readonly popularity: Float32Array;
  /** items somebody liked, and the others (scored through their posters) */
  private readonly warm: Int32Array;
  private readonly cold: Int32Array;
  /** the cold items' scoring inputs, contiguous in `cold` order (a query reads them in one sweep) */
  private readonly coldTable: ColdTable;
  /** per item: its set of genres as one of the catalogue's distinct sets, scored once per query */
  private readonly genreSetOf: Int32Array;
  private readonly genreSets: GenreTable;

  constructor(
    private readonly ids: Int32Array,
    private readonly indexOf: ReadonlyMap<number, number>,
    private readonly likes: LikeMatrix,
    private readonly knn: NeighbourLists,
    private readonly cf: NeighbourLists,
    private readonly genres: GenreTable,
    private readonly space: PosterSpace,
    private readonly map: TasteMap | null,
    private readonly signals: RerankSignals,
    private readonly rerank: LogisticModel | null,
    private readonly o: TasteOptions,
    people: number,
  ) {
    let most = 0;
    for (const c of likes.count) most = Math.max(most, c);
    this.popularity = Float32Array.from(likes.count, (c) => (most ? c / most : 0));
    let items = 0;
    for (const c of likes.count) if (c > 0) items++;
    this.stats = { people, items, likes: likes.likes };
    const warm: number[] = [];
    const cold: number[] = [];
    likes.count.forEach((c, i) => (c > 0 ? warm : cold).push(i));
    this.warm = Int32Array.from(warm);
    this.cold = Int32Array.from(cold);
    const setIds = new Map<string, number>();
    const setStart = [0];
    const setGenres: number[] = [];
    this.genreSetOf = Int32Array.from(ids, (_, c) => {
      const set = Array.from(genres.genre.subarray(genres.start[c], genres.start[c + 1])).sort((a, b) => a - b);
      let id = setIds.get(set.join(','));
      if (id === undefined) {
        setIds.set(set.join(','), (id = setStart.length - 1));
        setGenres.push(...set);
        setStart.push(setGenres.length);
      }
      return id;
    });
    this.genreSets = { names: genres.names, start: Int32Array.from(setStart), genre: Int16Array.from(setGenres) };
    this.coldTable = coldTable(this.cold, space, map, genres.names.length, this.genreSetOf);
  }

  toState(): TasteModelState {
    return {
      ids: this.ids,
      likes: this.likes,
      knn: this.knn,
      cf: this.cf === this.knn ? null : this.cf,
      genres: this.genres,
      space: this.space,
      map: this.map,
      later: this.signals.later,
      years: this.signals.years,
      rerank: this.rerank,
      options: this.o,
      people: this.stats.people,
    };
  }

  recommend(q: TasteQuery): TasteRecommendation[] {
    const k = Math.max(0, Math.floor(q.k));
    if (!k) return [];
    const liked = this.known(q.liked);
    const disliked = this.known(q.disliked);
    const n = this.ids.length;
    const skip = new Uint8Array(n);
    for (const i of liked) skip[i] = 1;
    for (const i of disliked) skip[i] = 1;
    if (q.exclude) for (const id of q.exclude) this.flag(skip, id);

    // collaborative: walk the neighbour lists of the liked (and, negatively, the disliked) items
    const cf = walk(this.cf, liked, new Float32Array(n));
    walk(this.cf, disliked, cf, -this.o.dislikeWeight);
    // the learned blend's order of the collaborative candidates (before cf is rescaled: it reads raw scores)
    const reordered = this.reorder(liked, cf, skip, q.accept);
    // the collaborative models differ in scale (EASE weights, cosines, walk probabilities): scaled to
    // the query's best, the blend weights mean the same whichever model is chosen
    let best = 0;
    for (let c = 0; c < n; c++) if (!skip[c] && cf[c] > best) best = cf[c];
    if (best > 0) for (let c = 0; c < n; c++) cf[c] /= best;
    const profile = genreProfile(this.genres, liked);
    const u = this.tasteVector(liked, disliked, best);
    const posterQuery = this.meanPoster(liked);
    // with nothing known to go on, popularity is all there is (whatever its weight in the blend)
    const popularity = liked.length ? this.o.popularityWeight : 1;

    const scorer = this.scorer(cf, profile, u, posterQuery, popularity);
    // the reordered candidates take the candidates' own scores, best to the blend's first: the blend
    // changes their order, not how they compare with the movies outside (new releases by poster)
    const values = reordered.map(scorer.warm).sort((a, b) => b - a);
    const reorderedScore = new Map<number, number>();
    reordered.forEach((c, r) => reorderedScore.set(c, values[r]));
    const top = new TopK(k);
    const accept = q.accept;
    // warm items first: their scores set the bar that most new movies' bounds then fail to pass
    for (const c of this.warm) {
      if (skip[c] || (accept && !accept(this.ids[c]))) continue;
      const score = reorderedScore.get(c) ?? scorer.warm(c);
      if (score > top.worst) top.push(c, score);
    }
    let bar = top.worst;
    for (let r = 0; r < this.cold.length; r++) {
      const c = this.cold[r];
      if (skip[c] || (accept && !accept(this.ids[c]))) continue;
      const score = scorer.cold(r, bar);
      if (score > bar) {
        top.push(c, score);
        bar = top.worst;
      }
    }
    return top.result().map(({ id: c, score }) => {
      const p = this.parts(c, cf, profile, u, posterQuery, popularity);
      const reason = reasonOf(p);
      return { movieId: this.ids[c], score, reason, because: this.because(reason, c, liked).map((i) => this.ids[i]) };
    });
  }

  /**
   * A query's score of every item: the sum of `parts`, computed without them. A new movie's poster
   * part is linear in its map features, whose first dimensions are its poster-space vector, so the
   * taste vector and the mean liked poster fold into one vector over the poster space. `cold(c, bar)`
   * may return any value ≤ bar when the movie's exact score cannot beat `bar`.
   */
  private scorer(
    cf: Float32Array,
    profile: Float64Array,
    u: Float32Array | null,
    posterQuery: Float32Array | null,
    popularity: number,
  ): { warm: (c: number) => number; cold: (r: number, bar: number) => number } {
    const { genreWeight, coldWeight, posterWeight } = this.o;
    const sd = this.space.dim;
    const { headDims, head, tail, tailNorm, year, set } = this.coldTable;
    const tailDims = sd - headDims;
    const folded = new Float64Array(sd);
    if (posterQuery) for (let j = 0; j < sd; j++) folded[j] += posterWeight * posterQuery[j];
    const map = this.map;
    const mapped = u && map ? u : null;
    if (mapped) for (let j = 0; j < sd; j++) folded[j] += coldWeight * mapped[j];
    let foldedTail = 0;
    for (let j = headDims; j < sd; j++) foldedTail += folded[j] ** 2;
    foldedTail = Math.sqrt(foldedTail);
    const pop = this.popularity;
    const yearAt = sd + this.genres.names.length;
    // per distinct genre set: its genre-profile part, and (for new movies) its part of the taste map
    const sets = this.genreSets;
    const setCount = sets.start.length - 1;
    const genreOfSet = new Float64Array(setCount);
    const mappedOfSet = new Float64Array(setCount);
    for (let t = 0; t < setCount; t++) {
      const gs = sets.start[t];
      const ge = sets.start[t + 1];
      let v = 0;
      let m = 0;
      for (let j = gs; j < ge; j++) {
        v += profile[sets.genre[j]];
        if (mapped) m += mapped[sd + sets.genre[j]];
      }
      genreOfSet[t] = ge > gs ? (genreWeight * v) / Math.sqrt(ge - gs) : 0;
      mappedOfSet[t] = mapped ? coldWeight * (m + mapped[yearAt + 1]) : 0;
    }
    const setOf = this.genreSetOf;
    const yearWeight = mapped ? coldWeight * mapped[yearAt] : 0;
    return {
      warm: (c) => cf[c] + genreOfSet[setOf[c]] + popularity * pop[c],
      cold: (r, bar) => {
        let score = genreOfSet[set[r]] + mappedOfSet[set[r]] + yearWeight * year[r];
        for (let j = 0, o = r * headDims; j < headDims; j++) score += folded[j] * head[o + j];
        const bound = score + foldedTail * tailNorm[r];
        if (bound <= bar) return bound;
        for (let j = 0, o = r * tailDims; j < tailDims; j++) score += folded[headDims + j] * tail[o + j];
        return score;
      },
    };
  }

  /** The query's collaborative candidates (liked by someone, accepted), in the learned blend's order. */
  private reorder(liked: number[], cf: Float32Array, skip: Uint8Array, accept: ((movieId: number) => boolean) | undefined): number[] {
    if (!this.rerank || !liked.length) return [];
    const candidates = candidatesOf(cf, this.o.rerankCandidates, (c) => !skip[c] && this.likes.count[c] > 0 && (!accept || accept(this.ids[c])));
    const scores = rerankScores(this.rerank, rerankFeatures(this.signals, liked, cf, candidates), candidates.length);
    return candidates
      .map((c, r) => ({ c, s: scores[r] }))
      .sort((a, b) => b.s - a.s)
      .map((x) => x.c);
  }

  alsoLiked(movieId: number, k: number): AlsoLikedItem[] {
    const i = this.indexOf.get(movieId);
    if (i === undefined) return [];
    const out: AlsoLikedItem[] = [];
    for (let e = this.knn.start[i]; e < this.knn.start[i + 1] && out.length < k; e++)
      out.push({ movieId: this.ids[this.knn.item[e]], score: this.knn.sim[e], people: this.knn.people[e] });
    return out;
  }

  private known(ids: readonly number[]): number[] {
    const out = new Set<number>();
    for (const id of ids) {
      const i = this.indexOf.get(id);
      if (i !== undefined) out.add(i);
    }
    return [...out];
  }

  private flag(mask: Uint8Array, id: number): void {
    const i = this.indexOf.get(id);
    if (i !== undefined) mask[i] = 1;
  }

  private parts(c: number, cf: Float32Array, profile: Float64Array, u: Float32Array | null, posterQuery: Float32Array | null, popularity: number): Parts {
    const genre = this.o.genreWeight * genreScore(this.genres, profile, c);
    if (this.likes.count[c] > 0) return { collaborative: cf[c], poster: 0, genre, popular: popularity * this.popularity[c] };
    let poster = 0;
    if (u && this.map) poster += this.o.coldWeight * dot(u, 0, this.map.features, c * this.map.dim, this.map.dim);
    if (posterQuery && this.space.has[c]) poster += this.o.posterWeight * dot(posterQuery, 0, this.space.vectors, c * this.space.dim, this.space.dim);
    return { collaborative: 0, poster, genre, popular: 0 };
  }

  /**
   * u = (Σ w_liked − dislikeWeight · Σ w_disliked) / scale, on the scale of the query's collaborative
   * scores (null when no liked item has been liked by anyone).
   */
  private tasteVector(liked: number[], disliked: number[], scale: number): Float32Array | null {
    if (!this.map || !liked.some((i) => this.likes.count[i] > 0) || !(scale > 0)) return null;
    const d = this.map.dim;
    const u = new Float32Array(d);
    const add = (items: number[], w: number) => {
      for (const i of items) for (let j = 0; j < d; j++) u[j] += w * this.map!.weights[i * d + j];
    };
    add(liked, 1 / scale);
    add(disliked, -this.o.dislikeWeight / scale);
    return u;
  }

  private meanPoster(liked: number[]): Float32Array | null {
    const d = this.space.dim;
    const q = new Float32Array(d);
    let n = 0;
    for (const i of liked)
      if (this.space.has[i]) {
        n++;
        for (let j = 0; j < d; j++) q[j] += this.space.vectors[i * d + j];
      }
    if (!n) return null;
    let s = 0;
    for (let j = 0; j < d; j++) s += q[j] * q[j];
    for (let j = 0; j < d; j++) q[j] /= Math.sqrt(s) || 1;
    return q;
  }

  /** The liked items that contributed most to the part that named the reason. */
  private because(reason: RecommendationReason, c: number, liked: number[]): number[] {
    const influence = (l: number): number => {
      switch (reason) {
        case 'COLLABORATIVE':
          return this.simOf(l, c);
        case 'POSTER': {
          let s = 0;
          if (this.map && this.likes.count[l] > 0)
            s += this.o.coldWeight * dot(this.map.weights, l * this.map.dim, this.map.features, c * this.map.dim, this.map.dim);
          if (this.space.has[l] && this.space.has[c])
            s += this.o.posterWeight * dot(this.space.vectors, l * this.space.dim, this.space.vectors, c * this.space.dim, this.space.dim);
          return s;
        }
        case 'GENRE':
          return sharedGenres(this.genres, l, c);
        case 'POPULAR':
          return 0;
      }
    };
    return liked
      .map((l) => ({ l, s: influence(l) }))
      .filter((x) => x.s > 0)
      .sort((a, b) => b.s - a.s)
      .slice(0, BECAUSE)
      .map((x) => x.l);
  }

  private simOf(l: number, c: number): number {
    for (let e = this.cf.start[l]; e < this.cf.start[l + 1]; e++) if (this.cf.item[e] === c) return this.cf.sim[e];
    return 0;
  }
}

function reasonOf(p: Parts): RecommendationReason {
  const best = Math.max(p.collaborative, p.poster, p.genre, p.popular);
  if (best <= 0) return 'POPULAR';
  if (best === p.collaborative) return 'COLLABORATIVE';
  if (best === p.poster) return 'POSTER';
  if (best === p.genre) return 'GENRE';
  return 'POPULAR';
}
