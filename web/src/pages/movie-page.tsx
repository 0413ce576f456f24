import { useMemo, useState } from 'react';
import { useMutation, useQuery } from 'urql';
import { Link, useLocation } from 'wouter';
import { useAdminKey } from '../admin/admin-key';
import { EvidencePanel } from '../components/evidence';
import { GenreFilter, YearRange, type YearRangeValue } from '../components/filters';
import { GenreBars } from '../components/genre-bars';
import { MovieCard, MovieGrid } from '../components/movie-card';
import { PosterImage } from '../components/poster-image';
import { ErrorNotice, Loading } from '../components/status';
import { TasteButtons } from '../components/taste-buttons';
import { graphql } from '../gql';
import type { Genre, MovieFilter } from '../gql/graphql';
import { displayTitle, percent } from '../lib/format';
import { genreLabel } from '../lib/genres';
import { useDebounced } from '../lib/use-debounced';

const MoviePageQuery = graphql(`
  query MoviePage($id: ID!) {
    movie(id: $id) {
      ...MovieCard
      imdbId
      ageRating
      runtimeMinutes
      storyline
      rawGenres
      predictedGenres {
        genre
        probability
        predicted
        threshold
      }
      genreEvidence(k: 10) {
        ...EvidenceFields
      }
    }
  }
`);

const SimilarPostersQuery = graphql(`
  query SimilarPosters($movieId: ID!, $k: Int, $filter: MovieFilter) {
    similarPosters(poster: { movieId: $movieId }, k: $k, filter: $filter) {
      score
      movie {
        ...MovieCard
      }
    }
  }
`);

const AlsoLikedQuery = graphql(`
  query AlsoLiked($id: ID!, $k: Int) {
    movie(id: $id) {
      id
      alsoLiked(k: $k) {
        score
        people
        movie {
          ...MovieCard
        }
      }
    }
  }
`);

const DeleteMovie = graphql(`
  mutation DeleteMovie($id: ID!) {
    deleteMovie(id: $id)
  }
`);

export function MoviePage({ id }: { id: string }) {
  const [result, reexecute] = useQuery({ query: MoviePageQuery, variables: { id } });
  const movie = result.data?.movie;
  const predicted = useMemo(() => new Set(movie?.predictedGenres.filter((g) => g.predicted).map((g) => g.genre)), [movie]);

  if (result.error) return <ErrorNotice error={result.error} what="load this movie" onRetry={() => reexecute({ requestPolicy: 'network-only' })} />;
  if (!result.data) return <Loading what="the movie" />;
  if (!movie) {
    return (
      <div className="not-found">
        <h1>No such movie</h1>
        <p>
          There is no movie with id {id}. <Link href="/">Back to the posters</Link>
        </p>
      </div>
    );
  }
  const title = displayTitle(movie.title);
  return (
    <article className="movie-page" aria-labelledby="movie-title">
      <div className="movie-head">
        <PosterImage movie={movie} eager className="poster poster-large" />
        <div className="movie-facts">
          <h1 id="movie-title">{title}</h1>
          <dl className="facts">
            <Fact term="Year" value={movie.year} />
            <Fact term="Genres" value={movie.genres.map(genreLabel).join(', ') || null} />
            <Fact term="Source genres" value={movie.rawGenres.join(', ') || null} />
            <Fact term="Age rating" value={movie.ageRating} />
            <Fact term="Runtime" value={movie.runtimeMinutes ? `${movie.runtimeMinutes} min` : null} />
            <Fact term="IMDb" value={movie.imdbId} />
          </dl>
          {movie.storyline && <p className="storyline">{movie.storyline}</p>}
          <TasteButtons movie={movie} />
          <AdminDelete id={movie.id} title={title} />
          <section aria-labelledby="predicted-title" className="predicted">
            <h2 id="predicted-title">Genres predicted from the poster</h2>
            {movie.predictedGenres.length === 0 ? (
              <p className="empty">No prediction yet: no genre model is active, or this poster has no embedding. An admin can train one.</p>
            ) : (
              <GenreBars scores={movie.predictedGenres} label={`Probability of each genre for ${title}`} />
            )}
          </section>
        </div>
      </div>
      <section aria-labelledby="evidence-title">
        <h2 id="evidence-title">Evidence: the nearest labelled posters</h2>
        {movie.genreEvidence ? (
          <EvidencePanel evidence={movie.genreEvidence} predicted={predicted} />
        ) : (
          <p className="empty">This poster has no embedding yet (npx marquee embed), so there is nothing to compare it with.</p>
        )}
      </section>
      <AlsoLiked movieId={movie.id} title={title} />
      <SimilarPosters movieId={movie.id} title={title} />
    </article>
  );
}

