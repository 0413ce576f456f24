import { MovieEntity } from '../db/entities';
import { Genre } from '../schema/genre';
import { Movie } from '../schema/movie';

/** The public path where a stored poster is served (see http-server). */
export function posterPath(sha256: string | null, mime: string | null): string | null {
  if (!sha256 || !mime) return null;
  const ext = mime === 'image/jpeg' ? 'jpg' : mime.replace('image/', '');
  const base = (process.env.MARQUEE_PUBLIC_URL ?? '').replace(/\/$/, '');
  return `${base}/posters/${sha256}.${ext}`;
}

export function toMovie(e: MovieEntity): Movie {
  return Object.assign(new Movie(), {
    id: String(e.id),
    imdbId: e.imdbId,
    title: e.title,
    year: e.year,
    ageRating: e.ageRating,
    runtimeMinutes: e.runtimeMinutes,
    storyline: e.storyline,
    posterUrl: posterPath(e.posterSha256, e.posterMime),
    genres: e.labels as Genre[],
    rawGenres: e.rawGenres,
  });
}
