import type { RecommendationsConfig } from '../config';
import type { RecommenderState } from '../domain/status';
import type { AlsoLikedMovie, MovieFilterSpec, MovieRecord, RecommendedMovie } from '../domain/movie';
import { parsePersonId, sentiment } from '../domain/rating';
import { AppError, badInput, notFound } from '../errors';
import { fitTasteModelInWorker } from '../ml/recommendation/fit-in-worker';
import type { CatalogItem, PersonLikes, TasteModel } from '../ml/recommendation/taste-model';
import type { InteractionRepository } from '../repositories/interaction.repository';
import type { RatingService } from './rating.service';
import { MAX_K, type SimilarityService } from './similarity.service';

/** At most this many liked and disliked ids in one request, together. */
export const MAX_TASTE_IDS = 100;

/** How long a query with nothing liked waits for a fit in progress (the first one at start). */
const WAIT_FOR_FIT_MS = 10_000;
/** How often (seconds) a query looks for ratings written by another process (e.g. `marquee import-ratings`). */
export const RATINGS_POLL_S = 10;
const POLL_MS = RATINGS_POLL_S * 1000;

export interface RecommendationQuery {
  /** A person whose stored likes and dislikes join the lists (an unknown person has none). */
  userId?: string;
  liked: number[];
  disliked: number[];
  k: number;
  filter?: MovieFilterSpec;
}

/**
 * Recommendations that learn from what people liked (issue 9). The taste model is fitted from the
 * stored interactions and the catalogue (genres, year, the active backbone's poster embeddings): at
 * start, in the background, and again after ratings or the catalogue change (debounced), after a
 * retrain, and on `marquee fit-recs`. A fit runs in a worker thread (seconds of CPU for EASE), so the
 * API keeps answering meanwhile; each one is numbered (`version`). Until the first fit is ready,
 * recommendations come from poster similarity alone (reason POSTER).
 *
 * A query's liked and disliked ids join the person's stored ones (the given lists win where they
 * disagree); everything the person rated is left out of the results. Nothing liked at all gets the
 * movies most people liked (POPULAR).
 */
export class RecommendationService {
  private model?: TasteModel;
  private fitting?: Promise<void>;
  private again = false;
  private timer?: NodeJS.Timeout;
  private stamp?: string;
  private catalogVersion = -1;
  private lastPoll = 0;
  private fittedAt: Date | null = null;
  private fitMs: number | null = null;
  private fits = 0;
  /** Set by the first start or fit: a process that never used the recommender (a CLI command, a queue worker) does not refit it. */
  private inUse = false;
  private lastError?: Error;
  private closed = false;

  constructor(
    private readonly interactions: InteractionRepository,
    private readonly ratings: RatingService,
    private readonly similarity: SimilarityService,
    private readonly config: RecommendationsConfig,
  ) {
    ratings.onChange(() => this.scheduleRefit());
  }

  get state(): RecommenderState {
    const s = this.model?.stats;
    return {
      ready: this.model !== undefined,
      fitting: this.fitting !== undefined,
      people: s?.people ?? 0,
      items: s?.items ?? 0,
      likes: s?.likes ?? 0,
      fittedAt: this.fittedAt,
      fitMs: this.fitMs,
      version: this.fits,
      interactionsStamp: this.model ? (this.stamp ?? null) : null,
    };
  }

  /** Starts the first fit in the background (the server does at start); queries fall back to posters until it is done. */
  start(): void {
    void this.refit().catch(() => undefined);
  }

  /** Resolves when a model fitted after every change so far is in place (tests, benchmarks). */
  async ready(): Promise<void> {
    if (!this.model && !this.fitting) await this.refit();
    while (this.fitting || this.timer) {
      if (this.timer) {
        clearTimeout(this.timer);
        this.timer = undefined;
        await this.refit();
      } else await this.fitting;
    }
    if (!this.model) throw this.unavailable();
  }

