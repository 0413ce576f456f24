import path from 'node:path';
import type { MovieEntity } from '../db/entities';
import type { Change } from '../domain/change';
import type { MovieFilterSpec, MovieRecord, RecommendedMovie, ScoredMovie } from '../domain/movie';
import { badInput, notFound } from '../errors';
import type { IndexConfig } from '../config';
import { CompactCosineIndex } from '../ml/index/compact-index';
import { CosineIndex, NEIGHBOURS, type Hit } from '../ml/index/cosine-index';
import { dot, normalize } from '../ml/math/vectors';
import type { EmbeddingPage, EmbeddingRepository } from '../repositories/embedding.repository';
import type { MovieRepository } from '../repositories/movie.repository';
import { GENRES } from '../ml/genre/labels';
import { toMovieRecord } from './entity-mappers';
import type { MovieCatalog } from './movie-catalog';

/** The largest k the API allows: a request up to it is answered from the precomputed neighbour lists. */
export const MAX_K = NEIGHBOURS;

export function checkK(k: number | undefined, fallback = 10): number {
  const v = k ?? fallback;
  if (!Number.isInteger(v) || v < 1 || v > MAX_K) throw badInput('BAD_K', `k must be between 1 and ${MAX_K}`);
  return v;
}

/**
 * Similar posters and recommendations over the in-process cosine index. Filters come from the
 * in-memory movie catalog, so they run inside the index search (before the top-k cut) without a
 * database round trip.
 */
export class SimilarityService {
  private index?: CosineIndex | CompactCosineIndex;
  private loading?: Promise<void>;

  constructor(
    private readonly catalog: MovieCatalog,
    private readonly movies: MovieRepository,
    private readonly embeddings: EmbeddingRepository,
    private readonly backbone: string,
    private readonly cacheDir: string,
    private readonly indexConfig: IndexConfig = { storage: 'auto', compactAbove: 150_000, exactBelow: 1500, rerankPerK: 8 },
  ) {}

  /** The storage the index uses for `count` posters (the setting, or auto's choice by size). */
  static storageFor(config: IndexConfig, count: number): 'fp32' | 'compact' {
    if (config.storage !== 'auto') return config.storage;
    return count > config.compactAbove ? 'compact' : 'fp32';
  }

  /** fp32 or compact, once loaded. */
  get indexStorage(): 'fp32' | 'compact' | undefined {
    return this.index ? (this.index instanceof CompactCosineIndex ? 'compact' : 'fp32') : undefined;
  }

  get indexSize(): number {
    return this.index?.size ?? 0;
  }

  /** Whether the vectors and the catalog are in memory (similarity queries no longer wait). */
  get loaded(): boolean {
    return this.index !== undefined;
  }

  get graphReady(): boolean {
    return this.index?.hasGraph ?? false;
  }

  /** Filters whose neighbour lists the index holds. */
  get filteredLists(): number {
    return this.index instanceof CosineIndex ? this.index.filteredListsHeld : 0;
  }

  /** The graph is built and the genre filters' lists were computed (or skipped); an index without a graph is warm. */
  get warm(): boolean {
    return this.isWarm || (this.index !== undefined && this.index.size < this.index.opts.exactBelow);
  }

  private isWarm = false;

  /**
   * One genre is the filter clients send most (the explorer's genre chips, the chatbot's "horror like
   * this"): after the graph, each genre's neighbour lists are computed in turn, in an idle-priority
   * worker, within the index's memory budget; a genre admitting a quarter of the posters or more walks
   * the graph instead and gets none.
   */
  private async warmGenreLists(index: CosineIndex | CompactCosineIndex): Promise<void> {
    if (index instanceof CosineIndex) {
      for (const genre of GENRES) {
        if (this.index !== index) return;
        await index.computeFilteredLists(this.catalog.filterFn({ labels: [genre] })!);
      }
    }
    if (this.index === index) this.isWarm = true;
  }

  /** Loads vectors and catalog; the HNSW graph builds in the background (exact search until then). */
  ready(): Promise<void> {
    if (!this.loading) {
      this.loading = this.load();
      this.loading.catch(() => (this.loading = undefined));
    }
    return this.loading;
  }

  private async load(): Promise<void> {
    await this.catalog.load();
    const storage = SimilarityService.storageFor(this.indexConfig, await this.embeddings.count(this.backbone));
    let index: CosineIndex | CompactCosineIndex | undefined;
    for await (const page of this.embeddings.loadAll(this.backbone)) {
      index ??= this.newIndex(storage, page.dim);
      for (let i = 0; i < page.ids.length; i++) index.add(page.ids[i], page.vectors.subarray(i * page.dim, (i + 1) * page.dim));
    }
    this.index = index ?? this.newIndex(storage, 1280);
    this.buildInBackground(this.index);
  }

  private newIndex(storage: 'fp32' | 'compact', dim: number): CosineIndex | CompactCosineIndex {
    const { exactBelow, rerankPerK } = this.indexConfig;
    return storage === 'compact' ? new CompactCosineIndex(dim, { exactBelow, rerankPerK }) : this.newFp32Index(dim);
  }

