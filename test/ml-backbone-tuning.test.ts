import assert from 'node:assert/strict';
import { parse } from 'csv-parse/sync';
import fs from 'node:fs';
import path from 'node:path';
import { test, after } from 'node:test';
import { loadBackbone, validateManifest } from '../src/ml/backbone/manifest';
import { clearChecksumCache, resolveWeights } from '../src/ml/backbone/model-store';
import { ActivationCache } from '../src/ml/backbone/tuning/activation-cache';
import { decodeModel, tailOps } from '../src/ml/backbone/tuning/onnx-graph';
import { TailModel } from '../src/ml/backbone/tuning/tail-model';
import { tailEmbeddings } from '../src/ml/backbone/tuning/tail-tuner';
import { tuneBackbone } from '../src/ml/backbone/tuning/tune-backbone';
import { PosterEmbedder } from '../src/ml/embedding/poster-embedder';
import { labelsFromRawGenres, multiHot, NUM_LABELS, splitRawGenres } from '../src/ml/genre/labels';
import { loadTf } from '../src/ml/genre/training/tf';
import { preprocessSpec } from '../src/ml/image/preprocess';
import { cleanupAll, MODELS_DIR, POSTERS_DIR, SAMPLE_CSV, tmpDir } from './support';

after(cleanupAll);

const cosine = (a: Float32Array, b: Float32Array) => {
  let d = 0,
    na = 0,
    nb = 0;
  for (let i = 0; i < a.length; i++) {
    d += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return d / Math.sqrt(na * nb);
};

/** The first n posters of sample.csv with their multi-hot labels. */
function samplePosters(n: number): { images: string[]; Y: Uint8Array } {
  const rows = parse<Record<string, string>>(fs.readFileSync(SAMPLE_CSV), { columns: true }).slice(0, n);
  const Y = new Uint8Array(n * NUM_LABELS);
  rows.forEach((r, i) => Y.set(multiHot(labelsFromRawGenres(splitRawGenres(r.genre))), i * NUM_LABELS));
  return { images: rows.map((r) => path.join(POSTERS_DIR, r.img_url)), Y };
}

/** A models directory of our own (the tuned weights are written there) holding a link to the base weights. */
function modelsDirWithBase(): string {
  const dir = tmpDir('marquee-models-');
  const base = loadBackbone();
  fs.mkdirSync(path.join(dir, path.dirname(base.file)), { recursive: true });
  fs.symlinkSync(path.join(MODELS_DIR, base.file), path.join(dir, base.file));
  return dir;
}

test('the TF.js tail from the cut reproduces the ONNX embedding of real posters', async () => {
  const tf = await loadTf();
  const base = loadBackbone();
  const model = decodeModel(fs.readFileSync(path.join(MODELS_DIR, base.file)));
  const { images } = samplePosters(4);
  const cache = await ActivationCache.build({
    file: path.join(tmpDir(), 'acts.u8'),
    key: 'parity',
    model,
    cut: '624',
    spec: preprocessSpec(base, { strategy: 'squash' }),
    images,
    threads: 1,
  });
  assert.deepEqual(cache.shape, [7, 7, 320]);
  const tail = TailModel.fromOnnx(tf, model, '624', tailOps(model, '624', 'embedding'));
  const embedder = await PosterEmbedder.create({ modelsDir: MODELS_DIR, device: 'cpu', logger: () => undefined });
  try {
    const fromTail = tailEmbeddings(tf, tail, cache, Int32Array.from([0, 1, 2, 3]));
    const onnx = await embedder.embedImages(images);
    onnx.forEach((r, i) => assert.ok(cosine(fromTail.subarray(i * 1280, (i + 1) * 1280), r.vector!) > 0.9999, `poster ${i}`));
    // The flipped copy is another view of the same poster: close, not identical.
    const flipped = tailEmbeddings(tf, tail, cache, Int32Array.from([0]), 1);
    const c = cosine(flipped, fromTail.subarray(0, 1280));
    assert.ok(c > 0.7 && c < 0.9999, `flip cosine ${c}`);
  } finally {
    tail.dispose();
    await embedder.close();
  }
});

test('tune-backbone writes a checksummed ONNX and a manifest that the embedder loads; a changed file is refused', async () => {
  const tf = await loadTf();
  const base = loadBackbone();
  const modelsDir = modelsDirWithBase();
  const { images, Y } = samplePosters(24);
  const stages: string[] = [];
  const manifest = await tuneBackbone({
    tf,
    base,
    modelsDir,
    id: 'test-tuned',
    cacheDir: tmpDir(),
    spec: preprocessSpec(base, { strategy: 'squash' }),
    images,
    Y,
    split: { train: Int32Array.from({ length: 18 }, (_, i) => i), val: Int32Array.from({ length: 6 }, (_, i) => 18 + i), name: 'random-42' },
    threads: 1,
    tuning: { epochs: 1, patience: 1, batchSize: 9, tailLearningRate: 1e-2 },
    onProgress: (stage) => stages.push(stage),
  });
  assert.deepEqual([...new Set(stages)], ['cache', 'tune', 'write']);
  assert.equal(manifest.tuning.split, 'random-42');
  const onDisk = validateManifest(JSON.parse(fs.readFileSync(path.join(modelsDir, 'manifests', 'test-tuned.json'), 'utf8')), 'test');
  assert.equal(onDisk.sha256, manifest.sha256);
  assert.match(fs.readFileSync(path.join(modelsDir, 'test-tuned', 'SHA256SUMS'), 'utf8'), new RegExp(`^${manifest.sha256}  test-tuned.onnx`));
  const verified = await resolveWeights(onDisk, modelsDir);
  assert.equal(verified.sha256, manifest.sha256);

  const tuned = await PosterEmbedder.create({ modelsDir, backbone: onDisk, device: 'cpu', logger: () => undefined });
  const plain = await PosterEmbedder.create({ modelsDir: MODELS_DIR, device: 'cpu', logger: () => undefined });
  try {
    const [a] = await tuned.embedImages([images[0]]);
    const [b] = await plain.embedImages([images[0]]);
    assert.equal(a.vector!.length, 1280);
    assert.ok(cosine(a.vector!, b.vector!) > 0.5, 'the tuned backbone stays close to the base');
  } finally {
    await Promise.all([tuned.close(), plain.close()]);
  }

  // One changed byte: the checksum path refuses the file and names what it expected.
  const file = path.join(modelsDir, onDisk.file);
  const bytes = fs.readFileSync(file);
  bytes[bytes.length - 1] ^= 1;
  fs.writeFileSync(file, bytes);
  clearChecksumCache();
  await assert.rejects(
    resolveWeights(onDisk, modelsDir),
    (e: { reason?: string; message: string }) => e.reason === 'MODEL_CHECKSUM_MISMATCH' && e.message.includes(manifest.sha256),
  );
});
