/**
 * Request coalescing and the bulk pipeline against the real backbone: concurrent requests share
 * session runs, bad images fail alone with their reasons, the queue is bounded, close() drains.
 * Needs the weights in MARQUEE_MODELS_DIR (default ../shared/models); skipped when absent.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import { AppError } from '../src/errors';
import { embedPipeline, type PipelineProgress, type PipelineResult } from '../src/ml/embedding/embed-pipeline';
import { EmbeddingBatcher } from '../src/ml/embedding/embedding-batcher';
import { PosterEmbedder } from '../src/ml/embedding/poster-embedder';
import { mulberry32 } from '../src/ml/math/random';

const ROOT = path.resolve(__dirname, '../..');
const MODELS_DIR = path.resolve(ROOT, process.env.MARQUEE_MODELS_DIR ?? '../shared/models');
const POSTERS = path.resolve(ROOT, '../shared/data/posters/images');
const skip = fs.existsSync(path.join(MODELS_DIR, 'mobilenetv2-fp32')) ? false : `no model weights in ${MODELS_DIR} (set MARQUEE_MODELS_DIR)`;

/** Deterministic garbage (a fixed seed keeps the decoder's verdict on it stable). */
const garbage = (seed: number, n: number) => {
  const rng = mulberry32(seed);
  return Buffer.from(Array.from({ length: n }, () => Math.floor(rng() * 256)));
};
const dot = (a: Float32Array, b: Float32Array) => a.reduce((s, x, i) => s + x * b[i], 0);
const settledNow = <T>(p: Promise<T>) =>
  Promise.race([
    p.then(
      () => 'resolved',
      (e: unknown) => e,
    ),
    new Promise((r) => setImmediate(() => r('pending'))),
  ]);

