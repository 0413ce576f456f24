import fs from 'node:fs';
import path from 'node:path';
import { AppError } from '../errors';
import { evaluateRecommenders, RecsEvaluation } from '../ml/recommendation/evaluate';
import { readMovieLensRatings } from '../ml/recommendation/movielens';
import type { ProtocolOptions, RatingEvent } from '../ml/recommendation/protocol';
import type { RankerSpec } from '../ml/recommendation/ranker';
import type { CatalogItem } from '../ml/recommendation/taste-model';
import type { EmbeddingRepository } from '../repositories/embedding.repository';
import type { MovieRepository } from '../repositories/movie.repository';

export interface RecsEvaluationInput {
  /** MovieLens ratings.csv */
  ratings: string;
  /** links.csv; default: the one beside the ratings file */
  links?: string;
  protocol?: Partial<ProtocolOptions>;
  /** more methods to compare (experiments) */
  extra?: { warm?: RankerSpec[]; cold?: RankerSpec[] };
}

/**
 * `marquee evaluate-recs`: the catalogue (genres, year, poster embeddings of the active backbone) from
 * the database, MovieLens ratings from files joined to it by IMDb id, then the offline protocol of
 * the recommenders (src/ml/recommendation/protocol.ts). Nothing is stored.
 */
export class RecsEvaluationService {
  constructor(
    private readonly movies: MovieRepository,
    private readonly embeddings: EmbeddingRepository,
    private readonly backbone: string,
  ) {}

  /** Every movie with its raw genres, year and poster embedding (null when not embedded for the backbone). */
  async catalog(): Promise<{ catalog: CatalogItem[]; byImdb: Map<string, number> }> {
    const vectors = new Map<number, Float32Array>();
    for await (const page of this.embeddings.loadAll(this.backbone))
      page.ids.forEach((id, i) => vectors.set(id, page.vectors.slice(i * page.dim, (i + 1) * page.dim)));
    const catalog: CatalogItem[] = [];
    const byImdb = new Map<string, number>();
    for (let after = 0; ;) {
      const rows = await this.movies.page(undefined, after, 5000);
      if (!rows.length) break;
      for (const r of rows) {
        catalog.push({ movieId: r.id, genres: r.rawGenres, year: r.year, embedding: vectors.get(r.id) ?? null });
        if (r.imdbId) byImdb.set(r.imdbId, r.id);
      }
      after = rows[rows.length - 1].id;
    }
    return { catalog, byImdb };
  }

  async evaluate(
    input: RecsEvaluationInput,
    progress: (line: string) => void,
  ): Promise<RecsEvaluation & { ratings: { read: number; matched: number; unlinked: number } }> {
    const ratingsFile = path.resolve(input.ratings);
    const linksFile = path.resolve(input.links ?? path.join(path.dirname(ratingsFile), 'links.csv'));
    for (const f of [ratingsFile, linksFile]) if (!fs.existsSync(f)) throw new AppError('BAD_USER_INPUT', `no such file: ${f}`, 'FILE_NOT_FOUND');
    const { catalog, byImdb } = await this.catalog();
    if (!catalog.length) throw new AppError('BAD_USER_INPUT', 'the catalogue is empty: import posters first (marquee import)', 'NO_MOVIES');
    const read = readMovieLensRatings(ratingsFile, linksFile);
    const ratings: RatingEvent[] = read.ratings.flatMap((r) => {
      const movieId = byImdb.get(r.imdbId);
      return movieId === undefined ? [] : [{ person: r.user, movieId, rating: r.rating, timestamp: r.timestamp }];
    });
    if (!ratings.length) throw new AppError('BAD_USER_INPUT', `no rating in ${ratingsFile} names a catalogue movie`, 'NO_RATINGS');
    const embedded = catalog.filter((c) => c.embedding).length;
    progress(
      `catalogue ${catalog.length} movies (${embedded} posters embedded with ${this.backbone}); ${read.ratings.length} ratings read, ${ratings.length} of catalogue movies, ${read.unlinked} without a link`,
    );
    const result = evaluateRecommenders(ratings, catalog, input.protocol, progress, input.extra);
    return { ...result, ratings: { read: read.ratings.length, matched: ratings.length, unlinked: read.unlinked } };
  }
}
