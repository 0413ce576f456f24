/** What people did with movies (issue 9): star ratings and likes/dislikes, as the services hand them out. */
import { badInput } from '../errors';
import type { MovieRecord } from './movie';

/** One person's rating or like/dislike of one movie: exactly one of `rating` and `liked` is set. */
export interface RatingRecord {
  person: string;
  movieId: number;
  /** 0.5 to 5 stars in half steps, or null for a like/dislike. */
  rating: number | null;
  /** A like (true) or dislike (false), or null for a star rating. */
  liked: boolean | null;
  ratedAt: Date;
}

/** A rating with its movie (what `ratings(userId)` lists). */
export interface RatingWithMovie extends RatingRecord {
  movie: MovieRecord;
}

/** A person's likes and dislikes, as movie ids. */
export interface PersonTaste {
  liked: number[];
  disliked: number[];
}

/** A rating of at least this many stars counts as a like. */
export const LIKE_AT = 4;
/** A rating of at most this many stars counts as a dislike. */
export const DISLIKE_AT = 2;

/** Whether a rating or like/dislike counts as liked, disliked or neither (e.g. 3 stars). */
export function sentiment(r: { rating: number | null; liked: boolean | null }): 'liked' | 'disliked' | null {
  if (r.liked !== null) return r.liked ? 'liked' : 'disliked';
  if (r.rating === null) return null;
  if (r.rating >= LIKE_AT) return 'liked';
  if (r.rating <= DISLIKE_AT) return 'disliked';
  return null;
}

/** Whether `v` is a star rating the service stores: 0.5 to 5 in half steps. */
export const isValidRating = (v: number) => Number.isFinite(v) && v >= 0.5 && v <= 5 && Number.isInteger(v * 2);

export const MAX_PERSON_ID_LENGTH = 200;

/** Checks a person id from the outside: 1 to 200 characters, no control characters; returned trimmed. */
export function parsePersonId(id: string): string {
  const t = id.trim();
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
  if (!t.length || t.length > MAX_PERSON_ID_LENGTH || /[\u0000-\u001f\u007f]/.test(t)) {
    throw badInput('BAD_USER_ID', `a user id is 1 to ${MAX_PERSON_ID_LENGTH} characters without control characters (got ${JSON.stringify(id.slice(0, 40))})`);
  }
  return t;
}

/** Checks a rating input: exactly one of a star rating (0.5 to 5 in half steps) and a like/dislike. */
export function checkRatingInput(rating: number | null | undefined, like: boolean | null | undefined): { rating: number | null; liked: boolean | null } {
  const hasRating = rating !== null && rating !== undefined;
  const hasLike = like !== null && like !== undefined;
  if (hasRating === hasLike) throw badInput('RATING_OR_LIKE', 'give exactly one of rating (0.5 to 5 stars) and like (true or false)');
  if (hasRating && !isValidRating(rating)) throw badInput('BAD_RATING', `a rating is 0.5 to 5 stars in half steps (got ${rating})`);
  return hasRating ? { rating, liked: null } : { rating: null, liked: like! };
}
