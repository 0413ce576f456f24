import { MovieEntity } from '../db/entities';
import { badInput, notFound } from '../errors';
import { MovieFilterSpec, MovieRepository } from '../repositories/movie.repository';

export interface MoviePage {
  totalCount: number;
  movies: MovieEntity[];
  hasNextPage: boolean;
}

export const MAX_PAGE = 100;

/** Opaque cursors: base64 of the movie id, so clients do not build them. */
export const encodeCursor = (id: number) => Buffer.from(`movie:${id}`).toString('base64url');
export function decodeCursor(cursor: string): number {
  const m = /^movie:(\d+)$/.exec(Buffer.from(cursor, 'base64url').toString());
  if (!m) throw badInput('BAD_CURSOR', 'malformed cursor');
  return Number(m[1]);
}

export function parseMovieId(id: string | number): number {
  const n = typeof id === 'number' ? id : Number(id);
  if (!Number.isSafeInteger(n) || n <= 0 || String(n) !== String(id).trim()) throw badInput('BAD_ID', `malformed movie id "${id}"`);
  return n;
}

export class MovieService {
  constructor(readonly repo: MovieRepository) {}

  async list(filter: MovieFilterSpec | undefined, first: number, after?: string): Promise<MoviePage> {
    if (!Number.isInteger(first) || first < 0 || first > MAX_PAGE) {
      throw badInput('BAD_PAGE_SIZE', `first must be between 0 and ${MAX_PAGE}`);
    }
    if (filter?.yearFrom != null && filter?.yearTo != null && filter.yearFrom > filter.yearTo) {
      throw badInput('BAD_FILTER', 'yearFrom is after yearTo');
    }
    const afterId = after ? decodeCursor(after) : 0;
    const [totalCount, rows] = await Promise.all([
      this.repo.count(filter),
      this.repo.page(filter, afterId, first + 1),
    ]);
    return { totalCount, movies: rows.slice(0, first), hasNextPage: rows.length > first };
  }

  async get(id?: string, imdbId?: string): Promise<MovieEntity | null> {
    if ((id == null) === (imdbId == null)) throw badInput('BAD_ARGUMENTS', 'give exactly one of id and imdbId');
    return id != null ? this.repo.findById(parseMovieId(id)) : this.repo.findByImdbId(imdbId!);
  }

  async require(id: string | number): Promise<MovieEntity> {
    const movie = await this.repo.findById(parseMovieId(id));
    if (!movie) throw notFound(`no movie with id ${id}`);
    return movie;
  }

  async genreCounts(): Promise<Array<{ label: string; count: number }>> {
    return this.repo.labelCounts();
  }
}

