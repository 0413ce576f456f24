import { Link } from 'wouter';
import { displayTitle } from '../lib/format';

/** The API's RecommendationReason (issue 9), when the server reports one. */
export type RecommendationReason = 'COLLABORATIVE' | 'POSTER' | 'POPULAR' | 'GENRE';

const LEAD: Record<RecommendationReason, string> = {
  COLLABORATIVE: 'People who liked',
  POSTER: 'Its poster looks like',
  POPULAR: 'Popular',
  GENRE: 'In the genres of',
};

/**
 * "Because you liked …": why a movie is recommended (its reason, as `data-reason`) and the liked movies
 * that led to it, as links. A POPULAR pick has no liked movie behind it.
 */
export function Because({ movies, reason }: { movies: ReadonlyArray<{ id: string; title: string }>; reason?: RecommendationReason | null }) {
  if (reason === 'POPULAR' && movies.length === 0)
    return (
      <p className="because" data-reason="POPULAR">
        Popular with everyone
      </p>
    );
  if (movies.length === 0) return null;
  const lead = reason === 'COLLABORATIVE' ? `${LEAD.COLLABORATIVE}` : reason ? LEAD[reason] : 'Because you liked';
  return (
    <p className="because" data-reason={reason ?? undefined}>
      {lead}{' '}
      {movies.map((m, i) => (
        <span key={m.id}>
          {i > 0 && (i === movies.length - 1 ? ' and ' : ', ')}
          <Link href={`/movie/${m.id}`}>{displayTitle(m.title)}</Link>
        </span>
      ))}
      {reason === 'COLLABORATIVE' && ' also liked this'}
    </p>
  );
}
