/** A movie as the services hand it out: plain data, no database entity. */
export interface MovieRecord {
  id: number;
  imdbId: string | null;
  title: string;
  year: number | null;
  ageRating: string | null;
  runtimeMinutes: number | null;
  storyline: string | null;
  /** Content address of the stored poster (null when the movie has none). */
  posterSha256: string | null;
  posterMime: string | null;
  /** The poster's public file name, served at /posters/<posterFile> (null without a poster). */
  posterFile: string | null;
  rawGenres: string[];
  /** Genre labels (GENRES order) mapped from rawGenres. */
  labels: string[];
}

/** Filters combine with AND; `labels` matches movies having every listed label. */
export interface MovieFilterSpec {
  labels?: string[];
  yearFrom?: number;
  yearTo?: number;
  search?: string;
}

/** A movie found by poster similarity, with its cosine score. */
export interface ScoredMovie {
  movie: MovieRecord;
  score: number;
}

/**
 * Why a movie is recommended: people who liked the liked movies liked it (COLLABORATIVE), its poster
 * (and genres and year) resemble what the liked movies' fans like (POSTER), it shares their genres
 * (GENRE), or many people like it (POPULAR: what someone with no history gets).
 */
export type RecommendationReasonName = 'COLLABORATIVE' | 'POSTER' | 'POPULAR' | 'GENRE';

/** A recommended movie, the liked movies that led to it, and why. */
export interface RecommendedMovie extends ScoredMovie {
  because: MovieRecord[];
  reason: RecommendationReasonName;
}

/** A movie that people who liked another one also liked: co-like score and how many liked both. */
export interface AlsoLikedMovie extends ScoredMovie {
  people: number;
}

/** IMDb title ids: "tt" and 5 to 10 digits. */
export const IMDB_ID = /^tt\d{5,10}$/;
