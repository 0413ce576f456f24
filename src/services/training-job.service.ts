import { TrainingJobEntity } from '../db/entities';
import { notFound } from '../errors';
import { TrainingJobRepository } from '../repositories/training-job.repository';
import { GenreModelService } from './genre-model.service';

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
export class TrainingJobService {
  private running?: Promise<void>;

  constructor(
    readonly repo: TrainingJobRepository,
    private readonly models: GenreModelService,
  ) {}

  async start(params: RetrainParams): Promise<TrainingJobEntity> {
    const [job, created] = await this.repo.createUnlessBusy({ ...params });
    if (created) this.running = this.run(job.id, params).finally(() => (this.running = undefined));
    return job;
  }

  async get(id: number): Promise<TrainingJobEntity> {
    const job = await this.repo.get(id);
    if (!job) throw notFound(`no training job ${id}`);
    return job;
  }

  /** Resolves when the current job (if any) has finished; for shutdown and tests. */
  async idle(): Promise<void> {
    await this.running;
  }

  private async run(id: number, params: RetrainParams): Promise<void> {
    // Let the mutation answer before the heavy work starts.
    await new Promise((r) => setImmediate(r));
    let lastWrite = 0;
    try {
      await this.repo.update(id, { status: 'RUNNING', stage: 'loading embeddings', progress: 0 });
      const outcome = await this.models.train({
        epochs: params.epochs,
        seed: params.seed,
        activate: params.activate,
        onProgress: (p) => {
          const now = Date.now();
          if (now - lastWrite < 1000) return;
          lastWrite = now;
          void this.repo.update(id, { stage: p.stage, progress: p.total ? Math.min(0.99, p.done / p.total) : 0 }).catch(() => undefined);
        },
      });
      const chosen = outcome.report.rows.find((r) => r.model === outcome.report.chosen.model && r.scheme === outcome.report.chosen.scheme);
      await this.repo.update(id, { status: 'SUCCEEDED', stage: 'done', progress: 1, modelVersionId: outcome.versionId, metrics: chosen ?? null });
    } catch (err) {
      await this.repo.update(id, { status: 'FAILED', stage: 'failed', error: (err as Error).message }).catch(() => undefined);
    }
  }
}
