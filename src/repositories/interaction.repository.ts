import type { DataSource, EntityManager } from 'typeorm';
import type { InteractionEntity } from '../db/entities';

/** A rating or like/dislike to store, as an import line gives it. */
export interface InteractionWrite {
  person: string;
  movieId: number;
  rating: number | null;
  liked: boolean | null;
  /** When it was given; null when the source has no time (the import's time is stored). */
  ratedAt: Date | null;
}

export interface InteractionUpsertCounts {
  inserted: number;
  updated: number;
  unchanged: number;
  /** Of the unchanged: lines older than the stored rating of the same person and movie (which is kept). */
  older: number;
}

/** The fields of a stored interaction, for fitting and for a person's taste. */
export interface InteractionRow {
  person: string;
  movieId: number;
  rating: number | null;
  liked: boolean | null;
  ratedAt: Date;
}

const COLUMNS = `person, movie_id AS "movieId", rating, liked, rated_at AS "ratedAt", updated_at AS "updatedAt"`;

/** All SQL about interactions (ratings and likes). */
export class InteractionRepository {
  constructor(private readonly ds: DataSource) {}

  /**
   * Upserts a batch (at most one row per person and movie). A line with a time replaces the stored row
   * only when it is newer (or as new, with other values), so an older line never overwrites a newer
   * rating; a line without a time replaces it only when its values differ. A row left as it was counts
   * as unchanged.
   */
  async upsertMany(rows: InteractionWrite[], em: EntityManager = this.ds.manager): Promise<InteractionUpsertCounts> {
    if (!rows.length) return { inserted: 0, updated: 0, unchanged: 0, older: 0 };
    // One statement: the stored rows are read once (primary key), and only the lines that change
    // something reach the INSERT, so a re-run writes nothing.
    const [r] = await em.query<Array<{ inserted: number; updated: number; older: number }>>(
      `WITH t AS (
         SELECT * FROM unnest($1::text[], $2::int[], $3::real[], $4::boolean[], $5::timestamptz[]) AS t(person, movie_id, rating, liked, rated_at)
       ), c AS (
         SELECT t.person, t.movie_id, t.rating, t.liked, coalesce(t.rated_at, now()) AS rated_at, t.rated_at IS NULL AS untimed,
                i.person IS NOT NULL AS stored, i.rated_at AS stored_at,
                (i.rating, i.liked) IS DISTINCT FROM (t.rating, t.liked) AS differs
         FROM t LEFT JOIN interaction i ON i.person = t.person AND i.movie_id = t.movie_id
       ), w AS (
         INSERT INTO interaction AS i (person, movie_id, rating, liked, rated_at)
         SELECT person, movie_id, rating, liked, rated_at FROM c
         WHERE NOT stored
            OR (untimed AND differs)
            OR (NOT untimed AND (rated_at > stored_at OR (rated_at = stored_at AND differs)))
         ON CONFLICT (person, movie_id) DO UPDATE
           SET rating = EXCLUDED.rating, liked = EXCLUDED.liked, rated_at = EXCLUDED.rated_at, updated_at = now()
           WHERE EXCLUDED.rated_at >= i.rated_at -- a rating written meanwhile that is newer stays
         RETURNING (xmax = 0) AS inserted
       )
       SELECT (SELECT count(*) FILTER (WHERE inserted) FROM w)::int AS inserted,
              (SELECT count(*) FILTER (WHERE NOT inserted) FROM w)::int AS updated,
              (SELECT count(*) FROM c WHERE stored AND NOT untimed AND stored_at > rated_at)::int AS older`,
      [
        rows.map((x) => x.person),
        rows.map((x) => x.movieId),
        rows.map((x) => x.rating),
        rows.map((x) => x.liked),
        rows.map((x) => x.ratedAt?.toISOString() ?? null),
      ],
    );
    return { inserted: r.inserted, updated: r.updated, unchanged: rows.length - r.inserted - r.updated, older: r.older };
  }

  /** Stores a person's rating or like/dislike of a movie, given now: it replaces any earlier one. */
  async set(person: string, movieId: number, rating: number | null, liked: boolean | null): Promise<InteractionEntity> {
    const rows = await this.ds.query<InteractionEntity[]>(
      `INSERT INTO interaction AS i (person, movie_id, rating, liked, rated_at) VALUES ($1, $2, $3, $4, now())
       ON CONFLICT (person, movie_id) DO UPDATE
         SET rating = EXCLUDED.rating, liked = EXCLUDED.liked, rated_at = greatest(EXCLUDED.rated_at, i.rated_at), updated_at = now()
       RETURNING ${COLUMNS}`,
      [person, movieId, rating, liked],
    );
    return rows[0];
  }

  async remove(person: string, movieId: number): Promise<boolean> {
    // A CTE makes this a SELECT: TypeORM returns [rows, affected] for a bare DELETE.
    const rows = await this.ds.query<Array<{ n: number }>>(
      `WITH d AS (DELETE FROM interaction WHERE person = $1 AND movie_id = $2 RETURNING 1) SELECT count(*)::int AS n FROM d`,
      [person, movieId],
    );
    return rows[0].n > 0;
  }

  /** A person's interactions, newest first. */
  async byPerson(person: string, limit?: number): Promise<InteractionEntity[]> {
    return this.ds.query<InteractionEntity[]>(
      `SELECT ${COLUMNS} FROM interaction WHERE person = $1 ORDER BY rated_at DESC, movie_id ${limit ? 'LIMIT $2' : ''}`,
      limit ? [person, limit] : [person],
    );
  }

  /** Every interaction (fitting the recommender): person, movie, rating or like, time. */
  /** Every interaction, each person's in the order they were made (the taste model learns from people's first likes). */
  async all(): Promise<InteractionRow[]> {
    return this.ds.query<InteractionRow[]>(
      `SELECT person, movie_id AS "movieId", rating, liked, rated_at AS "ratedAt" FROM interaction ORDER BY person, rated_at, movie_id`,
    );
  }

  /** Changes when any interaction is written or removed (count and latest write): a cheap "did anything change". */
  async stamp(): Promise<string> {
    const rows = await this.ds.query<Array<{ n: number; t: Date | null }>>(`SELECT count(*)::int AS n, max(updated_at) AS t FROM interaction`);
    return `${rows[0].n}:${rows[0].t?.toISOString() ?? ''}`;
  }

  async count(): Promise<number> {
    const rows = await this.ds.query<Array<{ n: number }>>(`SELECT count(*)::int AS n FROM interaction`);
    return rows[0].n;
  }
}
