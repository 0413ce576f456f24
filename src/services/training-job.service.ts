import type { TrainingJobInfo } from '../domain/model';
import { chosenRow } from '../ml/genre/training/trainer';
import type { TrainingJobRepository } from '../repositories/training-job.repository';
import { toTrainingJobInfo } from './entity-mappers';
import type { GenreModelService } from './genre-model.service';

export interface RetrainParams {
  epochs?: number;
  seed?: number;
  activate?: boolean;
}

/**
 * Background retraining: one job at a time. A retrain request while a job is queued or running
 * returns that job instead of starting another (documented in the README). A failed job leaves
 * the active model untouched, since a version is only stored (and activated) when training succeeds.
 */
/** Thrown into a training that `abort` stopped. */
export class TrainingAbortedError extends Error {}

export class TrainingJobService {
  private current?: { id: number; abortedWhy?: string; done: Promise<void> };

  constructor(
    private readonly repo: TrainingJobRepository,
    private readonly models: GenreModelService,
  ) {}

  async start(params: RetrainParams): Promise<TrainingJobInfo> {
    const [job, created] = await this.repo.createUnlessBusy({ ...params });
    if (created) {
      const current: NonNullable<typeof this.current> = { id: job.id, done: Promise.resolve() };
      current.done = this.run(current, params).finally(() => {
        if (this.current === current) this.current = undefined;
      });
      this.current = current;
    }
    return toTrainingJobInfo(job);
  }

  /** The job, or null when there is none with this id. */
  async find(id: number): Promise<TrainingJobInfo | null> {
    const job = await this.repo.get(id);
    return job && toTrainingJobInfo(job);
  }

  /** Marks jobs a dead process left queued or running as INTERRUPTED (at server start); returns how many. */
  async failOrphans(): Promise<number> {
    return this.repo.failOrphans();
  }

  /** Resolves when the current job (if any) has finished; for shutdown and tests. */
  async idle(): Promise<void> {
    await this.current?.done;
  }

  /**
   * Stops this process's running job, if any, at its next progress step (an epoch at most): nothing
   * is stored, and the job ends INTERRUPTED with `why` as its error. Resolves once the row says so.
   */
  async abort(why = 'stopped by the server'): Promise<void> {
    const current = this.current;
    if (!current) return;
    current.abortedWhy ??= why;
    await current.done;
  }

  private async run(current: NonNullable<typeof this.current>, params: RetrainParams): Promise<void> {
    const { id } = current;
    // Let the mutation answer before the heavy work starts.
    await new Promise((r) => setImmediate(r));
    let lastWrite = 0;
    try {
      if (current.abortedWhy !== undefined) throw new TrainingAbortedError(current.abortedWhy);
      await this.repo.update(id, { status: 'RUNNING', stage: 'loading embeddings', progress: 0 });
      const outcome = await this.models.train({
        epochs: params.epochs,
        seed: params.seed,
        activate: params.activate,
        onProgress: (p) => {
          if (current.abortedWhy !== undefined) throw new TrainingAbortedError(current.abortedWhy);
          const now = Date.now();
          if (now - lastWrite < 1000) return;
          lastWrite = now;
          void this.repo.update(id, { stage: p.stage, progress: p.total ? Math.min(0.99, p.done / p.total) : 0 }).catch(() => undefined);
        },
      });
      await this.repo.update(id, { status: 'SUCCEEDED', stage: 'done', progress: 1, modelVersionId: outcome.versionId, metrics: chosenRow(outcome.report) });
    } catch (err) {
      const interrupted = err instanceof TrainingAbortedError || current.abortedWhy !== undefined;
      await this.repo
        .update(id, { status: interrupted ? 'INTERRUPTED' : 'FAILED', stage: interrupted ? 'interrupted' : 'failed', error: (err as Error).message })
        .catch(() => undefined);
    }
  }
}
