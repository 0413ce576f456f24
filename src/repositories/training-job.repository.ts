import { DataSource } from 'typeorm';
import type { TrainingJobEntity } from '../db/entities';
import type { TrainingJobStatus } from '../domain/model';

const COLUMNS = `id, status, progress, stage, params, model_version_id AS "modelVersionId", metrics, error,
  created_at AS "createdAt", started_at AS "startedAt", finished_at AS "finishedAt"`;

export class TrainingJobRepository {
  constructor(private readonly ds: DataSource) {}

  /** Creates a QUEUED job unless one is already queued or running; returns [job, created]. */
  async createUnlessBusy(params: Record<string, unknown>): Promise<[TrainingJobEntity, boolean]> {
    return this.ds.transaction(async (em) => {
      // Serialises concurrent retrain calls so two of them cannot both see "no running job".
      await em.query(`SELECT pg_advisory_xact_lock(4242)`);
      const busy = await em.query<TrainingJobEntity[]>(`SELECT ${COLUMNS} FROM training_job WHERE status IN ('QUEUED', 'RUNNING') ORDER BY id LIMIT 1`);
      if (busy.length) return [busy[0], false];
      const rows = await em.query<TrainingJobEntity[]>(`INSERT INTO training_job (status, params) VALUES ('QUEUED', $1) RETURNING ${COLUMNS}`, [
        JSON.stringify(params),
      ]);
      return [rows[0], true];
    });
  }

  async get(id: number): Promise<TrainingJobEntity | null> {
    return (await this.ds.query<TrainingJobEntity[]>(`SELECT ${COLUMNS} FROM training_job WHERE id = $1`, [id]))[0] ?? null;
  }

  async update(
    id: number,
    patch: { status?: TrainingJobStatus; progress?: number; stage?: string; modelVersionId?: number; metrics?: unknown; error?: string },
  ): Promise<void> {
    await this.ds.query(
      `UPDATE training_job SET
         status = coalesce($2, status), progress = coalesce($3, progress), stage = coalesce($4, stage),
         model_version_id = coalesce($5, model_version_id), metrics = coalesce($6::jsonb, metrics), error = coalesce($7, error),
         started_at = CASE WHEN $2 = 'RUNNING' THEN now() ELSE started_at END,
         finished_at = CASE WHEN $2 IN ('SUCCEEDED', 'FAILED', 'INTERRUPTED') THEN now() ELSE finished_at END
       WHERE id = $1`,
      [
        id,
        patch.status ?? null,
        patch.progress ?? null,
        patch.stage ?? null,
        patch.modelVersionId ?? null,
        patch.metrics === undefined ? null : JSON.stringify(patch.metrics),
        patch.error ?? null,
      ],
    );
  }

  /** Jobs left QUEUED/RUNNING by a process that died are marked INTERRUPTED at start-up. */
  async failOrphans(): Promise<number> {
    const rows = await this.ds.query<Array<{ n: number }>>(
      `WITH u AS (UPDATE training_job SET status = 'INTERRUPTED', stage = 'interrupted', error = 'interrupted: the server stopped while the job ran', finished_at = now()
       WHERE status IN ('QUEUED', 'RUNNING') RETURNING id) SELECT count(*)::int AS n FROM u`,
    );
    return rows[0].n;
  }
}
