/**
 * The embedding runtime against the real backbone and real posters: manifests, weights verification,
 * provider selection and the embeddings themselves. Needs the weights in MARQUEE_MODELS_DIR
 * (default ../shared/models next to the repo); skipped when that directory is absent.
 */
import { INFERENCE_NICE } from '../src/ml/thread-priority';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import { AppError } from '../src/errors';
import { DEFAULT_BACKBONE, listBackbones, loadBackbone, manifestDirs, validateManifest } from '../src/ml/backbone/manifest';
import { clearChecksumCache, downloadWeights, resolveWeights } from '../src/ml/backbone/model-store';
import { PosterEmbedder } from '../src/ml/embedding/poster-embedder';
import { cropLength, preprocessInto, preprocessSpec } from '../src/ml/image/preprocess';

const ROOT = path.resolve(__dirname, '../..');
const MODELS_DIR = path.resolve(ROOT, process.env.MARQUEE_MODELS_DIR ?? '../shared/models');
const POSTERS = path.resolve(ROOT, '../shared/data/posters/images');
const HAVE_MODELS = fs.existsSync(path.join(MODELS_DIR, 'mobilenetv2-fp32'));
const skip = HAVE_MODELS ? false : `no model weights in ${MODELS_DIR} (set MARQUEE_MODELS_DIR)`;

const posterFiles = (n: number) =>
  fs
    .readdirSync(POSTERS)
    .filter((f) => f.endsWith('.jpg'))
    .sort()
    .slice(0, n)
    .map((f) => path.join(POSTERS, f));
const dot = (a: Float32Array, b: Float32Array) => a.reduce((s, x, i) => s + x * b[i], 0);
const norm = (a: Float32Array) => Math.sqrt(dot(a, a));

