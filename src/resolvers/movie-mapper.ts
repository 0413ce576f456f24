import { MovieEntity } from '../db/entities';
import { Genre } from '../schema/genre';
import { Movie } from '../schema/movie';

/** The public path where a stored poster is served (see http-server), under Config server.publicUrl. */
export function posterPath(sha256: string | null, mime: string | null, publicUrl: string): string | null {
  if (!sha256 || !mime) return null;
  const ext = mime === 'image/jpeg' ? 'jpg' : mime.replace('image/', '');
  return `${publicUrl}/posters/${sha256}.${ext}`;
}

// Rows from the in-memory catalog are shared and immutable, so their GraphQL view is built once.
const views = new WeakMap<MovieEntity, Movie>();

export function toMovie(e: MovieEntity, publicUrl: string): Movie {
  let view = views.get(e);
  if (!view) {
    view = buildMovie(e, publicUrl);
    views.set(e, view);
  }
  return view;
}

function buildMovie(e: MovieEntity, publicUrl: string): Movie {
  return Object.assign(new Movie(), {
    id: String(e.id),
    imdbId: e.imdbId,
    title: e.title,
    year: e.year,
    ageRating: e.ageRating,
    runtimeMinutes: e.runtimeMinutes,
    storyline: e.storyline,
    posterUrl: posterPath(e.posterSha256, e.posterMime, publicUrl),
    genres: e.labels as Genre[],
    rawGenres: e.rawGenres,
  });
}
