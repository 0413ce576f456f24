import os from 'node:os';
import type { TrainingJobInfo } from '../domain/model';
import type { JobSender, QueuedJob } from '../jobs/job-queue';
import { chosenRow } from '../ml/genre/training/trainer';
import type { ReleaseLock, TrainingJobRepository } from '../repositories/training-job.repository';
import { toTrainingJobInfo } from './entity-mappers';
import type { GenreModelService } from './genre-model.service';

export interface RetrainParams {
  epochs?: number;
  seed?: number;
  activate?: boolean;
}

/** The embedded database's stand-in for the retrain lock (one process). */
const noLock: ReleaseLock = () => Promise.resolve();

/** Thrown into a training that `abort` stopped. */
export class TrainingAbortedError extends Error {}

/** Starts of one retrain at most: the first, and two more when the processes running it died. */
export const MAX_RETRAIN_ATTEMPTS = 3;

export interface TrainingJobOptions {
  /**
   * Several processes share the database (a PostgreSQL server): a running retrain holds an advisory
   * lock, and a RUNNING job whose lock is free has lost its process. On the embedded database there is
   * one process: every RUNNING job found at start-up is an orphan.
   */
  shared: boolean;
  log?: (msg: string) => void;
}

/**
 * Retraining as jobs of the queue. `start` (the retrain mutation) stores a QUEUED training_job row
 * and enqueues it; a queue worker (`marquee worker`, or `serve` itself in embedded mode) runs it with
 * `runQueued`. The row is the API's view (trainingJob): status, progress, stage, attempts.
 *
 * - One retrain at a time: a retrain request while a job is queued or running returns that job
 *   (createUnlessBusy), and a process runs a retrain only while it holds the retrain lock.
 * - A job whose process died (kill -9, out of memory, a lost machine) is found by `reap` (every
 *   process that uses the queue calls it every few seconds): it runs again, up to
 *   MAX_RETRAIN_ATTEMPTS starts, then ends INTERRUPTED. Never left RUNNING.
 * - The training computes in a worker thread (GenreModelService.train): the process that runs the job,
 *   `serve` in embedded mode included, keeps answering requests meanwhile, and `abort` ends it at once.
 * - A failed training (bad data) ends FAILED and is not retried; the active model stays as it was,
 *   since a version is stored (and activated) only when training succeeds.
 */
export class TrainingJobService {
  private running?: { id: number; done: Promise<void>; abortedWhy?: string; stop: AbortController };
  private readonly worker = `${os.hostname()}:${process.pid}`;
  private readonly succeeded = new Set<(job: TrainingJobInfo) => void>();

  constructor(
    private readonly repo: TrainingJobRepository,
    private readonly models: GenreModelService,
    private readonly jobs: JobSender,
    private readonly opts: TrainingJobOptions,
  ) {}

  private get log(): (msg: string) => void {
    return this.opts.log ?? ((m) => process.stderr.write(`${m}\n`));
  }

  async start(params: RetrainParams): Promise<TrainingJobInfo> {
    const [job, created] = await this.repo.createUnlessBusy({ ...params });
    if (!created) return toTrainingJobInfo(job);
    try {
      const queueJobId = await this.jobs.send('retrain', { trainingJobId: job.id });
      await this.repo.setQueueJob(job.id, queueJobId);
      return toTrainingJobInfo({ ...job, queueJobId });
    } catch (err) {
      await this.repo.update(job.id, { status: 'FAILED', stage: 'failed', error: `could not queue the job: ${(err as Error).message}` }).catch(() => undefined);
      throw err;
    }
  }

  /** Calls `listener` after each retrain this process ran succeeds (what derives from the catalogue refits). */
  onSucceeded(listener: (job: TrainingJobInfo) => void): () => void {
    this.succeeded.add(listener);
    return () => this.succeeded.delete(listener);
  }

  /** The job, or null when there is none with this id. */
  async find(id: number): Promise<TrainingJobInfo | null> {
    const job = await this.repo.get(id);
    return job && toTrainingJobInfo(job);
  }

  /** Resolves when this process's running job (if any) has finished; for shutdown and tests. */
  async idle(): Promise<void> {
    await this.running?.done;
  }

  /** Marks jobs a dead process left queued or running as INTERRUPTED (embedded server start); returns how many. */
  async failOrphans(): Promise<number> {
    return this.repo.failOrphans();
  }