function Fact({ term, value }: { term: string; value: string | number | null | undefined }) {
  if (value == null || value === '') return null;
  return (
    <div>
      <dt>{term}</dt>
      <dd>{value}</dd>
    </div>
  );
}

/** People who liked this also liked: co-liked movies from the recommender (stored ratings). */
function AlsoLiked({ movieId, title }: { movieId: string; title: string }) {
  const [result, reexecute] = useQuery({ query: AlsoLikedQuery, variables: { id: movieId, k: 8 } });
  const list = result.data?.movie?.alsoLiked;
  return (
    <section aria-labelledby="also-liked-title" className="also-liked">
      <h2 id="also-liked-title">People who liked this also liked</h2>
      {result.error ? (
        <ErrorNotice error={result.error} what="load what its fans liked" onRetry={() => reexecute({ requestPolicy: 'network-only' })} />
      ) : !list ? (
        <Loading what="what its fans liked" />
      ) : list.length === 0 ? (
        <p className="empty">Nobody who liked it has liked another movie yet.</p>
      ) : (
        <MovieGrid label={`Movies liked by people who liked ${title}`}>
          {list.map((a) => (
            <MovieCard key={a.movie.id} movie={a.movie}>
              <span className="score">
                {a.people} {a.people === 1 ? 'person' : 'people'} liked both
              </span>
            </MovieCard>
          ))}
        </MovieGrid>
      )}
    </section>
  );
}

function SimilarPosters({ movieId, title }: { movieId: string; title: string }) {
  const [genres, setGenres] = useState<Genre[]>([]);
  const [years, setYears] = useState<YearRangeValue>({});
  const settledYears = useDebounced(years, 300);
  const filter: MovieFilter = {
    ...(genres.length ? { genres } : {}),
    ...(settledYears.from ? { yearFrom: settledYears.from } : {}),
    ...(settledYears.to ? { yearTo: settledYears.to } : {}),
  };
  const [result, reexecute] = useQuery({ query: SimilarPostersQuery, variables: { movieId, k: 12, filter } });
  return (
    <section aria-labelledby="similar-title" className="similar">
      <h2 id="similar-title">Posters like this one</h2>
      <div className="filters" role="group" aria-label="Filter similar posters">
        <YearRange value={years} onChange={setYears} />
        <GenreFilter value={genres} onChange={setGenres} />
      </div>
      {result.error ? (
        <ErrorNotice error={result.error} what="load similar posters" onRetry={() => reexecute({ requestPolicy: 'network-only' })} />
      ) : !result.data ? (
        <Loading what="similar posters" />
      ) : result.data.similarPosters.length === 0 ? (
        <p className="empty">No similar poster matches these filters.</p>
      ) : (
        <MovieGrid label={`Posters like ${title}`}>
          {result.data.similarPosters.map((s) => (
            <MovieCard key={s.movie.id} movie={s.movie}>
              <span className="score">similarity {percent(s.score)}</span>
            </MovieCard>
          ))}
        </MovieGrid>
      )}
    </section>
  );
}

function AdminDelete({ id, title }: { id: string; title: string }) {
  const { adminKey } = useAdminKey();
  const [state, deleteMovie] = useMutation(DeleteMovie);
  const [, navigate] = useLocation();
  if (!adminKey) return null;
  const onDelete = async () => {
    if (!window.confirm(`Delete “${title}” from the catalogue?`)) return;
    const r = await deleteMovie({ id }, { additionalTypenames: ['Movie', 'MovieConnection'] });
    if (!r.error) navigate('/');
  };
  return (
    <div className="admin-delete">
      <button type="button" className="danger" onClick={() => void onDelete()} disabled={state.fetching}>
        {state.fetching ? 'Deleting…' : 'Delete movie (admin)'}
      </button>
      {state.error && <ErrorNotice error={state.error} what="delete the movie" />}
    </div>
  );
}