describe('EmbeddingBatcher', { skip }, () => {
  let emb: PosterEmbedder;
  let files: string[];
  let images: Buffer[];
  let singles: Float32Array[];

  before(async () => {
    emb = await PosterEmbedder.create({ modelsDir: MODELS_DIR, device: 'cpu', threads: 2, decodeWorkers: 2, logger: () => {} });
    files = fs
      .readdirSync(POSTERS)
      .filter((f) => f.endsWith('.jpg'))
      .sort()
      .slice(100, 124)
      .map((f) => path.join(POSTERS, f));
    images = files.map((f) => fs.readFileSync(f));
    singles = [];
    for (const img of images) {
      const [r] = await emb.embedImages([img]); // one image per run: the single-request reference
      singles.push(r.vector!);
    }
  });
  after(() => emb?.close());

  test('24 concurrent requests share a few session runs and equal their single-request embeddings', async () => {
    const b = new EmbeddingBatcher(emb, { maxBatch: 32, maxWaitMs: 4 });
    const runs = emb.runCount;
    const out = await Promise.all(images.map((img) => b.embed(img)));
    const used = emb.runCount - runs;
    assert.ok(used <= 6, `expected coalescing, got ${used} runs for 24 requests`);
    out.forEach((v, i) => {
      assert.equal(v.length, 1280);
      assert.ok(dot(v, singles[i]) > 0.9999, `request ${i}: cosine ${dot(v, singles[i])}`);
    });
    await b.close();
  });

  test('bad images inside a concurrent batch fail only themselves, with their reasons', async () => {
    const b = new EmbeddingBatcher(emb, { maxBatch: 32 });
    const jpeg = images[0];
    const bad: Array<[Buffer, string]> = [
      [garbage(1, 4096), 'NOT_AN_IMAGE'], // random bytes
      [Buffer.from('title,year\nAlien,1979\n'), 'NOT_AN_IMAGE'], // a text file
      [jpeg.subarray(0, Math.floor(jpeg.length / 2)), 'IMAGE_CORRUPT'], // truncated JPEG
      [Buffer.concat([jpeg.subarray(0, 4), garbage(2, 4096)]), 'IMAGE_CORRUPT'], // JPEG magic, garbage after
      [Buffer.concat([jpeg.subarray(0, 700), garbage(3, 3000), jpeg.subarray(3700)]), 'IMAGE_CORRUPT'], // damaged scan data
    ];
    const good = images.slice(0, 12);
    const mixed: Array<{ img: Buffer; reason?: string; i?: number }> = good.map((img, i) => ({ img, i }));
    bad.forEach(([img, reason], k) => mixed.splice(2 + k * 3, 0, { img, reason }));
    const runs = emb.runCount;
    const settled = await Promise.allSettled(mixed.map((m) => b.embed(m.img)));
    assert.ok(emb.runCount - runs <= 6, `${emb.runCount - runs} runs for ${mixed.length} requests`);
    settled.forEach((s, k) => {
      const m = mixed[k];
      if (m.reason) {
        assert.equal(s.status, 'rejected');
        const e = s.reason;
        assert.ok(e instanceof AppError);
        assert.equal(e.code, 'BAD_USER_INPUT');
        assert.equal(e.reason, m.reason, e.message);
      } else {
        assert.equal(s.status, 'fulfilled', String((s as PromiseRejectedResult).reason));
        assert.ok(dot(s.value, singles[m.i!]) > 0.9999);
      }
    });
    await b.close();
  });

  test('a full queue rejects at once with QUEUE_FULL; admitted requests still succeed', async () => {
    const b = new EmbeddingBatcher(emb, { maxQueue: 4 });
    const ps = images.slice(0, 10).map((img) => b.embed(img));
    const states = await Promise.all(ps.map(settledNow));
    states.slice(4).forEach((s) => {
      assert.ok(s instanceof AppError, `expected an immediate rejection, got ${String(s)}`);
      assert.equal(s.code, 'SERVICE_UNAVAILABLE');
      assert.equal(s.reason, 'QUEUE_FULL');
    });
    const ok = await Promise.all(ps.slice(0, 4));
    ok.forEach((v, i) => assert.ok(dot(v, singles[i]) > 0.9999));
    assert.equal(b.pending, 0);
    await b.close();
  });

  test('oversize images are IMAGE_TOO_LARGE (pixels and bytes)', async () => {
    const b = new EmbeddingBatcher(emb);
    const huge = await sharp({ create: { width: 10000, height: 10000, channels: 3, background: '#336699' } })
      .png({ compressionLevel: 1 })
      .toBuffer();
    const [px, bytes, fine] = await Promise.allSettled([
      b.embed(huge),
      b.embed(Buffer.concat([images[0], Buffer.alloc(21 * 1024 * 1024)])),
      b.embed(images[1]),
    ]);
    for (const s of [px, bytes]) {
      assert.equal(s.status, 'rejected');
      const e = s.reason;
      assert.ok(e instanceof AppError && e.code === 'BAD_USER_INPUT' && e.reason === 'IMAGE_TOO_LARGE', String(e));
    }
    assert.match((px as PromiseRejectedResult).reason.message, /10000x10000/);
    assert.equal(fine.status, 'fulfilled');
    await b.close();
  });

  test('close() drains admitted requests, then refuses new ones', async () => {
    const b = new EmbeddingBatcher(emb, { maxWaitMs: 50 });
    const ps = images.slice(0, 5).map((img) => b.embed(img));
    await b.close();
    const states = await Promise.all(ps.map(settledNow));
    assert.deepEqual(states, Array(5).fill('resolved'));
    await assert.rejects(b.embed(images[0]), (e: unknown) => e instanceof AppError && e.reason === 'SHUTTING_DOWN');
  });

  test('embedPipeline: batches in order, per-item errors, progress, vectors equal the single ones', async () => {
    // eslint-disable-next-line @typescript-eslint/require-await -- an async source, like embedMissing's paging reader
    async function* source() {
      for (let i = 0; i < files.length; i++) {
        yield { key: `p${i}`, imagePath: files[i] };
        if (i === 5) yield { key: 'missing', imagePath: path.join(POSTERS, 'no-such-poster.jpg') };
        if (i === 9) yield { key: 'text', image: Buffer.from('not an image') };
      }
    }
    const progress: PipelineProgress[] = [];
    const batches: PipelineResult<string>[][] = [];
    const runs = emb.runCount;
    for await (const batch of embedPipeline(emb, source(), { batchSize: 8, total: 26, onProgress: (p) => progress.push(p) })) batches.push(batch);
    assert.deepEqual(
      batches.map((b) => b.length),
      [8, 8, 8, 2],
    );
    assert.equal(emb.runCount - runs, 4);
    const flat = batches.flat();
    assert.equal(flat.find((r) => r.key === 'missing')?.error?.reason, 'IMAGE_UNREADABLE');
    assert.equal(flat.find((r) => r.key === 'text')?.error?.reason, 'NOT_AN_IMAGE');
    const ok = flat.filter((r) => r.vector);
    assert.deepEqual(
      ok.map((r) => r.key),
      files.map((_, i) => `p${i}`),
    );
    ok.forEach((r, i) => assert.ok(dot(r.vector!, singles[i]) > 0.9999));
    const last = progress[progress.length - 1];
    assert.equal(last.done, 26);
    assert.equal(last.failed, 2);
    assert.equal(last.etaSeconds, 0);
    assert.ok(last.rate > 0);
  });
});
