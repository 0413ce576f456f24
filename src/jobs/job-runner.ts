import type { JobsConfig } from '../config';
import type { EmbeddingService } from '../services/embedding.service';
import type { GenreModelService } from '../services/genre-model.service';
import type { ImportService } from '../services/import/import.service';
import type { TrainingJobService } from '../services/training-job.service';
import type { JobName, JobPayloads, JobSender, WorkQueue } from './job-queue';

export interface JobServices {
  training: TrainingJobService;
  embedding: EmbeddingService;
  models: GenreModelService;
  importer: ImportService;
}

/**
 * Who runs the queue's jobs in this process. `marquee worker` works on every queue; `serve` does so in
 * embedded mode (MARQUEE_JOBS=embedded), and only enqueues in worker mode, so that the API never trains
 * in its own process when workers are configured. Every process that uses the queue also reaps:
 * retrains whose process died run again (TrainingJobService.reap).
 *
 * As the services' JobSender it starts this process's workers on first use in embedded mode, so
 * that a job enqueued by an App without `serve` (tests, scripts) runs too.
 */
export class JobRunner implements JobSender {
  private services?: JobServices;
  private working?: Promise<void>;
  private reaper?: NodeJS.Timeout;
  private reaping?: Promise<unknown>;

  constructor(
    private readonly queue: WorkQueue,
    private readonly config: JobsConfig,
    /** Several processes share the database (PostgreSQL): reap periodically, not only at start. */
    private readonly shared: boolean,
    private readonly log: (msg: string) => void = (m) => process.stderr.write(`${m}\n`),
  ) {}

  /** The services the handlers call (the App sets them once built: they send through this runner). */
  bind(services: JobServices): void {
    this.services = services;
  }

  /** Whether this process runs the jobs it enqueues (embedded mode). */
  get embedded(): boolean {
    return this.config.mode === 'embedded';
  }

  async send<N extends JobName>(name: N, data: JobPayloads[N]): Promise<string> {
    if (this.embedded) await this.work();
    return this.queue.send(name, data);
  }

  /** Enqueues for the workers of the deployment (`marquee import --queue`): this process does not work on it. */
  async enqueue<N extends JobName>(name: N, data: JobPayloads[N]): Promise<string> {
    return this.queue.send(name, data);
  }

  async fail(name: JobName, id: string, why: string): Promise<void> {
    await this.queue.fail(name, id, why);
  }

  /**
   * Works on every queue in this process (a worker, or serve in embedded mode), then reaps (once, and
   * periodically on PostgreSQL). Idempotent; resolves once the handlers are registered.
   */
  work(): Promise<void> {
    if (!this.working) {
      this.working = this.startWorking();
      this.working.then(
        () => {
          // On the embedded database `serve` marks what a dead process left INTERRUPTED before it works.
          if (!this.shared) return;
          void this.reap();
          this.startReaper();
        },
        () => (this.working = undefined),
      );
    }
    return this.working;
  }

  private async startWorking(): Promise<void> {
    const s = this.services;
    if (!s) throw new Error('JobRunner: no services bound');
    await this.queue.work('retrain', (job) => s.training.runQueued(job));
    await this.queue.work('embed', async (job) => {
      const r = await s.embedding.embedMissing({ limit: job.data.limit, progress: true });
      const predicted = await s.models.predictMissing();
      this.log(`marquee: embed job ${job.id}: embedded ${r.embedded}, failed ${r.failed.length}, predicted ${predicted}`);
    });
    await this.queue.work('import', async (job) => {
      const r = await s.importer.importCsv(job.data.csv, { limit: job.data.limit, allowPrivateUrls: job.data.allowPrivateUrls, progress: true });
      this.log(`marquee: import job ${job.id}: imported ${r.imported}, updated ${r.updated}, unchanged ${r.unchanged}, skipped ${r.skipped.length}`);
    });
  }

  /** Reaps every MARQUEE_JOB_REAP_MS (PostgreSQL: a process elsewhere may die at any time). */
  startReaper(): void {
    if (this.reaper || !this.shared) return;
    this.reaper = setInterval(() => void this.reap(), this.config.reapMs);
    this.reaper.unref();
  }

  /** One pass of TrainingJobService.reap (never two at once); errors are logged. */
  async reap(): Promise<void> {
    if (this.reaping || !this.services) return;
    const s = this.services;
    this.reaping = s.training
      .reap()
      .catch((err: unknown) => this.log(`marquee: reaping training jobs failed: ${(err as Error).message}`))
      .finally(() => (this.reaping = undefined));
    await this.reaping;
  }

  /** Stops reaping and working (a running job is waited for, up to `timeoutMs`), and closes the queue. */
  async stop(timeoutMs?: number): Promise<void> {
    clearInterval(this.reaper);
    this.reaper = undefined;
    await this.reaping;
    await this.queue.stop(timeoutMs);
  }
}
