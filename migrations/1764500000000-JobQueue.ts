import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Training jobs run from the job queue (issue 11): each row remembers its queue job, the process
 * that runs it and how many times it was started (a retrain whose process died runs again).
 * The queue's own tables live in the `pgboss` schema, created by pg-boss when a process first uses it.
 */
export class JobQueue1764500000000 implements MigrationInterface {
  name = 'JobQueue1764500000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE training_job
        ADD COLUMN attempts     integer NOT NULL DEFAULT 0,
        ADD COLUMN queue_job_id text,
        ADD COLUMN worker       text`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE training_job DROP COLUMN attempts, DROP COLUMN queue_job_id, DROP COLUMN worker`);
  }
}
