/**
 * Services that do not need the backbone (catalogue, stored look-alikes, API keys) run without its
 * weights and without loading ONNX Runtime: it is loaded only when something is embedded.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { mulberry32 } from '../src/ml/math/random';
import { normalize } from '../src/ml/math/vectors';
import { MarqueeServer } from '../src/server/http-server';
import { cleanupAll, errorCode, errorReason, graphqlClient, openApp, POSTERS_DIR, sampleSubset, tmpDir } from './support';

after(cleanupAll);

const onnxLoaded = () => Object.keys(require.cache).some((file) => file.includes(`${path.sep}onnxruntime-node${path.sep}`));

test('without model weights: import, movies, stored look-alikes and keys work; embedding is a clear MODEL_MISSING', async () => {
  const emptyModels = tmpDir();
  const app = await openApp('pglite', (c) => (c.ml.modelsDir = emptyModels));
  const summary = await app.importer.importCsv(sampleSubset(tmpDir(), 20), { progress: false });
  assert.equal(summary.imported, 20);
  // Stored vectors (here: seeded random unit vectors) are all similarity search needs.
  const rng = mulberry32(5);
  const { movies } = await app.movies.list(undefined, 20);
  for (const m of movies) await app.embedding.store(m.id, m.posterSha256!, normalize(Float32Array.from({ length: 1280 }, () => rng() - 0.5)));
  const server = new MarqueeServer(app, { log: () => undefined });
  const { url } = await server.start('127.0.0.1', 0);
  try {
    const gql = graphqlClient(url);
    const page = await gql('{ movies(first: 3) { totalCount edges { node { id title predictedGenres { genre } } } } }');
    assert.equal(page.errors, undefined, JSON.stringify(page.errors));
    assert.equal(page.data.movies.totalCount, 20);
    assert.deepEqual(page.data.movies.edges[0].node.predictedGenres, [], 'no model: no predictions yet');
    const id = String(movies[0].id);
    const similar = await gql('query($id: ID) { similarPosters(poster: {movieId: $id}, k: 5) { score movie { id } } }', { id });
    assert.equal(similar.errors, undefined, JSON.stringify(similar.errors));
    const hits = similar.data.similarPosters as Array<{ score: number; movie: { id: string } }>;
    assert.equal(hits.length, 5);
    assert.ok(hits.every((h, i) => h.movie.id !== id && (i === 0 || hits[i - 1].score >= h.score)));
    assert.match((await app.apiKeys.create('user')).key, /^mq_/);
    assert.equal(onnxLoaded(), false, 'ONNX Runtime was loaded though nothing was embedded');

    const image = fs.readFileSync(path.join(POSTERS_DIR, 'images/tt0116209.jpg')).toString('base64');
    const predicted = await gql('query($b: String) { predictGenres(poster: {imageBase64: $b}) { modelVersion } }', { b: image });
    assert.deepEqual([errorCode(predicted), errorReason(predicted)], ['SERVICE_UNAVAILABLE', 'MODEL_MISSING']);
  } finally {
    await server.stop();
  }
});
