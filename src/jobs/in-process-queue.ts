import { randomUUID } from 'node:crypto';
import type { JobHandler, JobName, JobPayloads, QueuedJob, WorkQueue } from './job-queue';

/**
 * The embedded database's queue: jobs run in this process, one at a time per queue, in order.
 * PGlite is one process and its socket server multiplexes every connection onto one backend; a
 * polling queue beside a training there gave a concurrent request a wrong, empty read in our tests,
 * so the embedded mode keeps its jobs off the database's queue. Nothing survives a restart here:
 * TrainingJobService.reap re-enqueues, at start-up, the retrains the last process left unfinished.
 */
export class InProcessQueue implements WorkQueue {
  private readonly handlers = new Map<JobName, JobHandler<JobName>>();
  private readonly pending = new Map<JobName, Array<QueuedJob<JobName>>>();
  private readonly chains = new Map<JobName, Promise<void>>();
  private stopped = false;

  constructor(private readonly log: (msg: string) => void = (m) => process.stderr.write(`${m}\n`)) {}

  send<N extends JobName>(name: N, data: JobPayloads[N]): Promise<string> {
    if (this.stopped) return Promise.reject(new Error('the job queue is stopped'));
    const job: QueuedJob<JobName> = { id: randomUUID(), name, data };
    if (this.handlers.has(name)) this.run(job);
    else this.pending.set(name, [...(this.pending.get(name) ?? []), job]);
    return Promise.resolve(job.id);
  }

  work<N extends JobName>(name: N, handler: JobHandler<N>): Promise<void> {
    if (this.handlers.has(name)) return Promise.reject(new Error(`already working on ${name}`));
    this.handlers.set(name, handler as unknown as JobHandler<JobName>);
    for (const job of this.pending.get(name) ?? []) this.run(job);
    this.pending.delete(name);
    return Promise.resolve();
  }

  /** Jobs here die with their process: nothing to fail. */
  fail(): Promise<void> {
    return Promise.resolve();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.chains.values());
  }

  private run(job: QueuedJob<JobName>): void {
    const handler = this.handlers.get(job.name)!;
    const prev = this.chains.get(job.name) ?? Promise.resolve();
    const next = prev
      .then(() => new Promise((r) => setImmediate(r)))
      .then(() => (this.stopped ? undefined : handler(job)))
      .catch((err: unknown) => this.log(`marquee: ${job.name} job ${job.id} failed: ${(err as Error).message}`));
    this.chains.set(job.name, next);
  }
}
