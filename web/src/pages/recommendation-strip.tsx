import { Link } from 'wouter';
import { Because } from '../components/because';
import { MovieCard } from '../components/movie-card';
import { ErrorNotice, Loading } from '../components/status';
import { useRecommendations } from '../taste/recommendations';

/** Above the grid, once something is liked: a live row of recommendations. */
export function RecommendationStrip() {
  const { result, reexecute, hasProfile } = useRecommendations(8);
  if (!hasProfile) return null;
  return (
    <section className="strip" aria-labelledby="strip-title">
      <h2 id="strip-title">
        Recommended for you <Link href="/for-you">see all</Link>
      </h2>
      {result.error ? (
        <ErrorNotice error={result.error} what="load recommendations" onRetry={() => reexecute({ requestPolicy: 'network-only' })} />
      ) : !result.data ? (
        <Loading what="recommendations" />
      ) : (
        <ul className="strip-list" aria-label="Recommended movies">
          {result.data.recommendations.map((r) => (
            <MovieCard key={r.movie.id} movie={r.movie}>
              <Because movies={r.because} reason={r.reason} />
            </MovieCard>
          ))}
        </ul>
      )}
    </section>
  );
}
