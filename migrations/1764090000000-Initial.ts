import { MigrationInterface, QueryRunner } from 'typeorm';

/** Schema v1: movies, poster embeddings (pgvector), model versions, predictions, training jobs, API keys. */
export class Initial1764090000000 implements MigrationInterface {
  name = 'Initial1764090000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE EXTENSION IF NOT EXISTS vector`);
    await q.query(`CREATE EXTENSION IF NOT EXISTS pg_trgm`);
    await q.query(`
      CREATE TABLE movie (
        id              serial PRIMARY KEY,
        imdb_id         text UNIQUE,
        title           text NOT NULL,
        year            integer,
        age_rating      text,
        runtime_minutes integer,
        storyline       text,
        poster_sha256   text,
        poster_mime     text,
        poster_source   text,
        raw_genres      text[] NOT NULL DEFAULT '{}',
        labels          text[] NOT NULL DEFAULT '{}',
        created_at      timestamptz NOT NULL DEFAULT now(),
        updated_at      timestamptz NOT NULL DEFAULT now()
      )`);
    // Movies without an IMDb id are identified by title + year (import idempotence).
    await q.query(`CREATE UNIQUE INDEX movie_title_year_no_imdb ON movie (lower(title), coalesce(year, -1)) WHERE imdb_id IS NULL`);
    await q.query(`CREATE INDEX movie_labels_gin ON movie USING gin (labels)`);
    await q.query(`CREATE INDEX movie_year ON movie (year)`);
    await q.query(`CREATE INDEX movie_title_trgm ON movie USING gin (lower(title) gin_trgm_ops)`);

    await q.query(`
      CREATE TABLE poster_embedding (
        movie_id   integer NOT NULL REFERENCES movie(id) ON DELETE CASCADE,
        backbone   text NOT NULL,
        poster_sha256 text NOT NULL,
        embedding  vector NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (backbone, movie_id)
      )`);

    await q.query(`
      CREATE TABLE model_version (
        id          serial PRIMARY KEY,
        name        text NOT NULL UNIQUE,
        backbone    text NOT NULL,
        model_kind  text NOT NULL,
        active      boolean NOT NULL DEFAULT false,
        artifact    jsonb NOT NULL,
        thresholds  double precision[] NOT NULL,
        split_seed  integer NOT NULL,
        split       jsonb NOT NULL,
        metrics     jsonb NOT NULL,
        training_ms integer NOT NULL,
        created_at  timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE UNIQUE INDEX model_version_one_active ON model_version (active) WHERE active`);

    await q.query(`
      CREATE TABLE movie_prediction (
        model_version_id integer NOT NULL REFERENCES model_version(id) ON DELETE CASCADE,
        movie_id         integer NOT NULL REFERENCES movie(id) ON DELETE CASCADE,
        scores           real[] NOT NULL,
        PRIMARY KEY (model_version_id, movie_id)
      )`);
    await q.query(`CREATE INDEX movie_prediction_movie ON movie_prediction (movie_id)`);

    await q.query(`
      CREATE TABLE training_job (
        id               serial PRIMARY KEY,
        status           text NOT NULL,
        progress         double precision NOT NULL DEFAULT 0,
        stage            text,
        params           jsonb NOT NULL DEFAULT '{}',
        model_version_id integer REFERENCES model_version(id) ON DELETE SET NULL,
        metrics          jsonb,
        error            text,
        created_at       timestamptz NOT NULL DEFAULT now(),
        started_at       timestamptz,
        finished_at      timestamptz
      )`);
    await q.query(`CREATE INDEX training_job_status ON training_job (status)`);

    await q.query(`
      CREATE TABLE api_key (
        id           serial PRIMARY KEY,
        prefix       text NOT NULL,
        key_hash     text NOT NULL UNIQUE,
        role         text NOT NULL CHECK (role IN ('admin', 'user')),
        label        text,
        created_at   timestamptz NOT NULL DEFAULT now(),
        last_used_at timestamptz,
        revoked_at   timestamptz
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE api_key`);
    await q.query(`DROP TABLE training_job`);
    await q.query(`DROP TABLE movie_prediction`);
    await q.query(`DROP TABLE model_version`);
    await q.query(`DROP TABLE poster_embedding`);
    await q.query(`DROP TABLE movie`);
  }
}
