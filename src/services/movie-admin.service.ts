import type { NetConfig } from '../config';
import { IMDB_ID, type MovieRecord } from '../domain/movie';
import { AppError, badInput, notFound } from '../errors';
import { labelsFromRawGenres } from '../ml/genre/labels';
import type { MovieRepository } from '../repositories/movie.repository';
import type { ChangeFeed } from './change-feed';
import type { EmbeddingService } from './embedding.service';
import { toMovieRecord } from './entity-mappers';
import type { GenreModelService } from './genre-model.service';
import { readImageBytes } from './poster-query.service';
import type { PosterStore } from './poster-store';
import type { SimilarityService } from './similarity.service';

export interface AddMovieSpec {
  title: string;
  year?: number | null;
  imdbId?: string | null;
  ageRating?: string | null;
  runtimeMinutes?: number | null;
  storyline?: string | null;
  genres?: string[] | null;
  posterBase64?: string | null;
  posterUrl?: string | null;
}

/** Admin writes: a movie added here is stored, embedded, predicted and indexed before the call returns. */
export class MovieAdminService {
  constructor(
    private readonly movies: MovieRepository,
    private readonly posters: PosterStore,
    private readonly embedding: EmbeddingService,
    private readonly models: GenreModelService,
    private readonly similarity: SimilarityService,
    private readonly net: NetConfig,
    private readonly changes: ChangeFeed,
  ) {}

  async add(spec: AddMovieSpec): Promise<MovieRecord> {
    if ((spec.posterBase64 == null) === (spec.posterUrl == null)) throw badInput('POSTER_INPUT', 'give exactly one of posterBase64 and posterUrl');
    if (spec.imdbId != null && !IMDB_ID.test(spec.imdbId)) throw badInput('BAD_IMDB_ID', `malformed imdbId "${spec.imdbId}"`);
    const title = spec.title.trim();
    if (!title) throw badInput('BAD_TITLE', 'title is empty');
    const bytes = await readImageBytes(spec.posterBase64, spec.posterUrl, this.net.allowPrivateUrls);
    // Embed first: an image the backbone cannot read must not leave a half-added movie behind.
    const [poster, vector] = await Promise.all([this.posters.put(bytes), this.embedding.embedImage(bytes)]);
    const rawGenres = (spec.genres ?? []).map((g) => g.trim()).filter(Boolean);
    // The unique indexes refuse a second movie with this identity, also when calls race: no check-then-insert.
    const movie = await this.movies.insertNew({
      imdbId: spec.imdbId ?? null,
      title,
      year: spec.year ?? null,
      ageRating: spec.ageRating ?? null,
      runtimeMinutes: spec.runtimeMinutes ?? null,
      storyline: spec.storyline ?? null,
      rawGenres,
      labels: labelsFromRawGenres(rawGenres),
      posterSha256: poster.sha256,
      posterMime: poster.mime,
      posterSource: spec.posterUrl ?? 'upload',
    });
    if (!movie) {
      const which = spec.imdbId ? `imdbId ${spec.imdbId}` : `the title "${title}" and year ${spec.year ?? '(none)'}`;
      throw new AppError('CONFLICT', `a movie with ${which} exists already`, 'DUPLICATE_MOVIE');
    }
    try {
      await this.embedding.store(movie.id, poster.sha256, vector);
      await this.models.predictAndStore(movie.id, vector);
    } catch (err) {
      // Acknowledge all or nothing: a movie without its embedding would not be re-added by a retry (CONFLICT).
      await this.movies.delete(movie.id).catch(() => undefined);
      throw err;
    }
    this.similarity.onMovieChanged(movie, vector);
    await this.changes.publish({ kind: 'movies', ids: [movie.id] });
    return toMovieRecord(movie);
  }

  async delete(movieId: number): Promise<boolean> {
    const deleted = await this.movies.delete(movieId);
    if (!deleted) throw notFound(`no movie with id ${movieId}`);
    this.similarity.onMovieDeleted(movieId);
    await this.changes.publish({ kind: 'movies-deleted', ids: [movieId] });
    return true;
  }
}
