/**
 * Real ratings for tests: a small slice of ../shared/data/ratings (MovieLens ml-latest-small people),
 * cut at test time into a temporary directory and never committed.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { SAMPLE_CSV, SHARED } from './support';

export const RATINGS_DIR = path.join(SHARED, 'data/ratings');

export interface RatingLine {
  userId: string;
  movieId: string;
  rating: string;
  timestamp: string;
}

export interface RatingsSlice {
  dir: string;
  /** MovieLens format, with links.csv beside it. */
  ratings: string;
  links: string;
  /** The slice's lines of movies in the 400-poster sample, in file order. */
  known: Array<RatingLine & { imdbId: string }>;
  /** The slice's lines of movies outside the sample. */
  unknown: RatingLine[];
  /** Every data line of the slice, in file order. */
  lines: RatingLine[];
}

/** imdb id -> MovieLens movie id, and the sample's imdb ids. */
export function ratingsLinks(): { imdbByMovie: Map<string, string>; movieByImdb: Map<string, string>; sample: Set<string> } {
  const links = parse<Record<string, string>>(fs.readFileSync(path.join(RATINGS_DIR, 'links.csv'), 'utf8'), { columns: true });
  const imdbByMovie = new Map(links.map((l) => [l.movieId, `tt${l.imdbId}`]));
  const movieByImdb = new Map(links.map((l) => [`tt${l.imdbId}`, l.movieId]));
  const sample = new Set(parse<Record<string, string>>(fs.readFileSync(SAMPLE_CSV, 'utf8'), { columns: true }).map((r) => r.imdb_id));
  return { imdbByMovie, movieByImdb, sample };
}

/**
 * Every rating of a movie in the 400-poster sample (785 lines by 227 people), plus the first
 * `unknownLines` ratings of other movies (skipped as unknown), in the file's order, with links.csv.
 */
export function ratingsSlice(dir: string, unknownLines = 200): RatingsSlice {
  const { imdbByMovie, sample } = ratingsLinks();
  const all = parse<RatingLine>(fs.readFileSync(path.join(RATINGS_DIR, 'ratings.csv'), 'utf8'), { columns: true });
  const known: RatingsSlice['known'] = [];
  const unknown: RatingLine[] = [];
  const lines: RatingLine[] = [];
  for (const r of all) {
    const imdbId = imdbByMovie.get(r.movieId);
    if (imdbId && sample.has(imdbId)) {
      known.push({ ...r, imdbId });
      lines.push(r);
    } else if (unknown.length < unknownLines) {
      unknown.push(r);
      lines.push(r);
    }
  }
  const ratings = path.join(dir, 'ratings.csv');
  fs.writeFileSync(ratings, ['userId,movieId,rating,timestamp', ...lines.map((l) => `${l.userId},${l.movieId},${l.rating},${l.timestamp}`)].join('\n') + '\n');
  const links = path.join(dir, 'links.csv');
  fs.copyFileSync(path.join(RATINGS_DIR, 'links.csv'), links);
  return { dir, ratings, links, known, unknown, lines };
}
