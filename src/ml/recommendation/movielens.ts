/**
 * MovieLens's rating files as plain records: `ratings.csv` (userId,movieId,rating,timestamp) joined to
 * IMDb ids through `links.csv` (movieId,imdbId,tmdbId; imdbId without "tt"), which is how the catalogue
 * knows movies. Both files are plain comma lines without quoting, so a split is all the parsing needed.
 */
import fs from 'node:fs';

export interface MovieLensRating {
  user: string;
  /** "tt" + 7 or more digits, as the catalogue stores it */
  imdbId: string;
  rating: number;
  /** Unix seconds */
  timestamp: number;
}

export interface MovieLensRatings {
  ratings: MovieLensRating[];
  /** ratings whose movieId has no line in links.csv */
  unlinked: number;
  /** lines that are not a rating */
  malformed: number;
}

/** MovieLens movieId -> IMDb id ("tt0114709"). */
export function readLinks(file: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of lines(file).slice(1)) {
    const [movieId, imdb] = line.split(',');
    if (movieId && imdb && /^\d+$/.test(imdb.trim())) out.set(movieId.trim(), 'tt' + imdb.trim().padStart(7, '0'));
  }
  return out;
}

export function readMovieLensRatings(ratingsFile: string, linksFile: string): MovieLensRatings {
  const links = readLinks(linksFile);
  const ratings: MovieLensRating[] = [];
  let unlinked = 0;
  let malformed = 0;
  for (const line of lines(ratingsFile).slice(1)) {
    const [user, movieId, rating, timestamp] = line.split(',');
    const r = Number(rating);
    const t = Number(timestamp);
    if (!user || !movieId || !Number.isFinite(r) || !Number.isFinite(t)) {
      malformed++;
      continue;
    }
    const imdbId = links.get(movieId.trim());
    if (!imdbId) {
      unlinked++;
      continue;
    }
    ratings.push({ user: user.trim(), imdbId, rating: r, timestamp: t });
  }
  return { ratings, unlinked, malformed };
}

function lines(file: string): string[] {
  return fs
    .readFileSync(file, 'utf8')
    .split(/\r?\n/)
    .filter((l) => l.trim().length > 0);
}