async function rejectsWith(p: Promise<unknown>, code: string, reason: string): Promise<AppError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof AppError, `expected AppError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    assert.equal(err.reason, reason, err.message);
    return err;
  }
  assert.fail(`expected ${code}/${reason}, but it resolved`);
}

const tmpDirs: string[] = [];
const tmpDir = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'marquee-ml-'));
  tmpDirs.push(d);
  return d;
};
after(() => tmpDirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

describe('backbone manifests', () => {
  test('the default backbone is listed from the manifest folder', () => {
    const all = listBackbones();
    assert.equal(all[0].id, DEFAULT_BACKBONE);
    const m = loadBackbone();
    assert.equal(m.file, 'mobilenetv2-fp32/mobilenetv2-fp32.onnx');
    assert.equal(m.embedding.dim, 1280);
    assert.equal(m.input.name, 'input');
    assert.deepEqual([m.input.width, m.input.height], [224, 224]);
  });

  test('a second backbone is a manifest, not code; bad manifests and unknown ids are clear errors', () => {
    const dir = tmpDir();
    const other = { ...loadBackbone(), id: 'other-net', file: 'other/other.onnx', embedding: { name: 'feat', dim: 512 } };
    fs.writeFileSync(path.join(dir, 'other-net.json'), JSON.stringify(other));
    const dirs = manifestDirs(dir); // MARQUEE_BACKBONES_DIR=dir
    assert.deepEqual(loadBackbone('other-net', dirs).embedding, { name: 'feat', dim: 512 });
    assert.ok(listBackbones(dirs).some((b) => b.id === DEFAULT_BACKBONE));
    assert.throws(
      () => loadBackbone('nope'),
      (e: unknown) => e instanceof AppError && e.reason === 'UNKNOWN_BACKBONE' && /mobilenetv2-fp32/.test(e.message),
    );
    assert.throws(
      () => validateManifest({ ...other, sha256: 'abc' }, 'x.json'),
      (e: unknown) => e instanceof AppError && e.reason === 'BAD_MANIFEST' && /sha256/.test(e.message),
    );
    assert.throws(
      () => validateManifest({ ...other, file: '../etc/passwd' }, 'x.json'),
      (e: unknown) => e instanceof AppError && e.reason === 'BAD_MANIFEST',
    );
  });
});

describe('model store', { skip }, () => {
  const manifest = loadBackbone();
  const copyModel = (dir: string) => {
    fs.mkdirSync(path.join(dir, 'mobilenetv2-fp32'));
    fs.copyFileSync(path.join(MODELS_DIR, manifest.file), path.join(dir, manifest.file));
  };

  test('verifies the real weights', async () => {
    const w = await resolveWeights(manifest, MODELS_DIR);
    assert.equal(w.sha256, manifest.sha256);
    assert.equal(w.path, path.join(MODELS_DIR, manifest.file));
  });

  test('a missing file names the directory, the file and the hash', async () => {
    const dir = tmpDir();
    const err = await rejectsWith(PosterEmbedder.create({ modelsDir: dir, device: 'cpu', logger: () => {} }), 'SERVICE_UNAVAILABLE', 'MODEL_MISSING');
    assert.match(err.message, new RegExp(dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
    assert.match(err.message, /mobilenetv2-fp32\/mobilenetv2-fp32\.onnx/);
    assert.match(err.message, new RegExp(manifest.sha256));
  });

  test('a truncated file (even after a good verdict was cached) is a checksum mismatch', async () => {
    const dir = tmpDir();
    copyModel(dir);
    await resolveWeights(manifest, dir); // cached verdict for this size + mtime
    const file = path.join(dir, manifest.file);
    fs.truncateSync(file, 1 << 20);
    const err = await rejectsWith(PosterEmbedder.create({ modelsDir: dir, device: 'cpu', logger: () => {} }), 'SERVICE_UNAVAILABLE', 'MODEL_CHECKSUM_MISMATCH');
    assert.match(err.message, new RegExp(`expected ${manifest.sha256}`));
    assert.ok(err.message.includes(dir), err.message);
  });

  test('a SHA256SUMS that disagrees with the manifest is a checksum mismatch', async () => {
    const dir = tmpDir();
    copyModel(dir);
    fs.writeFileSync(path.join(dir, 'mobilenetv2-fp32', 'SHA256SUMS'), `${'0'.repeat(64)}  mobilenetv2-fp32.onnx\n`);
    const err = await rejectsWith(resolveWeights(manifest, dir), 'SERVICE_UNAVAILABLE', 'MODEL_CHECKSUM_MISMATCH');
    assert.match(err.message, /SHA256SUMS/);
    assert.match(err.message, new RegExp(manifest.sha256));
  });

  test('downloadWeights fetches, verifies and refuses a wrong body (local server)', async () => {
    const good = fs.readFileSync(path.join(MODELS_DIR, manifest.file));
    let body: Buffer = good;
    const server = http.createServer((_req, res) => res.end(body));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/w.onnx`;
    try {
      const dir = tmpDir();
      clearChecksumCache();
      const w = await downloadWeights(manifest, dir, { url });
      assert.equal(w.sha256, manifest.sha256);
      const bad = tmpDir();
      body = good.subarray(0, 1000);
      await rejectsWith(downloadWeights(manifest, bad, { url }), 'SERVICE_UNAVAILABLE', 'MODEL_DOWNLOAD_FAILED');
      assert.deepEqual(fs.readdirSync(path.join(bad, 'mobilenetv2-fp32')), []); // no partial file left
    } finally {
      server.close();
    }
  });
});

