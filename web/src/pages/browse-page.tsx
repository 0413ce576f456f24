import { useEffect, useMemo, useRef, useState } from 'react';
import { useQuery } from 'urql';
import { useSearchParams } from 'wouter';
import { FirstRun } from '../components/first-run';
import { GenreFilter, YearRange, type YearRangeValue } from '../components/filters';
import { MovieCard, MovieGrid } from '../components/movie-card';
import { ErrorNotice, Loading } from '../components/status';
import { graphql } from '../gql';
import type { Genre, MovieFilter } from '../gql/graphql';
import { isGenre } from '../lib/genres';
import { useDebounced } from '../lib/use-debounced';
import { RecommendationStrip } from './recommendation-strip';

const PAGE_SIZE = 30;

const BrowseMovies = graphql(`
  query BrowseMovies($first: Int!, $after: String, $filter: MovieFilter) {
    movies(first: $first, after: $after, filter: $filter) {
      totalCount
      edges {
        cursor
        node {
          ...MovieCard
        }
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
`);

const GenreCounts = graphql(`
  query GenreCounts {
    genres {
      genre
      count
    }
  }
`);

/** The filter lives in the URL (?q=&genre=&from=&to=), so a filtered grid can be shared and reloaded. */
function useFilterParams() {
  const [params, setParams] = useSearchParams();
  const filter = useMemo((): { search: string; genres: Genre[]; years: YearRangeValue } => {
    const num = (k: string) => {
      const n = Number.parseInt(params.get(k) ?? '', 10);
      return Number.isFinite(n) ? n : undefined;
    };
    return {
      search: params.get('q') ?? '',
      genres: params.getAll('genre').filter(isGenre),
      years: { from: num('from'), to: num('to') },
    };
  }, [params]);
  const update = (next: Partial<typeof filter>) => {
    const f = { ...filter, ...next };
    const p = new URLSearchParams();
    if (f.search) p.set('q', f.search);
    for (const g of f.genres) p.append('genre', g);
    if (f.years.from) p.set('from', String(f.years.from));
    if (f.years.to) p.set('to', String(f.years.to));
    setParams(p, { replace: true });
  };
  return [filter, update] as const;
}

export function BrowsePage() {
  const [filter, update] = useFilterParams();
  const [search, setSearch] = useState(filter.search);
  const debouncedSearch = useDebounced(search, 250);
  useEffect(() => {
    if (debouncedSearch !== filter.search) update({ search: debouncedSearch });
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [debouncedSearch]);

  const apiFilter: MovieFilter = useMemo(
    () => ({
      ...(filter.search.trim() ? { search: filter.search.trim() } : {}),
      ...(filter.genres.length ? { genres: filter.genres } : {}),
      ...(filter.years.from ? { yearFrom: filter.years.from } : {}),
      ...(filter.years.to ? { yearTo: filter.years.to } : {}),
    }),
    [filter],
  );
  const filtered = Object.keys(apiFilter).length > 0;
  // The chips' counts wait for the first page (the same operation as ResultPage's, so urql sends it once):
  // the posters are what the page is for, and the counts' aggregate would compete with them.
  const [firstPage] = useQuery({ query: BrowseMovies, variables: { first: PAGE_SIZE, after: null, filter: apiFilter } });
  const [counts] = useQuery({ query: GenreCounts, pause: !firstPage.data && !firstPage.error });
  const countMap = useMemo(() => new Map(counts.data?.genres.map((g) => [g.genre, g.count])), [counts.data]);

  return (
    <div className="browse">
      <h1 className="visually-hidden">Browse posters</h1>
      <RecommendationStrip />
      <form className="filters" role="search" aria-label="Filter posters" onSubmit={(e) => e.preventDefault()}>
        <label className="search">
          <span>Search titles</span>
          <input type="search" value={search} placeholder="e.g. love" onChange={(e) => setSearch(e.currentTarget.value)} />
        </label>
        <YearRange value={filter.years} onChange={(years) => update({ years })} />
        <GenreFilter value={filter.genres} onChange={(genres) => update({ genres })} counts={countMap} />
      </form>
      {/* A new filter starts a new list of pages. */}
      <ResultPages key={JSON.stringify(apiFilter)} filter={apiFilter} filtered={filtered} />
    </div>
  );
}

function ResultPages({ filter, filtered }: { filter: MovieFilter; filtered: boolean }) {
  const [cursors, setCursors] = useState<Array<string | null>>([null]);
  return (
    <>
      {cursors.map((after, i) => (
        <ResultPage
          key={after ?? 'first'}
          index={i}
          after={after}
          filter={filter}
          filtered={filtered}
          isLast={i === cursors.length - 1}
          onLoadMore={(cursor) => setCursors((cs) => (cs.includes(cursor) ? cs : [...cs, cursor]))}
        />
      ))}
    </>
  );
}

function ResultPage(props: {
  index: number;
  after: string | null;
  filter: MovieFilter;
  filtered: boolean;
  isLast: boolean;
  onLoadMore: (cursor: string) => void;
}) {
  const { index, after, filter, filtered, isLast, onLoadMore } = props;
  const [result, reexecute] = useQuery({ query: BrowseMovies, variables: { first: PAGE_SIZE, after, filter } });
  const movies = result.data?.movies;

  if (result.error) return <ErrorNotice error={result.error} what="load posters" onRetry={() => reexecute({ requestPolicy: 'network-only' })} />;
  if (!movies) return <Loading what="posters" />;
  if (index === 0 && movies.totalCount === 0) {
    return filtered ? <p className="empty">No movie matches these filters.</p> : <FirstRun />;
  }
  return (
    <>
      {index === 0 && (
        <p className="result-count" role="status">
          {movies.totalCount.toLocaleString('en')} {movies.totalCount === 1 ? 'movie' : 'movies'}
        </p>
      )}
      <MovieGrid label={`Posters, page ${index + 1}`}>
        {movies.edges.map((e, i) => (
          <MovieCard key={e.node.id} movie={e.node} eager={index === 0 && i < 12} />
        ))}
      </MovieGrid>
      {isLast && movies.pageInfo.hasNextPage && movies.pageInfo.endCursor && <LoadMore onLoadMore={() => onLoadMore(movies.pageInfo.endCursor as string)} />}
    </>
  );
}

/** A real button (keyboard, screen readers) that also presses itself when scrolled into view. */
function LoadMore({ onLoadMore }: { onLoadMore: () => void }) {
  const ref = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    const el = ref.current;
    if (!el || typeof IntersectionObserver === 'undefined') return;
    const io = new IntersectionObserver((entries) => entries.some((e) => e.isIntersecting) && onLoadMore(), { rootMargin: '400px' });
    io.observe(el);
    return () => io.disconnect();
  }, [onLoadMore]);
  return (
    <div className="load-more">
      <button ref={ref} type="button" onClick={onLoadMore}>
        More posters
      </button>
    </div>
  );
}