  private newFp32Index(dim: number): CosineIndex {
    return new CosineIndex(dim, { exactBelow: this.indexConfig.exactBelow });
  }

  /** The graph (the index answers exactly until it is there), then the genre lists. */
  private buildInBackground(index: CosineIndex | CompactCosineIndex): void {
    this.isWarm = false;
    if (index.size < index.opts.exactBelow) return;
    void index
      .buildGraph(path.join(this.cacheDir, 'index'))
      .then(() => this.warmGenreLists(index))
      .catch((err) => {
        process.stderr.write(`index build failed, staying exact: ${err}\n`);
        if (this.index === index) this.isWarm = true; // nothing more will come
      });
  }

  /** For benchmarks and tests: wait until the graph (if any) is built. */
  async graphBuilt(): Promise<void> {
    await this.ready();
    if (this.index!.size >= this.index!.opts.exactBelow) await this.index!.buildGraph(path.join(this.cacheDir, 'index'));
  }

  onMovieChanged(movie: MovieEntity, vector?: Float32Array): void {
    this.catalog.put(movie);
    if (vector && this.index) this.index.add(movie.id, vector);
  }

  onMovieDeleted(id: number): void {
    this.catalog.delete(id);
    this.index?.remove(id);
  }

  /** The catalogue (loaded by `ready()`): the recommender reads its movies and version. */
  get movieCatalog(): MovieCatalog {
    return this.catalog;
  }

  /**
   * Every stored embedding of the backbone as the index holds it (exact fp32 copies), in movie-id
   * order, when the index is loaded, exact and holds as many as the database: a retrain in this process
   * then reads no vector from the database. The embedded database runs on the event loop, and paging
   * 22,291 vectors out of it held the loop for seconds of a retrain (bench/isolation.ts). Undefined
   * otherwise (compact codes are approximations; a worker process has no index).
   */
  async residentEmbeddings(): Promise<EmbeddingPage | undefined> {
    const index = this.index;
    if (!(index instanceof CosineIndex) || index.size === 0) return undefined;
    if ((await this.embeddings.count(this.backbone)) !== index.size) return undefined;
    const ids = Int32Array.from(index.ids()).sort();
    const dim = index.dim;
    const vectors = new Float32Array(ids.length * dim);
    for (let i = 0; i < ids.length; i++) {
      vectors.set(index.get(ids[i])!, i * dim);
      if (i % 4096 === 4095) await new Promise(setImmediate); // lets requests in between the copies
    }
    return index === this.index ? { ids, vectors, dim } : undefined;
  }

  /** A movie's L2-normalised poster embedding, once `ready()` resolved; undefined when it has none. */
  embeddingOf(movieId: number): Float32Array | undefined {
    return this.index?.get(movieId);
  }

  /**
   * Follows a change another process made (ChangeFeed): movie rows into the catalog, new or
   * re-embedded posters of this backbone into the index, deleted movies out of both. Before the
   * index is loaded there is nothing to follow: its load reads the database as it is then.
   */
  async applyChange(change: Change): Promise<void> {
    if (!this.loading) return;
    await this.loading;
    switch (change.kind) {
      case 'movies':
        for (const row of await this.movies.findByIds(change.ids)) this.catalog.put(row);
        return;
      case 'movies-deleted':
        for (const id of change.ids) this.onMovieDeleted(id);
        return;
      case 'embeddings': {
        if (change.backbone !== this.backbone) return;
        // A new movie's row may come with its embedding: the catalog needs it to show the hit.
        const unknown = change.ids.filter((id) => !this.catalog.get(id));
        if (unknown.length) for (const row of await this.movies.findByIds(unknown)) this.catalog.put(row);
        const page = await this.embeddings.vectorsFor(this.backbone, change.ids);
        if (!page) return;
        this.index ??= this.newFp32Index(page.dim);
        for (let i = 0; i < page.ids.length; i++) this.index.add(page.ids[i], page.vectors.subarray(i * page.dim, (i + 1) * page.dim));
        return;
      }
      case 'resync':
        await this.catalog.refresh();
        return this.reloadVectors();
      default:
        return;
    }
  }

  /** Reads every vector again into a fresh index and swaps it in (after a lost change-feed connection). */
  private async reloadVectors(): Promise<void> {
    let index: CosineIndex | undefined;
    for await (const page of this.embeddings.loadAll(this.backbone)) {
      index ??= this.newFp32Index(page.dim);
      for (let i = 0; i < page.ids.length; i++) index.add(page.ids[i], page.vectors.subarray(i * page.dim, (i + 1) * page.dim));
    }
    if (!index) return;
    this.index = index;
    this.buildInBackground(index);
  }

  /** The stored movie whose poster has these bytes' sha256, if any. */
  async movieIdForPoster(sha256: string): Promise<number | undefined> {
    await this.ready();
    return this.catalog.idForPoster(sha256);
  }

