import { MovieFilterSpec } from '../repositories/movie.repository';
import { MovieFilter } from '../schema/movie';

export function toFilterSpec(f: MovieFilter | undefined | null): MovieFilterSpec | undefined {
  if (!f) return undefined;
  return {
    labels: f.genres ?? undefined,
    yearFrom: f.yearFrom ?? undefined,
    yearTo: f.yearTo ?? undefined,
    search: f.search ?? undefined,
  };
}
