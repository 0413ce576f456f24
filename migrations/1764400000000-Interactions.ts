import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What people did (issue 9): one row per person and movie, either a star rating (0.5 to 5 in half
 * steps) or a like/dislike, with the time it was given. The person is an opaque id from the client.
 * `updated_at` lets a running server notice writes made by other processes (e.g. `marquee import-ratings`).
 */
export class Interactions1764400000000 implements MigrationInterface {
  name = 'Interactions1764400000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE interaction (
        person     text NOT NULL CHECK (length(person) BETWEEN 1 AND 200),
        movie_id   integer NOT NULL REFERENCES movie(id) ON DELETE CASCADE,
        rating     real CHECK (rating IS NULL OR (rating BETWEEN 0.5 AND 5 AND rating * 2 = round(rating * 2))),
        liked      boolean,
        rated_at   timestamptz NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT interaction_rating_or_like CHECK ((rating IS NULL) <> (liked IS NULL)),
        PRIMARY KEY (person, movie_id)
      )`);
    await q.query(`CREATE INDEX interaction_movie ON interaction (movie_id)`);
    await q.query(`CREATE INDEX interaction_updated_at ON interaction (updated_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE interaction`);
  }
}
