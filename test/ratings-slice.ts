/**
 * A small real slice of the shared ratings joined to the poster catalogue, for the recommender's unit
 * tests: the catalogue rows of ../shared/data/posters/movies.csv (movie id = row number), and the
 * likes and dislikes of the first `people` people of ../shared/data/ratings, read at run time.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { SHARED } from './support';
import { readMovieLensRatings, MovieLensRating } from '../src/ml/recommendation/movielens';
import type { CatalogItem, PersonLikes } from '../src/ml/recommendation/taste-model';

export const RATINGS_DIR = path.join(SHARED, 'data/ratings');

export interface RatingsSlice {
  catalog: CatalogItem[];
  people: PersonLikes[];
  /** the slice's ratings of catalogue movies, with our movie ids */
  ratings: Array<MovieLensRating & { movieId: number }>;
}

let catalogCache: { catalog: CatalogItem[]; byImdb: Map<string, number> } | null = null;

export function posterCatalog(): { catalog: CatalogItem[]; byImdb: Map<string, number> } {
  if (catalogCache) return catalogCache;
  const rows = parse<Record<string, string>>(fs.readFileSync(path.join(SHARED, 'data/posters/movies.csv')), { columns: true, bom: true });
  const byImdb = new Map<string, number>();
  const catalog = rows.map((r, i) => {
    byImdb.set(r.imdb_id, i + 1);
    return { movieId: i + 1, genres: r.genre ? r.genre.split('|') : [], year: r.year ? Number(r.year) : null, embedding: null };
  });
  catalogCache = { catalog, byImdb };
  return catalogCache;
}

export function ratingsSlice(people: number): RatingsSlice {
  const { catalog, byImdb } = posterCatalog();
  const all = readMovieLensRatings(path.join(RATINGS_DIR, 'ratings.csv'), path.join(RATINGS_DIR, 'links.csv')).ratings;
  const users = [...new Set(all.map((r) => r.user))].slice(0, people);
  const keep = new Set(users);
  const ratings = all.flatMap((r) => {
    const movieId = byImdb.get(r.imdbId);
    return keep.has(r.user) && movieId !== undefined ? [{ ...r, movieId }] : [];
  });
  const persons = users.map((person) => ({
    person,
    liked: ratings.filter((r) => r.user === person && r.rating >= 4).map((r) => r.movieId),
    disliked: ratings.filter((r) => r.user === person && r.rating <= 2).map((r) => r.movieId),
  }));
  return { catalog, people: persons, ratings };
}