  /**
   * Stops this process's running job, if any: its training thread is terminated at once (a job still
   * loading its data stops before training): nothing is stored, and the job ends INTERRUPTED with
   * `why` as its error. Resolves once the row says so.
   */
  async abort(why = 'stopped by the server'): Promise<void> {
    const current = this.running;
    if (!current) return;
    current.abortedWhy ??= why;
    current.stop.abort(new TrainingAbortedError(current.abortedWhy));
    await current.done;
  }

  /**
   * The queue's handler for a retrain job. A delivery of a job that is not QUEUED (finished, or
   * running in a live process) is a stale copy and does nothing. Throws (the queue retries later)
   * only when another process holds the retrain lock.
   */
  async runQueued(job: QueuedJob<'retrain'>): Promise<void> {
    const id = job.data.trainingJobId;
    const row = await this.repo.get(id);
    if (!row || row.status !== 'QUEUED') return;
    const release = await this.lock();
    if (!release) throw new Error(`another process is running a retrain; job ${id} waits`);
    try {
      const claimed = await this.repo.claim(id, this.worker, job.id);
      if (!claimed) return;
      const current: NonNullable<typeof this.running> = { id, done: Promise.resolve(), stop: new AbortController() };
      this.running = current;
      current.done = this.train(current, claimed.params);
      await current.done;
    } finally {
      this.running = undefined;
      await release();
    }
  }

  /**
   * Finds retrains whose process died and runs them again (or ends them INTERRUPTED after
   * MAX_RETRAIN_ATTEMPTS starts), and re-enqueues QUEUED jobs whose enqueue was lost. On a shared
   * database a RUNNING job is an orphan when nobody holds the retrain lock; on the embedded one,
   * when this process does not run it (call it at start-up there). Returns how many it handled.
   */
  async reap(): Promise<number> {
    // Embedded: the queue lived in the process that died, so every QUEUED job is enqueued again.
    const rows = await this.repo.unfinished(30, !this.opts.shared);
    let handled = 0;
    for (const row of rows) {
      if (row.status === 'QUEUED') {
        const queueJobId = await this.jobs.send('retrain', { trainingJobId: row.id });
        await this.repo.setQueueJob(row.id, queueJobId);
        handled++;
        continue;
      }
      if (this.running?.id === row.id) continue;
      const release = this.opts.shared ? await this.repo.tryRetrainLock() : noLock;
      if (!release) continue; // its process is alive
      try {
        // Under the lock: a job still RUNNING now has no live process (a live one finishes its row before it unlocks).
        const now = await this.repo.get(row.id);
        if (now?.status !== 'RUNNING' || this.running?.id === row.id) continue;
        const why = `interrupted: the process running it (${now.worker ?? 'unknown'}) stopped during attempt ${now.attempts}`;
        if (now.attempts < MAX_RETRAIN_ATTEMPTS) {
          await this.repo.requeue(row.id, why);
          this.log(`marquee: training job ${row.id} ${why}; it runs again`);
        } else {
          await this.repo.update(row.id, { status: 'INTERRUPTED', stage: 'interrupted', error: `${why}; gave up after ${now.attempts} attempts` });
          this.log(`marquee: training job ${row.id} ${why}; INTERRUPTED after ${now.attempts} attempts`);
        }
        // Its queue job is still active: failing it makes the queue deliver it again (or give up).
        if (now.queueJobId && this.opts.shared) await this.jobs.fail('retrain', now.queueJobId, why);
        else if (now.attempts < MAX_RETRAIN_ATTEMPTS) await this.repo.setQueueJob(row.id, await this.jobs.send('retrain', { trainingJobId: row.id }));
        handled++;
      } finally {
        await release();
      }
    }
    return handled;
  }

  private async lock(): Promise<ReleaseLock | null> {
    if (this.opts.shared) return this.repo.tryRetrainLock();
    // One process on the embedded database, and its queue worker runs one retrain at a time.
    return this.running ? null : noLock;
  }

  private async train(current: NonNullable<typeof this.running>, params: RetrainParams): Promise<void> {
    const { id } = current;
    let lastWrite = 0;
    try {
      await this.repo.update(id, { stage: 'loading embeddings', progress: 0 });
      const outcome = await this.models.train({
        epochs: params.epochs,
        seed: params.seed,
        activate: params.activate,
        signal: current.stop.signal,
        onProgress: (p) => {
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
      return;
    }
    const done = await this.repo.get(id).catch(() => null);
    if (done) for (const listener of this.succeeded) listener(toTrainingJobInfo(done));
  }
}
