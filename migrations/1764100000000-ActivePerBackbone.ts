import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * One active model version per backbone rather than one overall: embeddings are stored per backbone,
 * and a model only makes sense on the embedding space it was trained on.
 */
export class ActivePerBackbone1764100000000 implements MigrationInterface {
  name = 'ActivePerBackbone1764100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX model_version_one_active`);
    await q.query(`CREATE UNIQUE INDEX model_version_one_active_per_backbone ON model_version (backbone) WHERE active`);
  }

  async down(q: QueryRunner): Promise<void> {
    // Keep the newest active version when going back to one active version overall.
    await q.query(`UPDATE model_version SET active = false WHERE active AND id <> (SELECT max(id) FROM model_version WHERE active)`);
    await q.query(`DROP INDEX model_version_one_active_per_backbone`);
    await q.query(`CREATE UNIQUE INDEX model_version_one_active ON model_version (active) WHERE active`);
  }
}