describe('providers', { skip }, () => {
  test('MARQUEE_DEVICE=webgpu without a GPU is a clear SERVICE_UNAVAILABLE naming the provider', async () => {
    let emb: PosterEmbedder | undefined;
    try {
      emb = await PosterEmbedder.create({ modelsDir: MODELS_DIR, device: 'webgpu', logger: () => {} });
    } catch (err) {
      assert.ok(err instanceof AppError);
      assert.equal(err.code, 'SERVICE_UNAVAILABLE');
      assert.equal(err.reason, 'PROVIDER_UNAVAILABLE');
      assert.match(err.message, /webgpu execution provider failed to start/);
      assert.equal(err.details?.provider, 'webgpu');
      assert.match(String(err.details?.cause), /adapter/i);
      return;
    }
    assert.equal(emb.info.provider, 'webgpu'); // a machine with a GPU: it must then really be webgpu
    await emb.close();
  });

  test('MARQUEE_DEVICE=cuda without the CUDA provider is a clear error too', async () => {
    try {
      const emb = await PosterEmbedder.create({ modelsDir: MODELS_DIR, device: 'cuda', logger: () => {} });
      assert.equal(emb.info.provider, 'cuda');
      await emb.close();
    } catch (err) {
      assert.ok(err instanceof AppError && err.reason === 'PROVIDER_UNAVAILABLE' && /cuda/.test(err.message), String(err));
    }
  });

  test('auto falls back to cpu, records why cuda and webgpu were skipped and logs one line', async () => {
    const lines: string[] = [];
    const emb = await PosterEmbedder.create({ modelsDir: MODELS_DIR, device: 'auto', threads: 2, logger: (l) => lines.push(l) });
    try {
      assert.equal(lines.length, 1);
      assert.match(lines[0], new RegExp(`on ${emb.info.provider}`));
      if (emb.info.provider === 'cpu') {
        assert.deepEqual(
          emb.info.skipped.map((s) => s.provider),
          ['cuda', 'webgpu'],
        );
        for (const s of emb.info.skipped) assert.ok(s.reason.length > 5 && !s.reason.includes('\n'), s.reason);
        assert.match(lines[0], /skipped cuda: .*webgpu: /);
      }
      assert.equal(emb.info.dim, 1280);
    } finally {
      await emb.close();
    }
  });
});

