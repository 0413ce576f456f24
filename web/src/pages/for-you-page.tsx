import { useState } from 'react';
import { Link } from 'wouter';
import { Because } from '../components/because';
import { GenreFilter } from '../components/filters';
import { MovieCard, MovieGrid } from '../components/movie-card';
import { PosterImage } from '../components/poster-image';
import { ErrorNotice, Loading } from '../components/status';
import { TasteButtons } from '../components/taste-buttons';
import type { Genre } from '../gql/graphql';
import { displayTitle } from '../lib/format';
import { useRecommendations } from '../taste/recommendations';
import { useTaste, type MovieRef } from '../taste/taste';

export function ForYouPage() {
  const { liked, disliked, clear } = useTaste();
  const [genres, setGenres] = useState<Genre[]>([]);
  const { result, reexecute, hasProfile } = useRecommendations(24, genres.length ? { genres } : undefined);

  return (
    <div className="for-you">
      <h1>For you</h1>
      <section aria-labelledby="profile-title" className="profile">
        <h2 id="profile-title">Your taste</h2>
        {!hasProfile && disliked.length === 0 ? (
          <p className="empty">
            Like a few movies (the ♥ under each poster) and recommendations appear here. <Link href="/">Browse posters</Link>
          </p>
        ) : (
          <>
            <ProfileList title="Liked" movies={liked} />
            <ProfileList title="Disliked" movies={disliked} />
            <button type="button" className="link-button" onClick={clear}>
              Forget my taste
            </button>
          </>
        )}
      </section>
      {hasProfile && (
        <section aria-labelledby="recs-title">
          <h2 id="recs-title">Recommendations</h2>
          <GenreFilter value={genres} onChange={setGenres} />
          {result.error ? (
            <ErrorNotice error={result.error} what="load recommendations" onRetry={() => reexecute({ requestPolicy: 'network-only' })} />
          ) : !result.data ? (
            <Loading what="recommendations" />
          ) : result.data.recommendations.length === 0 ? (
            <p className="empty">No recommendation matches.</p>
          ) : (
            <MovieGrid label="Recommended movies">
              {result.data.recommendations.map((r) => (
                <MovieCard key={r.movie.id} movie={r.movie}>
                  <span className="score">score {r.score.toFixed(2)}</span>
                  <Because movies={r.because} reason={r.reason} />
                </MovieCard>
              ))}
            </MovieGrid>
          )}
        </section>
      )}
    </div>
  );
}

function ProfileList({ title, movies }: { title: string; movies: MovieRef[] }) {
  if (movies.length === 0) return null;
  return (
    <div className="profile-list">
      <h3>
        {title} ({movies.length})
      </h3>
      <ul>
        {movies.map((m) => (
          <li key={m.id}>
            <Link href={`/movie/${m.id}`}>
              <PosterImage movie={m} className="poster-thumb" />
              <span>{displayTitle(m.title)}</span>
            </Link>
            <TasteButtons movie={m} compact />
          </li>
        ))}
      </ul>
    </div>
  );
}
