import { DataSource, EntityManager } from 'typeorm';
import type { MovieEntity } from '../db/entities';
import type { MovieFilterSpec } from '../domain/movie';

/** A movie's descriptive fields, as parsed from a CSV row or an admin's input. */
export interface MovieFields {
  imdbId: string | null;
  title: string;
  year: number | null;
  ageRating: string | null;
  runtimeMinutes: number | null;
  storyline: string | null;
  rawGenres: string[];
  labels: string[];
}

export interface MovieWrite extends MovieFields {
  posterSha256: string | null;
  posterMime: string | null;
  posterSource: string | null;
}

export type UpsertOutcome = 'inserted' | 'updated' | 'unchanged';

const COLUMNS = `id, imdb_id AS "imdbId", title, year, age_rating AS "ageRating", runtime_minutes AS "runtimeMinutes",
  storyline, poster_sha256 AS "posterSha256", poster_mime AS "posterMime", poster_source AS "posterSource",
  raw_genres AS "rawGenres", labels, created_at AS "createdAt", updated_at AS "updatedAt"`;

const WRITE_COLUMNS = `imdb_id, title, year, age_rating, runtime_minutes, storyline, raw_genres, labels, poster_sha256, poster_mime, poster_source`;
const CHANGED = `(movie.title, movie.year, movie.age_rating, movie.runtime_minutes, movie.storyline, movie.raw_genres,
  movie.labels, movie.poster_sha256, movie.poster_mime, movie.poster_source)
  IS DISTINCT FROM (EXCLUDED.title, EXCLUDED.year, EXCLUDED.age_rating, EXCLUDED.runtime_minutes, EXCLUDED.storyline,
  EXCLUDED.raw_genres, EXCLUDED.labels, EXCLUDED.poster_sha256, EXCLUDED.poster_mime, EXCLUDED.poster_source)`;
const SET = `title = EXCLUDED.title, year = EXCLUDED.year, age_rating = EXCLUDED.age_rating,
  runtime_minutes = EXCLUDED.runtime_minutes, storyline = EXCLUDED.storyline, raw_genres = EXCLUDED.raw_genres,
  labels = EXCLUDED.labels, poster_sha256 = EXCLUDED.poster_sha256, poster_mime = EXCLUDED.poster_mime,
  poster_source = EXCLUDED.poster_source, updated_at = now()`;

