import type { DataSource } from 'typeorm';
import type { PosterTextLine } from '../db/entities/poster-text.entity';

export interface PosterToRead {
  movieId: number;
  posterSha256: string;
  posterMime: string;
}

/** All SQL about the text read from posters. */
export class PosterTextRepository {
  constructor(private readonly ds: DataSource) {}

  /** Movies with a poster whose text was never read, or was read from another poster or by other OCR settings. */
  async missing(engine: string, afterId: number, limit: number): Promise<PosterToRead[]> {
    return this.ds.query(
      `SELECT m.id AS "movieId", m.poster_sha256 AS "posterSha256", m.poster_mime AS "posterMime"
       FROM movie m LEFT JOIN poster_text t ON t.movie_id = m.id
       WHERE m.poster_sha256 IS NOT NULL AND (t.movie_id IS NULL OR t.poster_sha256 <> m.poster_sha256 OR t.engine <> $1) AND m.id > $2
       ORDER BY m.id LIMIT $3`,
      [engine, afterId, limit],
    );
  }

  async countMissing(engine: string): Promise<number> {
    const rows: Array<{ n: number }> = await this.ds.query(
      `SELECT count(*)::int AS n FROM movie m LEFT JOIN poster_text t ON t.movie_id = m.id
       WHERE m.poster_sha256 IS NOT NULL AND (t.movie_id IS NULL OR t.poster_sha256 <> m.poster_sha256 OR t.engine <> $1)`,
      [engine],
    );
    return rows[0].n;
  }

  async upsertMany(engine: string, rows: Array<{ movieId: number; posterSha256: string; text: string; lines: PosterTextLine[] }>): Promise<void> {
    if (!rows.length) return;
    await this.ds.query(
      `INSERT INTO poster_text (movie_id, poster_sha256, engine, text, lines)
       SELECT t.movie_id, t.sha, $1, t.text, t.lines::jsonb FROM unnest($2::int[], $3::text[], $4::text[], $5::text[]) AS t(movie_id, sha, text, lines)
       JOIN movie m ON m.id = t.movie_id
       ON CONFLICT (movie_id) DO UPDATE
         SET poster_sha256 = EXCLUDED.poster_sha256, engine = EXCLUDED.engine, text = EXCLUDED.text, lines = EXCLUDED.lines, created_at = now()`,
      [engine, rows.map((r) => r.movieId), rows.map((r) => r.posterSha256), rows.map((r) => r.text), rows.map((r) => JSON.stringify(r.lines))],
    );
  }

  /** The current text (read from the movie's current poster) of these movies; absent when none was read. */
  async texts(movieIds: readonly number[]): Promise<Map<number, string>> {
    if (!movieIds.length) return new Map();
    const rows: Array<{ movie_id: number; text: string }> = await this.ds.query(
      `SELECT t.movie_id, t.text FROM poster_text t JOIN movie m ON m.id = t.movie_id AND m.poster_sha256 = t.poster_sha256
       WHERE t.movie_id = ANY($1::int[])`,
      [movieIds],
    );
    return new Map(rows.map((r) => [r.movie_id, r.text]));
  }

  /** Every current text, by movie id (training). */
  async allTexts(): Promise<Map<number, string>> {
    const rows: Array<{ movie_id: number; text: string }> = await this.ds.query(
      `SELECT t.movie_id, t.text FROM poster_text t JOIN movie m ON m.id = t.movie_id AND m.poster_sha256 = t.poster_sha256`,
    );
    return new Map(rows.map((r) => [r.movie_id, r.text]));
  }

  async lines(movieId: number): Promise<PosterTextLine[] | null> {
    const rows: Array<{ lines: PosterTextLine[] }> = await this.ds.query(`SELECT lines FROM poster_text WHERE movie_id = $1`, [movieId]);
    return rows[0]?.lines ?? null;
  }
}
