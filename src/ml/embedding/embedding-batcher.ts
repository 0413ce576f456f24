/**
 * Coalesces concurrent single-image embedding requests into few session.run calls. Each request is
 * decoded in the pool first (decode overlaps inference); decoded requests wait at most `maxWaitMs` for
 * company (no wait when nothing else is decoding), at most `maxBatch` go into one run, and one run is
 * in flight at a time, so requests arriving during a run form the next batch. A bad image fails only
 * its own request. The number of requests in the batcher is bounded: beyond `maxQueue` a request is
 * rejected at once with AppError SERVICE_UNAVAILABLE QUEUE_FULL.
 */
import { AppError } from '../../errors';
import { combineCrops, type PosterEmbedder } from './poster-embedder';
import type { ImageInput } from '../image/preprocess';

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
  private batchBuf?: Float32Array;
  private drained?: () => void;

  constructor(
    private readonly embedder: PosterEmbedder,
    opts: EmbeddingBatcherOptions = {},
  ) {
    this.maxBatch = Math.max(1, Math.floor(opts.maxBatch ?? 32));
    this.maxWaitMs = Math.max(0, opts.maxWaitMs ?? 4);
    this.maxQueue = Math.max(1, Math.floor(opts.maxQueue ?? 128));
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
        new AppError('SERVICE_UNAVAILABLE', `Embedding queue is full (${this.maxQueue} requests pending); retry shortly`, 'QUEUE_FULL', { maxQueue: this.maxQueue }),
      );
    }
    this.admitted++;
    this.decoding++;
    let decoded: Promise<Float32Array>;
    try {
      decoded = this.embedder.pool.decode(image).then((d) => d.data);
    } catch (err) {
      decoded = Promise.reject(err);
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
          reject(err);
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
      const crops = this.embedder.info.cropsPerImage;
      const rowFloats = crops * this.embedder.rowLength;
      if (!this.batchBuf || this.batchBuf.length < this.maxBatch * rowFloats) this.batchBuf = new Float32Array(this.maxBatch * rowFloats);
      items.forEach((it, k) => this.batchBuf!.set(it.data, k * rowFloats));
      const rows = await this.embedder.embedTensor(this.batchBuf, items.length * crops);
      const vecs = combineCrops(rows, items.length, crops, this.embedder.info.dim);
      const dim = this.embedder.info.dim;
      items.forEach((it, k) => it.resolve(vecs.slice(k * dim, (k + 1) * dim)));
    } catch (err) {
      const e = err instanceof AppError ? err : new AppError('INTERNAL_SERVER_ERROR', `Embedding failed: ${(err as Error)?.message ?? err}`, 'INFERENCE_FAILED');
      for (const it of items) it.reject(e);
    } finally {
      this.running = false;
      this.schedule();
    }
  }
}
