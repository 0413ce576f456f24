/**
 * Coalesces concurrent single-image embedding requests into few session.run calls. Each request is
 * decoded in the pool first (decode overlaps inference); decoded requests wait at most `maxWaitMs` for
 * company (no wait when nothing else is decoding), at most `maxBatch` go into one run, and one run is
 * in flight at a time, so requests arriving during a run form the next batch. A bad image fails only
 * its own request. The number of requests in the batcher is bounded: beyond `maxQueue` a request is
 * rejected at once with AppError SERVICE_UNAVAILABLE QUEUE_FULL.
 */
import { AppError, asAppError } from '../../errors';
import type { ImageInput } from '../image/preprocess';
import { BatchRunner } from './batch-runner';
import type { PosterEmbedder } from './poster-embedder';

export interface EmbeddingBatcherOptions {
  /** Images per session.run (default 32). */
  maxBatch?: number;
  /** How long a decoded request waits for others while more are decoding (default 4 ms). */
  maxWaitMs?: number;
  /** Requests admitted at once, decoding or waiting (default 128; ~0.6 MB of floats each). */
  maxQueue?: number;
}

interface Ready {
  data: Float32Array;
  at: number;
  resolve: (v: Float32Array) => void;
  reject: (e: unknown) => void;
}

export class EmbeddingBatcher {
  readonly maxBatch: number;
  readonly maxWaitMs: number;
  readonly maxQueue: number;
  private admitted = 0; // requests accepted and not yet settled
  private decoding = 0;
  private readonly ready: Ready[] = [];
  private running = false;
  private timer?: NodeJS.Timeout;
  private closing = false;
  private readonly runner: BatchRunner;
  private drained?: () => void;

  constructor(
    private readonly embedder: PosterEmbedder,
    opts: EmbeddingBatcherOptions = {},
  ) {
    this.maxBatch = Math.max(1, Math.floor(opts.maxBatch ?? 32));
    this.maxWaitMs = Math.max(0, opts.maxWaitMs ?? 4);
    this.maxQueue = Math.max(1, Math.floor(opts.maxQueue ?? 128));
    this.runner = new BatchRunner(embedder);
  }

  /** Requests admitted and not yet answered. */
  get pending(): number {
    return this.admitted;
  }

  /** L2-normalised embedding of one image; rejects with the image's AppError, QUEUE_FULL or SHUTTING_DOWN. */
  embed(image: ImageInput): Promise<Float32Array> {
    if (this.closing) return Promise.reject(new AppError('SERVICE_UNAVAILABLE', 'Embedding service is shutting down', 'SHUTTING_DOWN'));
    if (this.admitted >= this.maxQueue) {
      return Promise.reject(
        new AppError('SERVICE_UNAVAILABLE', `Embedding queue is full (${this.maxQueue} requests pending); retry shortly`, 'QUEUE_FULL', {
          maxQueue: this.maxQueue,
        }),
      );
    }
    this.admitted++;
    this.decoding++;
    let decoded: Promise<Float32Array>;
    try {
      decoded = this.embedder.pool.decode(image).then((d) => d.data);
    } catch (err) {
      decoded = Promise.reject(asAppError(err, 'DECODE_FAILED', 'Decoding failed'));
    }
    const result = new Promise<Float32Array>((resolve, reject) => {
      decoded.then(
        (data) => {
          this.decoding--;
          this.ready.push({ data, at: performance.now(), resolve, reject });
          this.schedule();
        },
        (err) => {
          this.decoding--;
          reject(asAppError(err, 'DECODE_FAILED', 'Decoding failed'));
          this.schedule(); // others may have been waiting for this decode
        },
      );
    });
    const done = () => {
      this.admitted--;
      if (this.admitted === 0) this.drained?.();
    };
    result.then(done, done);
    return result;
  }

  /** Stops admitting requests and resolves once every admitted request is answered. */
  async close(): Promise<void> {
    this.closing = true;
    if (this.admitted === 0) return;
    await new Promise<void>((resolve) => {
      this.drained = resolve;
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.running || this.ready.length === 0) return;
    // The oldest decoded request has waited since `at` (possibly through a whole run already).
    const waitLeft = this.maxWaitMs - (performance.now() - this.ready[0].at);
    if (this.ready.length >= this.maxBatch || this.decoding === 0 || this.closing || waitLeft <= 0) {
      if (this.timer) clearTimeout(this.timer);
      this.timer = undefined;
      void this.flush();
    } else if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        void this.flush();
      }, Math.ceil(waitLeft));
    }
  }

  private async flush(): Promise<void> {
    if (this.running || this.ready.length === 0) return;
    this.running = true;
    const items = this.ready.splice(0, this.maxBatch);
    try {
      const vectors = await this.runner.run(items.map((it) => it.data));
      items.forEach((it, k) => it.resolve(vectors[k]));
    } catch (err) {
      const e = asAppError(err, 'INFERENCE_FAILED', 'Embedding failed');
      for (const it of items) it.reject(e);
    } finally {
      this.running = false;
      this.schedule();
    }
  }
}