describe('embeddings', { skip }, () => {
  let emb: PosterEmbedder;
  before(async () => {
    emb = await PosterEmbedder.create({ modelsDir: MODELS_DIR, device: 'cpu', threads: 2, decodeWorkers: 2, logger: () => {} });
  });
  after(() => emb?.close());

  test('real posters give 1280-d unit vectors; the same image gives the same vector', async () => {
    const files = posterFiles(4);
    const runs = emb.runCount;
    const r = await emb.embedImages([...files, fs.readFileSync(files[0])]);
    assert.equal(emb.runCount, runs + 1);
    for (const x of r) {
      assert.ok(x.vector, x.error?.message);
      assert.equal(x.vector.length, 1280);
      assert.ok(Math.abs(norm(x.vector) - 1) < 1e-5);
    }
    assert.deepEqual(r[4].vector, r[0].vector); // path vs bytes, same batch
    const again = await emb.embedImages([files[0]]);
    assert.ok(dot(again[0].vector!, r[0].vector!) > 0.9999); // other batch size: same up to float noise
    const again2 = await emb.embedImages([files[0]]);
    assert.deepEqual(again2[0].vector, again[0].vector); // identical run: bit-identical
    assert.ok(dot(r[0].vector!, r[1].vector!) < 0.99); // different posters differ
  });

  test('bad inputs come back per item, not thrown', async () => {
    const [f] = posterFiles(1);
    const r = await emb.embedImages([Buffer.from('just some text'), f, fs.readFileSync(f).subarray(0, 2000), path.join(POSTERS, 'no-such.jpg')]);
    assert.equal(r[0].error?.reason, 'NOT_AN_IMAGE');
    assert.equal(r[1].vector?.length, 1280);
    assert.equal(r[2].error?.reason, 'IMAGE_CORRUPT');
    assert.equal(r[3].error?.reason, 'IMAGE_UNREADABLE');
  });

  test('embedTensor L2-normalises and counts runs', async () => {
    const row = cropLength(emb.spec);
    const batch = new Float32Array(3 * row).map((_, i) => Math.sin(i));
    const before = emb.runCount;
    const out = await emb.embedTensor(batch, 2); // a longer buffer than the rows used is fine
    assert.equal(emb.runCount, before + 1);
    assert.equal(out.length, 2 * 1280);
    assert.ok(Math.abs(norm(out.subarray(0, 1280)) - 1) < 1e-5);
  });

  test('a batch runs in the inference worker: the event loop keeps turning while it runs', async () => {
    const row = cropLength(emb.spec);
    const batch = new Float32Array(32 * row).map((_, i) => Math.cos(i));
    let ticks = 0;
    let running = true;
    const tick = () => {
      if (!running) return;
      ticks++;
      setTimeout(tick, 1);
    };
    setTimeout(tick, 1);
    const t0 = performance.now();
    const out = await emb.embedTensor(batch, 32);
    running = false;
    const ms = performance.now() - t0;
    assert.equal(out.length, 32 * 1280);
    assert.equal(batch[1], Math.fround(Math.cos(1)), 'the caller keeps its (unshared) buffer');
    // On the event loop a 32-poster batch (tens of ms) would let no timer fire until it ended.
    assert.ok(ticks >= 3, `${ticks} timer ticks during a ${ms.toFixed(0)} ms batch`);
  });

  test('inference yields the CPU to the event loop: its thread and ONNX Runtime threads run at a lower priority', () => {
    // Linux keeps a nice value per thread (field 19 of /proc/self/task/<tid>/stat).
    const nices = fs.readdirSync('/proc/self/task').map((tid) => {
      const stat = fs.readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
    });
    assert.equal(nices[0], 0, 'the main thread keeps its priority');
    // The inference thread plus its intra-op threads (the session uses 2 here).
    assert.ok(nices.filter((n) => n === INFERENCE_NICE).length >= 2, `thread nice values: ${nices.join(' ')}`);
  });

  test('strategies: topbottom writes the top and bottom cover crops; centre the middle one', async () => {
    const [f] = posterFiles(1);
    const m = loadBackbone();
    const tb = preprocessSpec(m, { strategy: 'topbottom' });
    const n = cropLength(tb);
    const out = new Float32Array(2 * n + 7);
    const r = await preprocessInto(f, tb, out, 7); // at an offset
    assert.equal(r.crops, 2);
    // Compare with sharp's own cover crops (allow resampling noise).
    for (const [k, position] of [
      [0, 'top'],
      [1, 'bottom'],
    ] as const) {
      const ref = await sharp(f).resize(224, 224, { fit: 'cover', position }).raw().toBuffer();
      let diff = 0;
      for (let i = 0; i < 224 * 224; i++) diff += Math.abs((out[7 + k * n + i] * 0.229 + 0.485) * 255 - ref[i * 3]);
      assert.ok(diff / (224 * 224) < 0.01, `${position} crop mean abs diff ${diff / (224 * 224)}`);
    }
    const centre = new Float32Array(n);
    await preprocessInto(f, preprocessSpec(m, { strategy: 'centre' }), centre, 0);
    const refC = await sharp(f).resize(224, 224, { fit: 'cover', position: 'centre' }).raw().toBuffer();
    let diffC = 0;
    for (let i = 0; i < 224 * 224; i++) diffC += Math.abs((centre[i] * 0.229 + 0.485) * 255 - refC[i * 3]);
    assert.ok(diffC / (224 * 224) < 0.01, `centre crop mean abs diff ${diffC / (224 * 224)}`);
    const tbEmb = await PosterEmbedder.create({ modelsDir: MODELS_DIR, device: 'cpu', threads: 2, strategy: 'topbottom', decodeWorkers: 1, logger: () => {} });
    try {
      assert.equal(tbEmb.info.cropsPerImage, 2);
      const [x] = await tbEmb.embedImages([f]);
      assert.ok(Math.abs(norm(x.vector!) - 1) < 1e-5);
      const [sq] = await emb.embedImages([f]);
      assert.ok(dot(x.vector!, sq.vector!) < 0.9999);
    } finally {
      await tbEmb.close();
    }
  });
});