  async vectorOf(movieId: number): Promise<Float32Array> {
    await this.ready();
    const v = this.index!.get(movieId);
    if (!v) {
      if (!this.catalog.get(movieId)) throw notFound(`no movie with id ${movieId}`);
      throw badInput('NO_EMBEDDING', `movie ${movieId} has no poster embedding yet`);
    }
    return v;
  }

  /** The k movies whose posters are most like `vector` (best first) that pass `filter`. */
  async similarToVector(vector: Float32Array, k: number, filter?: MovieFilterSpec, exclude?: ReadonlySet<number>): Promise<ScoredMovie[]> {
    return this.withMovies(await this.searchVector(vector, k, filter, exclude));
  }

  /** The k movies whose posters are most like this movie's (never itself), best first. */
  async similarToMovie(movieId: number, k: number, filter?: MovieFilterSpec): Promise<ScoredMovie[]> {
    await this.vectorOf(movieId);
    return this.withMovies(this.index!.similarTo(movieId, k, this.catalog.filterFn(filter)));
  }

  private async searchVector(vector: Float32Array, k: number, filter?: MovieFilterSpec, exclude: ReadonlySet<number> = new Set()): Promise<Hit[]> {
    await this.ready();
    return this.index!.search(vector, k, this.catalog.filterFn(filter), exclude);
  }

  /** Index hits with their movies, from the catalog (else one query); movies deleted meanwhile are dropped. */
  private async withMovies(hits: Hit[]): Promise<ScoredMovie[]> {
    const missing = hits.filter((h) => !this.catalog.get(h.id)).map((h) => h.id);
    const loaded = new Map<number, MovieRecord>();
    if (missing.length) for (const row of await this.movies.findByIds(missing)) loaded.set(row.id, toMovieRecord(row));
    return hits.flatMap((h) => {
      const movie = this.catalog.get(h.id) ?? loaded.get(h.id);
      return movie ? [{ movie, score: h.score }] : [];
    });
  }

  /**
   * Recommendations: the query is the mean of the liked posters minus half the mean of the disliked
   * ones; candidates get a small bonus for sharing the liked movies' labels; then MMR re-ranking
   * (λ = 0.7) keeps near-copies of one franchise from filling the list.
   */
  async recommend(liked: number[], disliked: number[], k: number, filter?: MovieFilterSpec): Promise<RecommendedMovie[]> {
    if (!liked.length) throw badInput('NO_LIKED', 'give at least one liked movie');
    if (liked.length + disliked.length > 100) throw badInput('TOO_MANY_IDS', 'at most 100 liked and disliked movies together');
    await this.ready();
    const likedVecs = await Promise.all(liked.map((id) => this.vectorOf(id)));
    const dislikedVecs = await Promise.all(disliked.map((id) => this.vectorOf(id)));
    const dim = likedVecs[0].length;
    const q = new Float32Array(dim);
    for (const v of likedVecs) for (let j = 0; j < dim; j++) q[j] += v[j] / likedVecs.length;
    for (const v of dislikedVecs) for (let j = 0; j < dim; j++) q[j] -= (0.5 * v[j]) / dislikedVecs.length;
    normalize(q);
    const likedMask = liked.reduce((m, id) => m | this.catalog.labelMaskOf(id), 0);
    const exclude = new Set([...liked, ...disliked]);
    const pool = await this.searchVector(q, Math.min(MAX_K * 4, k * 5), filter, exclude);
    const relevance = pool.map((h) => {
      const m = this.catalog.labelMaskOf(h.id);
      const overlap = likedMask ? popcount(m & likedMask) / popcount(m | likedMask || 1) : 0;
      return h.score + 0.1 * overlap;
    });
    const vecs = pool.map((h) => this.index!.get(h.id)!);
    const chosen: number[] = [];
    const remaining = new Set(pool.map((_, i) => i));
    while (chosen.length < k && remaining.size) {
      let best = -1;
      let bestScore = -Infinity;
      for (const i of remaining) {
        let maxSim = 0;
        for (const c of chosen) maxSim = Math.max(maxSim, dot(vecs[i], 0, vecs[c], 0, dim));
        const mmr = 0.7 * relevance[i] - 0.3 * maxSim;
        if (mmr > bestScore) {
          bestScore = mmr;
          best = i;
        }
      }
      chosen.push(best);
      remaining.delete(best);
    }
    return chosen.flatMap((i) => {
      const sims = likedVecs.map((v, j) => ({ id: liked[j], s: dot(vecs[i], 0, v, 0, dim) }));
      const top = Math.max(...sims.map((x) => x.s));
      const because = sims
        .filter((x) => x.s >= top - 0.05)
        .sort((a, b) => b.s - a.s)
        .slice(0, 3)
        .flatMap((x) => this.catalog.get(x.id) ?? []);
      const movie = this.catalog.get(pool[i].id);
      return movie ? [{ movie, score: relevance[i], because, reason: 'POSTER' as const }] : [];
    });
  }
}

function popcount(x: number): number {
  let c = 0;
  for (; x; x &= x - 1) c++;
  return c;
}
