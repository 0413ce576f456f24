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

/** A recommended movie and the liked movies that led to it. */
export interface RecommendedMovie extends ScoredMovie {
  because: MovieRecord[];
}

/** IMDb title ids: "tt" and 5 to 10 digits. */
export const IMDB_ID = /^tt\d{5,10}$/;
