import { DataSource, EntityManager } from 'typeorm';
import { ModelVersionEntity } from '../db/entities';

const COLUMNS = `id, name, backbone, model_kind AS "modelKind", active, thresholds, split_seed AS "splitSeed",
  metrics, training_ms AS "trainingMs", created_at AS "createdAt"`;

export type ModelVersionSummary = Omit<ModelVersionEntity, 'artifact' | 'split'>;

/** All SQL about model versions and their stored per-movie predictions. */
export class ModelVersionRepository {
  constructor(private readonly ds: DataSource) {}

  async insert(v: Omit<ModelVersionEntity, 'id' | 'createdAt' | 'active'>, em: EntityManager = this.ds.manager): Promise<number> {
    const rows = await em.query<Array<{ id: number }>>(
      `INSERT INTO model_version (name, backbone, model_kind, artifact, thresholds, split_seed, split, metrics, training_ms)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
      [
        v.name,
        v.backbone,
        v.modelKind,
        JSON.stringify(v.artifact),
        v.thresholds,
        v.splitSeed,
        JSON.stringify(v.split),
        JSON.stringify(v.metrics),
        v.trainingMs,
      ],
    );
    return rows[0].id;
  }

  async list(): Promise<ModelVersionSummary[]> {
    return this.ds.query<ModelVersionSummary[]>(`SELECT ${COLUMNS} FROM model_version ORDER BY id DESC`);
  }

  async get(id: number): Promise<ModelVersionSummary | null> {
    return (await this.ds.query<ModelVersionSummary[]>(`SELECT ${COLUMNS} FROM model_version WHERE id = $1`, [id]))[0] ?? null;
  }

  /** The active version for a backbone (each backbone has its own). */
  async active(backbone: string): Promise<ModelVersionEntity | null> {
    return (
      (await this.ds.query<ModelVersionEntity[]>(`SELECT ${COLUMNS}, artifact, split FROM model_version WHERE active AND backbone = $1`, [backbone]))[0] ?? null
    );
  }

  /** Makes `id` the only active version of its backbone, atomically. */
  async activate(id: number, em?: EntityManager): Promise<void> {
    const run = async (m: EntityManager) => {
      await m.query(
        `UPDATE model_version SET active = false
         WHERE active AND id <> $1 AND backbone = (SELECT backbone FROM model_version WHERE id = $1)`,
        [id],
      );
      await m.query(`UPDATE model_version SET active = true WHERE id = $1`, [id]);
    };
    if (em) await run(em);
    else await this.ds.transaction(run);
  }

  async nextName(prefix: string): Promise<string> {
    const rows = await this.ds.query<Array<{ n: number }>>(`SELECT count(*)::int AS n FROM model_version`);
    return `${prefix}-v${rows[0].n + 1}`;
  }

  async upsertPredictions(
    versionId: number,
    movieIds: ArrayLike<number>,
    scores: Float32Array,
    numLabels: number,
    em: EntityManager = this.ds.manager,
  ): Promise<void> {
    const ids: number[] = [];
    const literals: string[] = [];
    for (let i = 0; i < movieIds.length; i++) {
      ids.push(movieIds[i]);
      literals.push(`{${Array.prototype.join.call(scores.subarray(i * numLabels, (i + 1) * numLabels), ',')}}`);
    }
    if (!ids.length) return;
    await em.query(
      `INSERT INTO movie_prediction (model_version_id, movie_id, scores)
       SELECT $1, t.movie_id, t.s::real[] FROM unnest($2::int[], $3::text[]) AS t(movie_id, s)
       JOIN movie m ON m.id = t.movie_id
       ON CONFLICT (model_version_id, movie_id) DO UPDATE SET scores = EXCLUDED.scores`,
      [versionId, ids, literals],
    );
  }

  async predictions(versionId: number, movieIds: readonly number[]): Promise<Map<number, number[]>> {
    const rows = await this.ds.query<Array<{ movie_id: number; scores: number[] }>>(
      `SELECT movie_id, scores FROM movie_prediction WHERE model_version_id = $1 AND movie_id = ANY($2::int[])`,
      [versionId, movieIds],
    );
    return new Map(rows.map((r) => [r.movie_id, r.scores.map(Number)]));
  }
}
