import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { loadBackbone } from '../src/ml/backbone/manifest';
import { EmbeddingBatcher } from '../src/ml/embedding/embedding-batcher';
import { PosterEmbedder } from '../src/ml/embedding/poster-embedder';
import { preprocess, preprocessSpec } from '../src/ml/image/preprocess';
import { normalize } from '../src/ml/math/vectors';
import { MODELS_DIR, POSTERS_DIR } from './support';

const cosine = (a: Float32Array, b: Float32Array) => a.reduce((s, x, i) => s + x * b[i], 0);

test('a manifest can pick the preprocessing: the 3-view backbone averages squash, top and bottom crops', async () => {
  const manifest = loadBackbone('mobilenetv2-fp32-3view');
  assert.equal(manifest.preprocess, 'squash+topbottom');
  const poster = path.join(POSTERS_DIR, 'images/tt0116209.jpg');
  const three = await PosterEmbedder.create({ modelsDir: MODELS_DIR, backbone: 'mobilenetv2-fp32-3view', device: 'cpu', logger: () => undefined });
  const plain = await PosterEmbedder.create({ modelsDir: MODELS_DIR, device: 'cpu', logger: () => undefined });
  try {
    assert.equal(three.info.cropsPerImage, 3);
    assert.equal(three.info.backbone, 'mobilenetv2-fp32-3view');
    // The three views, embedded one by one: the first is exactly the default (squash) embedding.
    const { data } = await preprocess(poster, preprocessSpec(manifest, { strategy: 'squash+topbottom' }));
    const rows = await plain.embedTensor(data, 3);
    const [squash] = await plain.embedImages([poster]);
    assert.ok(cosine(rows.subarray(0, 1280), squash.vector!) > 0.9999);
    assert.ok(cosine(rows.subarray(1280, 2560), rows.subarray(2560)) < 0.999, 'top and bottom crops differ');
    const expected = normalize(Float32Array.from({ length: 1280 }, (_, j) => rows[j] + rows[1280 + j] + rows[2560 + j]));
    const [viaPipeline] = await three.embedImages([poster]);
    const viaBatcher = await new EmbeddingBatcher(three).embed(poster);
    assert.ok(cosine(viaPipeline.vector!, expected) > 0.9999);
    assert.ok(cosine(viaBatcher, expected) > 0.9999);
  } finally {
    await Promise.all([three.close(), plain.close()]);
  }
});

test('3-view and multi-layer compose: the 4,990-d features of the three views, averaged', async () => {
  const manifest = loadBackbone('mobilenetv2-fp32-3view-multilayer');
  assert.equal(manifest.preprocess, 'squash+topbottom');
  const poster = path.join(POSTERS_DIR, 'images/tt0116209.jpg');
  const both = await PosterEmbedder.create({ modelsDir: MODELS_DIR, backbone: manifest.id, device: 'cpu', logger: () => undefined });
  const layers = await PosterEmbedder.create({ modelsDir: MODELS_DIR, backbone: 'mobilenetv2-fp32-multilayer', device: 'cpu', logger: () => undefined });
  try {
    assert.equal(both.info.cropsPerImage, 3);
    assert.equal(both.info.dim, 4990);
    const { data } = await preprocess(poster, preprocessSpec(manifest, { strategy: 'squash+topbottom' }));
    const rows = await layers.embedTensor(data, 3);
    const expected = normalize(Float32Array.from({ length: 4990 }, (_, j) => rows[j] + rows[4990 + j] + rows[2 * 4990 + j]));
    const [viaPipeline] = await both.embedImages([poster]);
    assert.ok(cosine(viaPipeline.vector!, expected) > 0.9999);
  } finally {
    await Promise.all([both.close(), layers.close()]);
  }
});