  /** A refit once no further change came for the debounce time (in a process that uses the recommender). */
  scheduleRefit(): void {
    if (this.closed || !this.inUse) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.refit().catch(() => undefined);
    }, this.config.refitDebounceMs);
    this.timer.unref();
  }

  /** Fits now (after the fit in progress, if any). */
  refit(): Promise<void> {
    this.inUse = true;
    if (this.fitting) {
      this.again = true;
      return this.fitting;
    }
    const run = async () => {
      try {
        do {
          this.again = false;
          await this.fit();
        } while (this.again && !this.closed);
      } finally {
        this.fitting = undefined;
      }
    };
    this.fitting = run();
    return this.fitting;
  }

  private async fit(): Promise<void> {
    const started = Date.now();
    try {
      await this.similarity.ready();
      const catalog = this.similarity.movieCatalog;
      const version = catalog.version;
      const stamp = await this.interactions.stamp();
      const rows = await this.interactions.all();
      const byPerson = new Map<string, PersonLikes>();
      for (const r of rows) {
        const s = sentiment(r);
        if (!s) continue;
        let p = byPerson.get(r.person);
        if (!p) byPerson.set(r.person, (p = { person: r.person, liked: [], disliked: [] }));
        (s === 'liked' ? p.liked : p.disliked).push(r.movieId);
      }
      const items: CatalogItem[] = catalog.records().map((m) => ({
        movieId: m.id,
        genres: m.labels,
        year: m.year,
        embedding: this.similarity.embeddingOf(m.id) ?? null,
      }));
      this.model = await fitTasteModelInWorker([...byPerson.values()], items);
      this.fits++;
      this.stamp = stamp;
      this.catalogVersion = version;
      this.fittedAt = new Date();
      this.fitMs = Date.now() - started;
      this.lastError = undefined;
    } catch (err) {
      this.lastError = err as Error;
      process.stderr.write(`marquee: fitting the recommender failed: ${(err as Error).message}\n`);
      throw err;
    }
  }

  /** Notices catalogue changes and (at most every 10 s) ratings and movies written by other processes. */
  private checkForChanges(): void {
    if (!this.model || this.fitting || this.timer || this.closed) return;
    if (this.similarity.movieCatalog.version !== this.catalogVersion) {
      this.scheduleRefit();
      return;
    }
    if (Date.now() - this.lastPoll < POLL_MS) return;
    this.lastPoll = Date.now();
    void (async () => {
      // Movies a command imported through an embedded server's socket reach no change feed: read them
      // too, or their ratings would be left out of the refit.
      await this.similarity.movieCatalog.refresh();
      const stamp = await this.interactions.stamp();
      if (stamp !== this.stamp || this.similarity.movieCatalog.version !== this.catalogVersion) this.scheduleRefit();
    })().catch(() => undefined);
  }

  async recommend(q: RecommendationQuery): Promise<RecommendedMovie[]> {
    if (q.liked.length + q.disliked.length > MAX_TASTE_IDS) throw badInput('TOO_MANY_IDS', `at most ${MAX_TASTE_IDS} liked and disliked movies together`);
    const given = new Set(q.liked);
    const both = q.disliked.filter((id) => given.has(id));
    if (both.length) throw badInput('LIKED_AND_DISLIKED', `movie ${both[0]} is both liked and disliked`, { ids: both });
    await this.similarity.ready();
    const catalog = this.similarity.movieCatalog;
    for (const id of [...q.liked, ...q.disliked]) if (!catalog.get(id)) throw notFound(`no movie with id ${id}`);

    let liked = [...new Set(q.liked)];
    let disliked = [...new Set(q.disliked)];
    const exclude = new Set([...liked, ...disliked]);
    if (q.userId !== undefined) {
      const taste = await this.ratings.tasteOf(parsePersonId(q.userId));
      const givenDisliked = new Set(disliked);
      // The given lists win over the stored ones; a movie deleted meanwhile is left out.
      liked = [...liked, ...taste.liked.filter((id) => !givenDisliked.has(id) && !given.has(id) && catalog.get(id))];
      disliked = [...disliked, ...taste.disliked.filter((id) => !given.has(id) && !givenDisliked.has(id) && catalog.get(id))];
      for (const id of taste.rated) exclude.add(id);
    }
    this.checkForChanges();
    const accept = catalog.filterFn(q.filter);

    if (!this.model) {
      // Until the first fit: poster similarity over the liked movies that have an embedding.
      const withVector = (ids: number[]) => ids.filter((id) => this.similarity.embeddingOf(id));
      const l = withVector(liked).slice(0, MAX_TASTE_IDS);
      if (l.length) {
        const d = withVector(disliked).slice(0, MAX_TASTE_IDS - l.length);
        const recs = await this.similarity.recommend(l, d, Math.min(MAX_K, q.k + exclude.size), q.filter);
        return recs.filter((r) => !exclude.has(r.movie.id)).slice(0, q.k);
      }
      // Nothing liked (or no liked poster embedded): only the model knows what is popular; a fit takes seconds.
      await this.waitForModel();
    }
    const recs = this.model!.recommend({ liked, disliked, k: q.k, accept, exclude });
    return recs.flatMap((r) => {
      const movie = catalog.get(r.movieId);
      if (!movie) return [];
      return [{ movie, score: r.score, reason: r.reason, because: r.because.flatMap((id) => catalog.get(id) ?? []) }];
    });
  }

  /** People who liked this movie also liked: co-liked movies, best first. */
  async alsoLiked(movieId: number, k: number): Promise<AlsoLikedMovie[]> {
    await this.similarity.ready();
    const catalog = this.similarity.movieCatalog;
    if (!catalog.get(movieId)) throw notFound(`no movie with id ${movieId}`);
    this.checkForChanges();
    if (!this.model) await this.waitForModel();
    return this.model!.alsoLiked(movieId, k).flatMap((a) => {
      const movie: MovieRecord | undefined = catalog.get(a.movieId);
      return movie ? [{ movie, score: a.score, people: a.people }] : [];
    });
  }

  private async waitForModel(): Promise<void> {
    if (!this.fitting && !this.model) void this.refit().catch(() => undefined);
    let timeout: NodeJS.Timeout | undefined;
    await Promise.race([(this.fitting ?? Promise.resolve()).catch(() => undefined), new Promise((r) => (timeout = setTimeout(r, WAIT_FOR_FIT_MS)))]);
    clearTimeout(timeout);
    if (!this.model) throw this.unavailable();
  }

  private unavailable(): AppError {
    return new AppError(
      'SERVICE_UNAVAILABLE',
      `the recommender is not fitted yet${this.lastError ? ` (the last fit failed: ${this.lastError.message})` : ''}; try again in a few seconds`,
      'RECOMMENDER_NOT_READY',
    );
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.fitting?.catch(() => undefined);
  }
}
