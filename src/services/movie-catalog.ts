import type { MovieEntity } from '../db/entities';
import type { MovieFilterSpec, MovieRecord } from '../domain/movie';
import { GENRES } from '../ml/genre/labels';
import type { MovieRepository } from '../repositories/movie.repository';
import { toMovieRecord } from './entity-mappers';

interface Entry {
  movie: MovieRecord;
  labelMask: number;
  titleLower: string;
}

/** The year of a movie without one, in the year-by-id array. */
const NO_YEAR = -32768;

export const labelMask = (labels: readonly string[]) => labels.reduce((m, l) => m | (1 << GENRES.indexOf(l as never)), 0);

/**
 * An in-memory snapshot of every movie row (22k rows are ~15 MB). Similarity results and their
 * filters are served from it without a database round trip, which on the embedded database would
 * block the event loop. Kept in step by this process's writes and, for writes made by other processes
 * (another API replica, a worker, a CLI import), by their ChangeFeed notifications (SimilarityService.applyChange);
 * `refresh` reads the rows updated since the last look, after the feed's connection was lost.
 * Its records are shared and never changed in place (a change replaces the record).
 */
export class MovieCatalog {
  private readonly entries = new Map<number, Entry>();
  private readonly bySha = new Map<string, number>();
  /**
   * Label mask and year by movie id, in typed arrays: a filtered similarity search evaluates its filter
   * on every indexed movie, and this keeps that to a few nanoseconds each. Absent ids have flag 0.
   */
  private present = new Uint8Array(1024);
  private maskById = new Int32Array(1024);
  private yearById = new Int16Array(1024);
  private watermark = new Date(0);
  private changes = 0;

  constructor(private readonly repo: MovieRepository) {}

  get size(): number {
    return this.entries.size;
  }

  /** Grows with every movie put or deleted: whoever derives state from the catalogue knows when to redo it. */
  get version(): number {
    return this.changes;
  }

  /** Every movie (a snapshot: later changes replace records, they do not change these). */
  records(): MovieRecord[] {
    return [...this.entries.values()].map((e) => e.movie);
  }

  async load(): Promise<void> {
    await this.refresh();
  }

  /** Reads the rows changed since the last look, and drops the ones deleted meanwhile. */
  async refresh(): Promise<void> {
    const rows = await this.repo.changedSince(this.watermark);
    for (const r of rows) {
      this.put(r);
      if (r.updatedAt > this.watermark) this.watermark = r.updatedAt;
    }
    if ((await this.repo.count()) < this.entries.size) {
      // Another process deleted rows: drop what is gone.
      const live = new Set(await this.repo.allIds());
      for (const id of [...this.entries.keys()]) if (!live.has(id)) this.delete(id);
    }
  }

  get(id: number): MovieRecord | undefined {
    return this.entries.get(id)?.movie;
  }

  idForPoster(sha256: string): number | undefined {
    return this.bySha.get(sha256);
  }

  put(row: MovieEntity): void {
    const movie = toMovieRecord(row);
    const old = this.entries.get(movie.id);
    if (old?.movie.posterSha256) this.bySha.delete(old.movie.posterSha256);
    const mask = labelMask(movie.labels);
    this.entries.set(movie.id, { movie, labelMask: mask, titleLower: movie.title.toLowerCase() });
    this.setAttributes(movie.id, mask, movie.year);
    if (movie.posterSha256) this.bySha.set(movie.posterSha256, movie.id);
    this.changes++;
  }

  delete(id: number): void {
    const old = this.entries.get(id);
    if (old?.movie.posterSha256 && this.bySha.get(old.movie.posterSha256) === id) this.bySha.delete(old.movie.posterSha256);
    if (this.entries.delete(id)) this.changes++;
    if (id < this.present.length) this.present[id] = 0;
  }

  private setAttributes(id: number, mask: number, year: number | null): void {
    if (id >= this.present.length) {
      let cap = this.present.length;
      while (cap <= id) cap *= 2;
      const present = new Uint8Array(cap);
      present.set(this.present);
      const masks = new Int32Array(cap);
      masks.set(this.maskById);
      const years = new Int16Array(cap);
      years.set(this.yearById);
      this.present = present;
      this.maskById = masks;
      this.yearById = years;
    }
    this.present[id] = 1;
    this.maskById[id] = mask;
    this.yearById[id] = year === null ? NO_YEAR : year;
  }

  /** A predicate for a movie filter, or undefined when nothing is filtered. */
  filterFn(filter: MovieFilterSpec | undefined): ((id: number) => boolean) | undefined {
    const mask = filter?.labels?.length ? labelMask(filter.labels) : 0;
    const from = filter?.yearFrom;
    const to = filter?.yearTo;
    const search = filter?.search?.toLowerCase();
    if (!mask && from == null && to == null && !search) return undefined;
    if (search) {
      const entries = this.entries;
      return (id) => {
        const e = entries.get(id);
        if (!e) return false;
        if ((e.labelMask & mask) !== mask) return false;
        const year = e.movie.year;
        if (from != null && (year === null || year < from)) return false;
        if (to != null && (year === null || year > to)) return false;
        return e.titleLower.includes(search);
      };
    }
    // One predicate per distinct filter while the catalogue stands still: the similarity index keeps the
    // slots a predicate admitted, so a repeated filter is evaluated once, not on every request.
    if (this.predicatesVersion !== this.changes) {
      this.predicates.clear();
      this.predicatesVersion = this.changes;
    }
    const key = `${mask}/${from ?? ''}/${to ?? ''}`;
    let predicate = this.predicates.get(key);
    if (!predicate) {
      if (this.predicates.size >= 64) this.predicates.clear();
      predicate = this.typedPredicate(mask, from, to);
      this.predicates.set(key, predicate);
    }
    return predicate;
  }

  private readonly predicates = new Map<string, (id: number) => boolean>();
  private predicatesVersion = -1;

  private typedPredicate(mask: number, from: number | null | undefined, to: number | null | undefined): (id: number) => boolean {
    // Typed arrays only (the arrays of this moment: a later growth swaps them, and ids beyond them are absent).
    const { present, maskById, yearById } = this;
    const lo = from ?? NO_YEAR + 1;
    const hi = to ?? 32767;
    const yearsChecked = from != null || to != null;
    return (id) => {
      if (present[id] !== 1 || (maskById[id] & mask) !== mask) return false;
      if (!yearsChecked) return true;
      const y = yearById[id];
      return y !== NO_YEAR && y >= lo && y <= hi;
    };
  }

  labelMaskOf(id: number): number {
    return this.entries.get(id)?.labelMask ?? 0;
  }
}
