import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The text read from each poster by OCR (issue 13): one row per movie, tied to the poster it was read
 * from (a changed poster makes it stale) and to the OCR engine and settings that read it.
 */
export class PosterText1764300000000 implements MigrationInterface {
  name = 'PosterText1764300000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE poster_text (
        movie_id      integer PRIMARY KEY REFERENCES movie(id) ON DELETE CASCADE,
        poster_sha256 text NOT NULL,
        engine        text NOT NULL,
        text          text NOT NULL,
        lines         jsonb NOT NULL,
        created_at    timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE poster_text`);
  }
}
