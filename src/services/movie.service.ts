import { MAX_ID, parseMovieId } from '../domain/ids';
import type { MovieFilterSpec, MovieRecord } from '../domain/movie';
import { badInput } from '../errors';
import type { MovieRepository } from '../repositories/movie.repository';
import { toMovieRecord } from './entity-mappers';

export interface MoviePage {
  totalCount: number;
  movies: MovieRecord[];
  hasNextPage: boolean;
}

export const MAX_PAGE = 100;

/** Opaque cursors: base64 of the movie id, so clients do not build them. */
export const encodeCursor = (id: number) => Buffer.from(`movie:${id}`).toString('base64url');
export function decodeCursor(cursor: string): number {
  const m = /^movie:(\d+)$/.exec(Buffer.from(cursor, 'base64url').toString());
  if (!m) throw badInput('BAD_CURSOR', 'malformed cursor');
  const id = Number(m[1]);
  if (id > MAX_ID) throw badInput('BAD_CURSOR', 'cursor out of range');
  return id;
}

/** Reading the movie table: pages with filters, single movies, counts. */
export class MovieService {
  constructor(private readonly repo: MovieRepository) {}

  async list(filter: MovieFilterSpec | undefined, first: number, after?: string): Promise<MoviePage> {
    if (!Number.isInteger(first) || first < 0 || first > MAX_PAGE) {
      throw badInput('BAD_PAGE_SIZE', `first must be between 0 and ${MAX_PAGE}`);
    }
    if (filter?.yearFrom != null && filter?.yearTo != null && filter.yearFrom > filter.yearTo) {
      throw badInput('BAD_FILTER', 'yearFrom is after yearTo');
    }
    const afterId = after ? decodeCursor(after) : 0;
    const [totalCount, rows] = await Promise.all([this.repo.count(filter), this.repo.page(filter, afterId, first + 1)]);
    return { totalCount, movies: rows.slice(0, first).map(toMovieRecord), hasNextPage: rows.length > first };
  }

  /** A movie by exactly one of its id and its IMDb id; null when there is none. */
  async get(id?: string, imdbId?: string): Promise<MovieRecord | null> {
    if ((id == null) === (imdbId == null)) throw badInput('BAD_ARGUMENTS', 'give exactly one of id and imdbId');
    const row = id != null ? await this.repo.findById(parseMovieId(id)) : await this.repo.findByImdbId(imdbId!);
    return row && toMovieRecord(row);
  }

  async count(filter?: MovieFilterSpec): Promise<number> {
    return this.repo.count(filter);
  }

  async genreCounts(): Promise<Array<{ label: string; count: number }>> {
    return this.repo.labelCounts();
  }
}
