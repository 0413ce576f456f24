/**
 * The job queue: long work (retraining, re-embedding, imports) as jobs in PostgreSQL, run by
 * `marquee worker` processes, or by `serve` itself in embedded mode (MARQUEE_JOBS). The library
 * is pg-boss (docs/jobs.md says why); this module is the only one that knows it.
 *
 * A job is delivered to one worker. A handler that throws has its job retried (up to the queue's
 * retry limit, after its delay); `fail` puts an active job whose process died back to retry.
 */
import PgBoss from 'pg-boss';

/** The queues and what their jobs carry. */
export interface JobPayloads {
  /** A training_job row to run (the row is the API's view of the job). */
  retrain: { trainingJobId: number };
  /** Embeds every poster lacking an embedding for the worker's backbone (after a backbone change, or new posters). */
  embed: { limit?: number };
  /** Imports a CSV the worker can read. */
  import: { csv: string; limit?: number; allowPrivateUrls?: boolean };
}

export type JobName = keyof JobPayloads;
export const JOB_NAMES: readonly JobName[] = ['retrain', 'embed', 'import'];

export interface QueuedJob<N extends JobName> {
  id: string;
  name: N;
  data: JobPayloads[N];
}

export type JobHandler<N extends JobName> = (job: QueuedJob<N>) => Promise<void>;

export interface JobInfo {
  id: string;
  name: string;
  state: string;
  data: unknown;
  retryCount: number;
  createdOn: Date;
  startedOn: Date | null;
  completedOn: Date | null;
  output: unknown;
}

export interface JobQueueOptions {
  /** postgres://… (the embedded PGlite's socket URL in embedded mode). */
  url: string;
  /** Seconds an active job may run before the queue fails it (then retries it, if it has retries left). */
  expireInSeconds: number;
  /** How often an idle worker looks for jobs (pg-boss allows 0.5 s at least). */
  pollingIntervalSeconds?: number;
  log?: (msg: string) => void;
}

/** Per-queue retry policy: a retrain whose worker died runs again (twice at most); imports and embeds resume where they stopped. */
const RETRIES: Record<JobName, { retryLimit: number; retryDelay: number }> = {
  retrain: { retryLimit: 2, retryDelay: 1 },
  embed: { retryLimit: 2, retryDelay: 5 },
  import: { retryLimit: 2, retryDelay: 5 },
};

/** A queue this process can enqueue to and work on: pg-boss (JobQueue) on PostgreSQL, InProcessQueue on the embedded database. */
export interface WorkQueue {
  send<N extends JobName>(name: N, data: JobPayloads[N]): Promise<string>;
  work<N extends JobName>(name: N, handler: JobHandler<N>): Promise<void>;
  fail(name: JobName, id: string, why: string): Promise<void>;
  stop(timeoutMs?: number): Promise<void>;
}

/** What services need of the queue. */
export interface JobSender {
  send<N extends JobName>(name: N, data: JobPayloads[N]): Promise<string>;
  fail(name: JobName, id: string, why: string): Promise<void>;
}

/** pg-boss, started on first use (its schema is created or migrated then), stopped by `stop()`. */
export class JobQueue implements WorkQueue {
  private boss?: PgBoss;
  private starting?: Promise<PgBoss>;
  private readonly workers = new Map<JobName, string>();
  private stopped = false;

  constructor(private readonly opts: JobQueueOptions) {}

  private get log(): (msg: string) => void {
    return this.opts.log ?? ((m) => process.stderr.write(`${m}\n`));
  }

  private start(): Promise<PgBoss> {
    if (this.stopped) return Promise.reject(new Error('the job queue is stopped'));
    this.starting ??= (async () => {
      const boss = new PgBoss({
        connectionString: this.opts.url,
        max: 2,
        application_name: 'marquee-jobs',
        schedule: false,
        // Expired active jobs are failed (then retried) by maintenance, every 30 s on some process.
        maintenanceIntervalSeconds: 30,
      });
      boss.on('error', (err) => this.log(`marquee: job queue: ${err.message}`));
      await boss.start();
      for (const name of JOB_NAMES) await boss.createQueue(name, { name, ...RETRIES[name], expireInSeconds: this.opts.expireInSeconds });
      this.boss = boss;
      return boss;
    })();
    this.starting.catch(() => (this.starting = undefined));
    return this.starting;
  }

  /** Enqueues a job; returns its id. */
  async send<N extends JobName>(name: N, data: JobPayloads[N]): Promise<string> {
    const boss = await this.start();
    const id = await boss.send(name, data, { ...RETRIES[name], expireInSeconds: this.opts.expireInSeconds });
    if (!id) throw new Error(`the ${name} job was not queued`);
    // A worker of this process starts it now rather than at its next poll.
    const worker = this.workers.get(name);
    if (worker) boss.notifyWorker(worker);
    return id;
  }

  /** Runs this queue's jobs in this process, one at a time, until `stop()`. */
  async work<N extends JobName>(name: N, handler: JobHandler<N>): Promise<void> {
    const boss = await this.start();
    if (this.workers.has(name)) throw new Error(`already working on ${name}`);
    const id = await boss.work<JobPayloads[N]>(name, { batchSize: 1, pollingIntervalSeconds: this.opts.pollingIntervalSeconds ?? 0.5 }, async (jobs) => {
      for (const job of jobs) await handler({ id: job.id, name, data: job.data });
    });
    this.workers.set(name, id);
  }

  /** Fails an active job (its process died): it is retried if it has retries left, else it stays failed. */
  async fail(name: JobName, id: string, why: string): Promise<void> {
    const boss = await this.start();
    await boss.fail(name, id, { message: why });
  }

  /** A job's state (created, retry, active, completed, cancelled, failed), or null when there is none. */
  async get(name: JobName, id: string): Promise<JobInfo | null> {
    const boss = await this.start();
    const j = await boss.getJobById<unknown>(name, id, { includeArchive: true });
    return (
      j && {
        id: j.id,
        name: j.name,
        state: j.state,
        data: j.data,
        retryCount: j.retryCount,
        createdOn: j.createdOn,
        startedOn: j.startedOn ?? null,
        completedOn: j.completedOn,
        output: j.output,
      }
    );
  }

  /** Stops working (a running handler is waited for, up to `timeoutMs`) and closes the queue's connections. */
  async stop(timeoutMs = 30_000): Promise<void> {
    this.stopped = true;
    const boss = this.boss ?? (await this.starting?.catch(() => undefined));
    if (!boss) return;
    await boss.stop({ graceful: true, wait: true, timeout: timeoutMs });
  }
}
