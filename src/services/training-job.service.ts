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
export class TrainingJobService {
  private running?: Promise<void>;

  constructor(
    private readonly repo: TrainingJobRepository,
    private readonly models: GenreModelService,
  ) {}

  async start(params: RetrainParams): Promise<TrainingJobInfo> {
    const [job, created] = await this.repo.createUnlessBusy({ ...params });
    if (created) this.running = this.run(job.id, params).finally(() => (this.running = undefined));
    return toTrainingJobInfo(job);
  }

  /** The job, or null when there is none with this id. */
  async find(id: number): Promise<TrainingJobInfo | null> {
    const job = await this.repo.get(id);
    return job && toTrainingJobInfo(job);
  }

  /** Marks jobs a dead process left queued or running as FAILED (at server start); returns how many. */
  async failOrphans(): Promise<number> {
    return this.repo.failOrphans();
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
      await this.repo.update(id, { status: 'SUCCEEDED', stage: 'done', progress: 1, modelVersionId: outcome.versionId, metrics: chosenRow(outcome.report) });
    } catch (err) {
      await this.repo.update(id, { status: 'FAILED', stage: 'failed', error: (err as Error).message }).catch(() => undefined);
    }
  }
}
