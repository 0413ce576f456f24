/**
 * Embedding throughput: inference only (pre-decoded tensors) at several batch sizes, decode only
 * through the worker pool, and the end-to-end bulk pipeline (files -> vectors) on real posters.
 * Called by bench/run.ts; returns flat name -> number figures (img/s unless the name says otherwise).
 */
import fs from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { DecodePool } from '../src/ml/decode-pool';
import { embedPipeline } from '../src/ml/embed-pipeline';
import { PosterEmbedder, type Device } from '../src/ml/poster-embedder';
import { cropLength, preprocessInto, type ResizeStrategy } from '../src/ml/preprocess';

export interface BenchEmbeddingOptions {
  /** Default: $MARQUEE_MODELS_DIR or ../shared/models next to the repo. */
  modelsDir?: string;
  /** Default: ../shared/data/posters/images next to the repo. */
  postersDir?: string;
  /** Posters for the decode and pipeline runs (default 2000). */
  images?: number;
  /** ORT intra-op threads (default 2). */
  threads?: number;
  device?: Device;
  /** Decode workers (default: cores). */
  decodeWorkers?: number;
  /** Inference-only batch sizes (default 1, 8, 16, 32, 64). */
  batchSizes?: number[];
  /** Pipeline batch size (default 64). */
  pipelineBatch?: number;
  /** Minimum seconds per inference batch size (default 2.5). */
  secondsPerBatchSize?: number;
  strategy?: ResizeStrategy;
  /** Also time a plain sequential loop (sharp on the main thread, then ORT batch 32) on a few posters. */
  sequentialBaseline?: boolean;
  log?: (line: string) => void;
}

const ROOT = path.resolve(__dirname, '../..');

export async function benchEmbedding(opts: BenchEmbeddingOptions = {}): Promise<Record<string, number>> {
  const modelsDir = opts.modelsDir ?? path.resolve(ROOT, process.env.MARQUEE_MODELS_DIR ?? '../shared/models');
  const postersDir = opts.postersDir ?? path.resolve(ROOT, '../shared/data/posters/images');
  const n = opts.images ?? 2000;
  const threads = opts.threads ?? 2;
  const batchSizes = opts.batchSizes ?? [1, 8, 16, 32, 64];
  const pipelineBatch = opts.pipelineBatch ?? 64;
  const minSeconds = opts.secondsPerBatchSize ?? 2.5;
  const log = opts.log ?? ((l: string) => process.stderr.write(l + '\n'));
  const files = fs.readdirSync(postersDir).filter((f) => f.endsWith('.jpg')).sort().slice(0, n).map((f) => path.join(postersDir, f));
  const out: Record<string, number> = {};

  const emb = await PosterEmbedder.create({ modelsDir, device: opts.device ?? 'cpu', threads, strategy: opts.strategy, decodeWorkers: opts.decodeWorkers, logger: log });
  out.threads = threads;
  out.decode_workers = emb.pool.size;
  try {
    // 1. Inference only: real posters decoded once, the same tensor run again and again.
    const rows = Math.max(...batchSizes) * emb.info.cropsPerImage;
    const row = cropLength(emb.spec);
    const tensor = new Float32Array(rows * row);
    for (let i = 0; i < rows; i++) await emb.pool.decodeInto(files[i % files.length], tensor, i * row, { strategy: 'squash' });
    for (const b of batchSizes) {
      await emb.embedTensor(tensor, b); // warm-up for this shape
      let images = 0;
      const t0 = performance.now();
      let runs = 0;
      while (runs < 2 || performance.now() - t0 < minSeconds * 1000) {
        await emb.embedTensor(tensor, b);
        images += b;
        runs++;
      }
      out[`inference_b${b}_img_s`] = round(images / ((performance.now() - t0) / 1000));
      log(`[bench] inference batch ${b}: ${out[`inference_b${b}_img_s`]} img/s`);
    }

    // 2. Decode only, through the pool (files read by the workers), a bounded number in flight.
    {
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      let next = 0;
      const worker = async () => {
        while (next < files.length) await emb.pool.decode(files[next++]);
      };
      await Promise.all(Array.from({ length: 4 * emb.pool.size }, worker));
      const s = (performance.now() - t0) / 1000;
      const cpu = process.cpuUsage(cpu0);
      out.decode_pool_img_s = round(files.length / s);
      out.decode_cpu_ms_per_img = round((cpu.user + cpu.system) / 1000 / files.length, 3);
      log(`[bench] decode pool (${emb.pool.size} workers): ${out.decode_pool_img_s} img/s, ${out.decode_cpu_ms_per_img} ms CPU per image`);
    }

    // 3. End to end: file paths in, vectors out, through embedPipeline.
    {
      const t0 = performance.now();
      let ok = 0;
      for await (const batch of embedPipeline(emb, files.map((f) => ({ key: f, imagePath: f })), { batchSize: pipelineBatch })) {
        ok += batch.filter((r) => r.vector).length;
      }
      const s = (performance.now() - t0) / 1000;
      out.pipeline_img_s = round(files.length / s);
      out.pipeline_images = files.length;
      out.pipeline_failed = files.length - ok;
      const ref = out[`inference_b${pipelineBatch}_img_s`];
      if (ref) out.pipeline_vs_inference = round(out.pipeline_img_s / ref, 3);
      log(`[bench] pipeline batch ${pipelineBatch} on ${files.length} posters: ${out.pipeline_img_s} img/s` + (ref ? ` (${Math.round(100 * out.pipeline_vs_inference)}% of inference-only)` : ''));
    }

    // 4. Optional reference: the naive loop (decode on the main thread, then run), batch 32.
    if (opts.sequentialBaseline) {
      const some = files.slice(0, Math.min(files.length, 640));
      const session = await ort.InferenceSession.create(emb.info.modelPath, { intraOpNumThreads: threads, interOpNumThreads: 1 });
      const buf = new Float32Array(32 * row);
      const t0 = performance.now();
      for (let i = 0; i < some.length; i += 32) {
        const chunk = some.slice(i, i + 32);
        await Promise.all(chunk.map((f, k) => preprocessInto(f, { ...emb.spec, strategy: 'squash' }, buf, k * row)));
        await session.run({ input: new ort.Tensor('float32', buf.subarray(0, chunk.length * row), [chunk.length, 3, emb.spec.height, emb.spec.width]) }, ['embedding']);
      }
      out.sequential_b32_img_s = round(some.length / ((performance.now() - t0) / 1000));
      await session.release();
      log(`[bench] sequential decode-then-run batch 32: ${out.sequential_b32_img_s} img/s`);
    }
  } finally {
    await emb.close();
  }
  return out;
}

const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;

if (require.main === module) {
  const images = Number(process.argv[2] ?? 2000);
  benchEmbedding({ images, sequentialBaseline: process.argv.includes('--sequential') }).then(
    (r) => console.log(JSON.stringify(r, null, 2)),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
