/**
 * Bulk embedding for `marquee embed`: reads {key, imagePath | image} items, decodes them in the pool and
 * runs large batches, with the next batch already posted to the decode workers while the current one is
 * in session.run (in the inference worker). Yields one array of results per batch,
 * in input order; a bad image yields { key, error } and never stops the run. The caller does the I/O
 * around it (reading rows, writing vectors).
 */
import { AppError, asAppError } from '../../errors';
import type { DecodedImage } from '../image/decode-pool';
import { BatchRunner } from './batch-runner';
import type { PosterEmbedder } from './poster-embedder';

/** See bench/embedding.ts for the measurements behind it. */
export const DEFAULT_PIPELINE_BATCH = 64;

export interface PipelineItem<K = string> {
  key: K;
  /** A file to read (read by the decode worker, off the main thread) ... */
  imagePath?: string;
  /** ... or the image bytes. */
  image?: Buffer | Uint8Array;
}

export type PipelineResult<K = string> = { key: K; vector: Float32Array; error?: undefined } | { key: K; vector?: undefined; error: AppError };

export interface PipelineProgress {
  /** Items finished (embedded or failed). */
  done: number;
  failed: number;
  /** Known total (opts.total), else undefined. */
  total?: number;
  /** Images per second since the start. */
  rate: number;
  /** Seconds left at the current rate; undefined without a total. */
  etaSeconds?: number;
  elapsedSeconds: number;
}

export interface EmbedPipelineOptions {
  /** Images per session.run (default DEFAULT_PIPELINE_BATCH). */
  batchSize?: number;
  /** Batches read and decoding ahead of the one in session.run (default 2). */
  prefetch?: number;
  /** Item count, for the ETA. */
  total?: number;
  /** Called after every batch. */
  onProgress?: (p: PipelineProgress) => void;
}

type Settled = { ok: true; d: DecodedImage } | { ok: false; error: AppError };
interface Pending<K> {
  items: PipelineItem<K>[];
  decoded: Promise<Settled[]>;
}

export async function* embedPipeline<K>(
  embedder: PosterEmbedder,
  source: AsyncIterable<PipelineItem<K>> | Iterable<PipelineItem<K>>,
  opts: EmbedPipelineOptions = {},
): AsyncGenerator<PipelineResult<K>[], void, undefined> {
  const batchSize = Math.max(1, Math.floor(opts.batchSize ?? DEFAULT_PIPELINE_BATCH));
  const prefetch = Math.max(1, Math.floor(opts.prefetch ?? 2));
  const pool = embedder.pool;
  const runner = new BatchRunner(embedder);
  const it: AsyncIterator<PipelineItem<K>> | Iterator<PipelineItem<K>> =
    Symbol.asyncIterator in source ? source[Symbol.asyncIterator]() : source[Symbol.iterator]();
  let exhausted = false;

  const start = async (): Promise<Pending<K> | undefined> => {
    const items: PipelineItem<K>[] = [];
    while (!exhausted && items.length < batchSize) {
      const r = await it.next();
      if (r.done) exhausted = true;
      else items.push(r.value);
    }
    if (items.length === 0) return undefined;
    // Posted to the workers now; they work through them while the inference worker runs the previous batch.
    const decoded = Promise.all(
      items.map((item): Promise<Settled> => {
        const input = item.image ?? item.imagePath;
        if (input === undefined)
          return Promise.resolve({ ok: false, error: new AppError('BAD_USER_INPUT', 'Item has neither image nor imagePath', 'NOT_AN_IMAGE') });
        return pool.decode(input).then(
          (d) => ({ ok: true, d }),
          (err) => ({ ok: false, error: asAppError(err, 'DECODE_FAILED', 'Embedding failed') }),
        );
      }),
    );
    return { items, decoded };
  };

  const t0 = performance.now();
  let done = 0;
  let failed = 0;
  // Up to `prefetch` batches are read and posted to the decode workers ahead of the one being run.
  const queue: Pending<K>[] = [];
  const fill = async (target: number) => {
    while (!exhausted && queue.length < target) {
      const p = await start();
      if (p) queue.push(p);
    }
  };
  await fill(prefetch + 1);
  try {
    while (queue.length > 0) {
      const cur = queue.shift()!;
      await fill(prefetch);
      const settled = await cur.decoded;
      const results = new Array<PipelineResult<K>>(cur.items.length);
      const okIdx: number[] = [];
      const okData: Float32Array[] = [];
      settled.forEach((s, i) => {
        if (s.ok) {
          okIdx.push(i);
          okData.push(s.d.data);
        } else results[i] = { key: cur.items[i].key, error: s.error };
      });
      if (okIdx.length > 0) {
        // An inference failure means the backbone itself is broken: it ends the run (thrown).
        const vectors = await runner.run(okData);
        okIdx.forEach((i, k) => (results[i] = { key: cur.items[i].key, vector: vectors[k] }));
      }
      done += cur.items.length;
      failed += cur.items.length - okIdx.length;
      if (opts.onProgress) {
        const elapsedSeconds = (performance.now() - t0) / 1000;
        const rate = elapsedSeconds > 0 ? done / elapsedSeconds : 0;
        const etaSeconds = opts.total !== undefined && rate > 0 ? Math.max(0, opts.total - done) / rate : undefined;
        opts.onProgress({ done, failed, total: opts.total, rate, etaSeconds, elapsedSeconds });
      }
      yield results;
    }
  } finally {
    // Early exit (break / throw): let in-flight decodes settle so no task outlives the generator.
    await Promise.all(queue.map((p) => p.decoded));
    if (!exhausted) await (it as AsyncIterator<PipelineItem<K>>).return?.();
  }
}