/** Builds a WHERE clause for a movie filter; `params` is appended to. */
export function movieWhere(filter: MovieFilterSpec | undefined, params: unknown[], alias = 'movie'): string {
  const parts: string[] = [];
  if (filter?.labels?.length) {
    params.push(filter.labels);
    parts.push(`${alias}.labels @> $${params.length}::text[]`);
  }
  if (filter?.yearFrom !== undefined && filter.yearFrom !== null) {
    params.push(filter.yearFrom);
    parts.push(`${alias}.year >= $${params.length}`);
  }
  if (filter?.yearTo !== undefined && filter.yearTo !== null) {
    params.push(filter.yearTo);
    parts.push(`${alias}.year <= $${params.length}`);
  }
  if (filter?.search) {
    params.push(`%${filter.search.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
    parts.push(`lower(${alias}.title) LIKE $${params.length}`);
  }
  return parts.length ? `WHERE ${parts.join(' AND ')}` : '';
}

/** All SQL about movies. */
export class MovieRepository {
  constructor(private readonly ds: DataSource) {}

  async findById(id: number): Promise<MovieEntity | null> {
    const rows = await this.ds.query<MovieEntity[]>(`SELECT ${COLUMNS} FROM movie WHERE id = $1`, [id]);
    return rows[0] ?? null;
  }

  async findByImdbId(imdbId: string): Promise<MovieEntity | null> {
    const rows = await this.ds.query<MovieEntity[]>(`SELECT ${COLUMNS} FROM movie WHERE imdb_id = $1`, [imdbId]);
    return rows[0] ?? null;
  }

  async findByIds(ids: readonly number[]): Promise<MovieEntity[]> {
    if (!ids.length) return [];
    return this.ds.query<MovieEntity[]>(`SELECT ${COLUMNS} FROM movie WHERE id = ANY($1::int[])`, [ids]);
  }

  /** Keyset page ordered by id: rows with id > afterId, `limit` of them. */
  async page(filter: MovieFilterSpec | undefined, afterId: number, limit: number): Promise<MovieEntity[]> {
    const params: unknown[] = [];
    let where = movieWhere(filter, params);
    params.push(afterId);
    where = where ? `${where} AND movie.id > $${params.length}` : `WHERE movie.id > $${params.length}`;
    params.push(limit);
    return this.ds.query<MovieEntity[]>(`SELECT ${COLUMNS} FROM movie ${where} ORDER BY movie.id LIMIT $${params.length}`, params);
  }

  /** Rows created or changed after `since` (the in-memory catalog's refresh). */
  async changedSince(since: Date): Promise<MovieEntity[]> {
    return this.ds.query<MovieEntity[]>(`SELECT ${COLUMNS} FROM movie WHERE updated_at > $1`, [since]);
  }

  async labelsById(): Promise<Map<number, string[]>> {
    const rows = await this.ds.query<Array<{ id: number; labels: string[] }>>(`SELECT id, labels FROM movie`);
    return new Map(rows.map((r) => [r.id, r.labels]));
  }

  /** Release year by movie id (movies without a year are absent). */
  async yearsById(): Promise<Map<number, number>> {
    const rows: Array<{ id: number; year: number }> = await this.ds.query(`SELECT id, year FROM movie WHERE year IS NOT NULL`);
    return new Map(rows.map((r) => [r.id, r.year]));
  }

  /** Movie id by IMDb id, for every movie that has one (importing ratings). */
  async idsByImdbId(): Promise<Map<string, number>> {
    const rows = await this.ds.query<Array<{ id: number; imdb_id: string }>>(`SELECT id, imdb_id FROM movie WHERE imdb_id IS NOT NULL`);
    return new Map(rows.map((r) => [r.imdb_id, r.id]));
  }

  async allIds(): Promise<number[]> {
    return (await this.ds.query<Array<{ id: number }>>(`SELECT id FROM movie`)).map((r) => r.id);
  }

  async count(filter?: MovieFilterSpec): Promise<number> {
    const params: unknown[] = [];
    const rows = await this.ds.query<Array<{ n: number }>>(`SELECT count(*)::int AS n FROM movie ${movieWhere(filter, params)}`, params);
    return rows[0].n;
  }

  async labelCounts(): Promise<Array<{ label: string; count: number }>> {
    return this.ds.query<Array<{ label: string; count: number }>>(
      `SELECT l AS label, count(*)::int AS count FROM movie, unnest(labels) AS l GROUP BY l ORDER BY count DESC, l`,
    );
  }

  /**
   * Upserts a batch in one statement per identity kind: by imdb_id when known, else by title + year.
   * A row whose values are all equal is left untouched, so a re-import changes nothing.
   */
  async upsertMany(rows: MovieWrite[], em: EntityManager = this.ds.manager): Promise<Array<{ id: number; outcome: UpsertOutcome }>> {
    const results = new Array<{ id: number; outcome: UpsertOutcome }>(rows.length);
    const withImdb = rows.map((r, i) => [r, i] as const).filter(([r]) => r.imdbId);
    const withoutImdb = rows.map((r, i) => [r, i] as const).filter(([r]) => !r.imdbId);
    const run = async (batch: ReadonlyArray<readonly [MovieWrite, number]>, conflict: string, key: (r: MovieWrite) => string) => {
      if (!batch.length) return;
      const params = [
        batch.map(([r]) => r.imdbId),
        batch.map(([r]) => r.title),
        batch.map(([r]) => r.year),
        batch.map(([r]) => r.ageRating),
        batch.map(([r]) => r.runtimeMinutes),
        batch.map(([r]) => r.storyline),
        batch.map(([r]) => JSON.stringify(r.rawGenres)),
        batch.map(([r]) => JSON.stringify(r.labels)),
        batch.map(([r]) => r.posterSha256),
        batch.map(([r]) => r.posterMime),
        batch.map(([r]) => r.posterSource),
      ];
      const inserted = await em.query<Array<{ id: number; imdb_id: string | null; title: string; year: number | null; inserted: boolean }>>(
        `INSERT INTO movie (${WRITE_COLUMNS})
         SELECT imdb_id, title, year, age_rating, runtime_minutes, storyline,
           ARRAY(SELECT jsonb_array_elements_text(raw::jsonb)), ARRAY(SELECT jsonb_array_elements_text(lab::jsonb)),
           poster_sha256, poster_mime, poster_source
         FROM unnest($1::text[], $2::text[], $3::int[], $4::text[], $5::int[], $6::text[], $7::text[], $8::text[],
                     $9::text[], $10::text[], $11::text[])
           AS t(imdb_id, title, year, age_rating, runtime_minutes, storyline, raw, lab, poster_sha256, poster_mime, poster_source)
         ON CONFLICT ${conflict} DO UPDATE SET ${SET} WHERE ${CHANGED}
         RETURNING id, imdb_id, title, year, (xmax = 0) AS inserted`,
        params,
      );
      const byKey = new Map(inserted.map((r) => [key({ imdbId: r.imdb_id, title: r.title, year: r.year } as MovieWrite), r]));
      const untouched: Array<readonly [MovieWrite, number]> = [];
      for (const [r, i] of batch) {
        const hit = byKey.get(key(r));
        if (hit) results[i] = { id: hit.id, outcome: hit.inserted ? 'inserted' : 'updated' };
        else untouched.push([r, i]);
      }
      if (!untouched.length) return;
      // Rows the upsert skipped as unchanged return nothing: look their ids up in one query.
      const found = await em.query<Array<{ id: number; imdb_id: string | null; title: string; year: number | null }>>(
        `SELECT m.id, m.imdb_id, m.title, m.year FROM movie m
         JOIN unnest($1::text[], $2::text[], $3::int[]) AS t(imdb_id, title, year)
           ON (t.imdb_id IS NOT NULL AND m.imdb_id = t.imdb_id)
           OR (t.imdb_id IS NULL AND m.imdb_id IS NULL AND lower(m.title) = lower(t.title) AND coalesce(m.year, -1) = coalesce(t.year, -1))`,
        [untouched.map(([r]) => r.imdbId), untouched.map(([r]) => r.title), untouched.map(([r]) => r.year)],
      );
      const foundByKey = new Map(found.map((r) => [key({ imdbId: r.imdb_id, title: r.title, year: r.year } as MovieWrite), r.id]));
      for (const [r, i] of untouched) results[i] = { id: foundByKey.get(key(r))!, outcome: 'unchanged' };
    };
    await run(withImdb, '(imdb_id)', (r) => r.imdbId!);
    await run(withoutImdb, `(lower(title), coalesce(year, -1)) WHERE imdb_id IS NULL`, (r) => `${r.title.toLowerCase()}\u0000${r.year ?? -1}`);
    return results;
  }

  async insertOne(row: MovieWrite): Promise<MovieEntity> {
    const [result] = await this.upsertMany([row]);
    return (await this.findById(result.id))!;
  }

  /**
   * Inserts a new movie, or nothing when one with the same identity exists (the imdb_id unique
   * index, or title + year for movies without one): null then. The unique indexes decide, so
   * concurrent calls with one identity insert exactly one row.
   */
  async insertNew(row: MovieWrite): Promise<MovieEntity | null> {
    const rows = await this.ds.query<MovieEntity[]>(
      `INSERT INTO movie (${WRITE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7::text[], $8::text[], $9, $10, $11)
       ON CONFLICT DO NOTHING RETURNING ${COLUMNS}`,
      [
        row.imdbId,
        row.title,
        row.year,
        row.ageRating,
        row.runtimeMinutes,
        row.storyline,
        row.rawGenres,
        row.labels,
        row.posterSha256,
        row.posterMime,
        row.posterSource,
      ],
    );
    return rows[0] ?? null;
  }

  async delete(id: number): Promise<boolean> {
    // A CTE makes this a SELECT: TypeORM returns [rows, affected] for a bare DELETE.
    const rows = await this.ds.query<Array<{ n: number }>>(`WITH d AS (DELETE FROM movie WHERE id = $1 RETURNING id) SELECT count(*)::int AS n FROM d`, [id]);
    return rows[0].n > 0;
  }
}
