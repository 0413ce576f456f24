import type { InteractionEntity } from '../db/entities';
import { checkRatingInput, parsePersonId, sentiment, type PersonTaste, type RatingWithMovie } from '../domain/rating';
import { badInput, notFound } from '../errors';
import type { InteractionRepository } from '../repositories/interaction.repository';
import type { MovieRepository } from '../repositories/movie.repository';
import { toMovieRecord } from './entity-mappers';
import type { MovieCatalog } from './movie-catalog';

/** `ratings(userId, first)`: 20 by default, at most 100, as every list of the API. */
export const MAX_RATINGS_PAGE = 100;

/**
 * People's ratings and likes/dislikes: recording, removing and listing them, and a person's taste
 * (likes and dislikes) for recommendations. Every change is announced to the listeners (the
 * recommender refits).
 */
export class RatingService {
  private readonly listeners: Array<() => void> = [];

  constructor(
    private readonly interactions: InteractionRepository,
    private readonly movies: MovieRepository,
    private readonly catalog: MovieCatalog,
  ) {}

  /** Called after every change of a rating (this process's writes; other processes' are polled for). */
  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  changed(): void {
    for (const l of this.listeners) l();
  }

  /** Records a person's star rating (0.5 to 5 in half steps) or like/dislike of a movie; it replaces any earlier one. */
  async rate(userId: string, movieId: number, rating: number | null | undefined, like: boolean | null | undefined): Promise<RatingWithMovie> {
    const person = parsePersonId(userId);
    const value = checkRatingInput(rating, like);
    const movie = await this.movie(movieId);
    const row = await this.interactions.set(person, movieId, value.rating, value.liked).catch((err: { code?: string }) => {
      // Deleted between the look-up and the write.
      if (err.code === '23503') throw notFound(`no movie with id ${movieId}`);
      throw err;
    });
    this.changed();
    return { ...toRecord(row), movie };
  }

  async remove(userId: string, movieId: number): Promise<boolean> {
    const removed = await this.interactions.remove(parsePersonId(userId), movieId);
    if (removed) this.changed();
    return removed;
  }

  /** A person's ratings, newest first (an unknown person has none). */
  async list(userId: string, first = 20): Promise<RatingWithMovie[]> {
    if (!Number.isInteger(first) || first < 1 || first > MAX_RATINGS_PAGE) throw badInput('BAD_FIRST', `first must be between 1 and ${MAX_RATINGS_PAGE}`);
    const rows = await this.interactions.byPerson(parsePersonId(userId), first);
    const out: RatingWithMovie[] = [];
    for (const r of rows) {
      const movie = this.catalog.get(r.movieId) ?? (await this.movies.findById(r.movieId).then((m) => m && toMovieRecord(m)));
      if (movie) out.push({ ...toRecord(r), movie });
    }
    return out;
  }

  /** What a person liked and disliked (rating >= 4 or like; rating <= 2 or dislike), and every movie they rated. */
  async tasteOf(person: string): Promise<PersonTaste & { rated: number[] }> {
    const taste: PersonTaste & { rated: number[] } = { liked: [], disliked: [], rated: [] };
    for (const r of await this.interactions.byPerson(person)) {
      taste.rated.push(r.movieId);
      const s = sentiment(r);
      if (s === 'liked') taste.liked.push(r.movieId);
      else if (s === 'disliked') taste.disliked.push(r.movieId);
    }
    return taste;
  }

  private async movie(movieId: number) {
    const cached = this.catalog.get(movieId);
    if (cached) return cached;
    const row = await this.movies.findById(movieId);
    if (!row) throw notFound(`no movie with id ${movieId}`);
    return toMovieRecord(row);
  }
}

function toRecord(e: InteractionEntity) {
  return { person: e.person, movieId: e.movieId, rating: e.rating, liked: e.liked, ratedAt: e.ratedAt };
}
