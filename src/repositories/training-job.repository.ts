import { DataSource } from 'typeorm';
import type { TrainingJobEntity } from '../db/entities';
import type { TrainingJobStatus } from '../domain/model';

const COLUMNS = `id, status, progress, stage, params, model_version_id AS "modelVersionId", metrics, error,
  created_at AS "createdAt", started_at AS "startedAt", finished_at AS "finishedAt", attempts, queue_job_id AS "queueJobId", worker`;

/** The session-level advisory lock a process holds while it runs a retrain (any process, any database of the server). */
const RETRAIN_LOCK = 4243;

/** Releases a held lock and its connection. */
export type ReleaseLock = () => Promise<void>;

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

  async setQueueJob(id: number, queueJobId: string): Promise<void> {
    await this.ds.query(`UPDATE training_job SET queue_job_id = $2 WHERE id = $1`, [id, queueJobId]);
  }

  /** QUEUED → RUNNING for this process, one more attempt; null when the job is not QUEUED (any more). */
  async claim(id: number, worker: string, queueJobId: string): Promise<TrainingJobEntity | null> {
    const rows = await this.ds.query<TrainingJobEntity[]>(
      `WITH u AS (UPDATE training_job SET status = 'RUNNING', attempts = attempts + 1, worker = $2, queue_job_id = $3, started_at = now(),
         stage = 'starting', progress = 0, error = NULL
       WHERE id = $1 AND status = 'QUEUED' RETURNING *)
       SELECT ${COLUMNS} FROM u`,
      [id, worker, queueJobId],
    );
    return rows[0] ?? null;
  }

  /** Jobs left QUEUED/RUNNING by a process that died are marked INTERRUPTED at start-up. */
  async failOrphans(): Promise<number> {
    const rows = await this.ds.query<Array<{ n: number }>>(
      `WITH u AS (UPDATE training_job SET status = 'INTERRUPTED', stage = 'interrupted', error = 'interrupted: the server stopped while the job ran', finished_at = now()
       WHERE status IN ('QUEUED', 'RUNNING') RETURNING id) SELECT count(*)::int AS n FROM u`,
    );
    return rows[0].n;
  }

  /** RUNNING → QUEUED again (its process died; it runs again), keeping why. */
  async requeue(id: number, why: string): Promise<void> {
    await this.ds.query(`UPDATE training_job SET status = 'QUEUED', stage = 'queued again', error = $2 WHERE id = $1 AND status = 'RUNNING'`, [id, why]);
  }

  /** Jobs RUNNING now, and QUEUED ones: all of them, or those QUEUED for longer than `staleQueuedS` without a queue job (their enqueue was lost). */
  async unfinished(staleQueuedS: number, allQueued: boolean): Promise<TrainingJobEntity[]> {
    return this.ds.query<TrainingJobEntity[]>(
      `SELECT ${COLUMNS} FROM training_job WHERE status = 'RUNNING'
         OR (status = 'QUEUED' AND ($2 OR (queue_job_id IS NULL AND created_at < now() - make_interval(secs => $1))))
       ORDER BY id`,
      [staleQueuedS, allQueued],
    );
  }

  /**
   * Takes the retrain lock on a connection of its own and keeps it until released; null when another
   * process holds it. PostgreSQL frees it when the holder's connection ends, so a process killed
   * with -9 frees it at once: a RUNNING job whose lock is free has lost its process.
   */
  async tryRetrainLock(): Promise<ReleaseLock | null> {
    const qr = this.ds.createQueryRunner();
    await qr.connect();
    try {
      const [{ ok }] = (await qr.query(`SELECT pg_try_advisory_lock($1) AS ok`, [RETRAIN_LOCK])) as Array<{ ok: boolean }>;
      if (!ok) {
        await qr.release();
        return null;
      }
    } catch (err) {
      await qr.release();
      throw err;
    }
    return async () => {
      try {
        await qr.query(`SELECT pg_advisory_unlock($1)`, [RETRAIN_LOCK]);
      } finally {
        await qr.release();
      }
    };
  }
}
