import type { ReactNode } from 'react';
import { Link } from 'wouter';
import { graphql } from '../gql';
import type { MovieCardFragment } from '../gql/graphql';
import { displayTitle } from '../lib/format';
import { genreLabel } from '../lib/genres';
import { PosterImage } from './poster-image';
import { TasteButtons } from './taste-buttons';

export const MovieCardFields = graphql(`
  fragment MovieCard on Movie {
    id
    title
    year
    posterUrl
    genres
  }
`);

/** A poster tile: the poster and title link to the movie page; like/dislike below. */
export function MovieCard({ movie, eager, children }: { movie: MovieCardFragment; eager?: boolean; children?: ReactNode }) {
  return (
    <li className="card">
      <Link href={`/movie/${movie.id}`} className="card-link">
        <PosterImage movie={movie} eager={eager} />
        <span className="card-title">{displayTitle(movie.title)}</span>
        <span className="card-meta">
          {movie.year ?? '—'}
          {movie.genres.length > 0 && ' · ' + movie.genres.map(genreLabel).join(', ')}
        </span>
      </Link>
      {children}
      <TasteButtons movie={movie} compact />
    </li>
  );
}

export function MovieGrid({ children, label }: { children: ReactNode; label: string }) {
  return (
    <ul className="grid" aria-label={label}>
      {children}
    </ul>
  );
}
