import { Link } from 'wouter';
import { displayTitle } from '../lib/format';

/** "Because you liked …": the liked movies that led to a recommendation, as links. */
export function Because({ movies }: { movies: ReadonlyArray<{ id: string; title: string }> }) {
  if (movies.length === 0) return null;
  return (
    <p className="because">
      Because you liked{' '}
      {movies.map((m, i) => (
        <span key={m.id}>
          {i > 0 && (i === movies.length - 1 ? ' and ' : ', ')}
          <Link href={`/movie/${m.id}`}>{displayTitle(m.title)}</Link>
        </span>
      ))}
    </p>
  );
}
