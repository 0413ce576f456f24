import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { withFeatureOutput, type FeaturePart } from '../src/ml/backbone/feature-graph';
import { loadBackbone, validateManifest, type BackboneManifest } from '../src/ml/backbone/manifest';
import { openCpuSession } from '../src/ml/backbone/onnx-session';
import { decodeModel, encodeModel, withOutputs } from '../src/ml/backbone/tuning/onnx-graph';
import { PosterEmbedder } from '../src/ml/embedding/poster-embedder';
import { preprocess, preprocessSpec } from '../src/ml/image/preprocess';
import { MODELS_DIR, POSTERS_DIR } from './support';

const cosine = (a: Float32Array, b: Float32Array) => {
  let ab = 0,
    aa = 0,
    bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i] * b[i];
    aa += a[i] * a[i];
    bb += b[i] * b[i];
  }
  return ab / Math.sqrt(aa * bb);
};
const norm = (a: Float32Array) => Math.sqrt(a.reduce((s, x) => s + x * x, 0));
const POSTERS = ['tt0116209', 'tt0035423', 'tt0062456'].map((id) => path.join(POSTERS_DIR, `images/${id}.jpg`));

const PARTS: FeaturePart[] = [
  { tensor: 'embedding', pool: 'none', dim: 1280 },
  { tensor: '452', pool: 'avg', dim: 160 },
  { tensor: '426', pool: 'std', dim: 96 },
  { tensor: 'logits', pool: 'none', transform: 'softmax', dim: 1000 },
];

function manifestWith(parts: FeaturePart[], dim = parts.reduce((s, p) => s + p.dim, 0)): BackboneManifest {
  const base = loadBackbone();
  return validateManifest({ ...base, id: 'multilayer-test', embedding: { name: 'features', dim, parts } }, 'test');
}

test('multi-layer features: each part pooled from the base graph, normalised and concatenated (parity on real posters)', async () => {
  const multi = await PosterEmbedder.create({ modelsDir: MODELS_DIR, backbone: manifestWith(PARTS), device: 'cpu', logger: () => undefined });
  const base = loadBackbone();
  const probe = await openCpuSession(encodeModel(withOutputs(decodeModel(fs.readFileSync(path.join(MODELS_DIR, base.file))), ['452', '426'])), 1);
  try {
    assert.equal(multi.info.dim, 2536);
    const results = await multi.embedImages(POSTERS);
    const spec = preprocessSpec(base, { strategy: 'squash' });
    for (const [i, r] of results.entries()) {
      const v = r.vector!;
      assert.equal(v.length, 2536);
      const [emb, b452, s426, soft] = [v.subarray(0, 1280), v.subarray(1280, 1440), v.subarray(1440, 1536), v.subarray(1536)];
      // every part weighs the same: unit norm before the whole vector is normalised
      for (const part of [emb, b452, s426, soft]) assert.ok(Math.abs(norm(part) - 0.5) < 1e-4, `part norm ${norm(part)}`);
      // the reference: the base model's own outputs, pooled here
      const { data } = await preprocess(POSTERS[i], spec);
      const out = await probe.run({ input: new ort.Tensor('float32', data, [1, 3, 224, 224]) });
      assert.ok(cosine(emb, out.embedding.data as Float32Array) > 0.9999);
      const t452 = out['452'].data as Float32Array; // [1, 160, 7, 7]
      const avg = Float32Array.from({ length: 160 }, (_, c) => t452.subarray(c * 49, (c + 1) * 49).reduce((s, x) => s + x, 0) / 49);
      assert.ok(cosine(b452, avg) > 0.9999);
      const t426 = out['426'].data as Float32Array; // [1, 96, 14, 14]
      const std = Float32Array.from({ length: 96 }, (_, c) => {
        const xs = t426.subarray(c * 196, (c + 1) * 196);
        const m = xs.reduce((s, x) => s + x, 0) / 196;
        return Math.sqrt(xs.reduce((s, x) => s + (x - m) ** 2, 0) / 196);
      });
      assert.ok(cosine(s426, std) > 0.999);
      const logits = out.logits.data as Float32Array;
      const mx = Math.max(...logits);
      const e = logits.map((x) => Math.exp(x - mx));
      assert.ok(cosine(soft, e) > 0.9999);
    }
    assert.ok(cosine(results[0].vector!, results[1].vector!) < 0.99, 'different posters, different features');
  } finally {
    await Promise.all([multi.close(), probe.release()]);
  }
});

test('multi-layer manifests: parts are checked when the manifest is read, tensors when the model is loaded', async () => {
  assert.throws(() => manifestWith(PARTS, 1280), /parts sum to 2536/);
  assert.throws(() => manifestWith([{ tensor: '452', pool: 'mean' as never, dim: 160 }]), /pool must be one of/);
  assert.throws(() => manifestWith([{ tensor: '452', pool: 'avg', transform: 'softmax', dim: 160 }]), /transform/);
  const model = decodeModel(fs.readFileSync(path.join(MODELS_DIR, loadBackbone().file)));
  assert.throws(() => withFeatureOutput(model, [{ tensor: 'nope', pool: 'avg', dim: 1 }], 'features'), /no tensor nope/);
  assert.throws(() => withFeatureOutput(model, [{ tensor: '452', pool: 'avg', dim: 160 }], 'embedding'), /already has a tensor named embedding/);
  await assert.rejects(
    PosterEmbedder.create({
      modelsDir: MODELS_DIR,
      backbone: manifestWith([{ tensor: '452', pool: 'avg', dim: 100 }]),
      device: 'cpu',
      logger: () => undefined,
    }),
    (err: Error & { reason?: string }) => err.reason === 'MODEL_MISMATCH' && /output dim 160 is not 100/.test(err.message),
  );
});

test('the registered multi-layer backbone: 4,990-d from the default weights, every part a tensor of the graph', () => {
  const m = loadBackbone('mobilenetv2-fp32-multilayer');
  const base = loadBackbone();
  assert.equal(m.file, base.file);
  assert.equal(m.sha256, base.sha256);
  assert.equal(m.embedding.dim, 4990);
  assert.equal(m.embedding.parts?.[0].tensor, 'embedding');
  const model = decodeModel(fs.readFileSync(path.join(MODELS_DIR, base.file)));
  const edited = withFeatureOutput(model, m.embedding.parts, m.embedding.name);
  assert.ok(edited.graph!.output!.some((o) => o.name === 'features'));
});
