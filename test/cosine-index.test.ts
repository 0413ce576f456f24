import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { loadConfig } from '../src/config';
import { CompactCosineIndex } from '../src/ml/index/compact-index';
import { CosineIndex } from '../src/ml/index/cosine-index';
import { TopK } from '../src/ml/index/top-k';
import { mulberry32 } from '../src/ml/math/random';
import { dot, normalize } from '../src/ml/math/vectors';
import { SimilarityService } from '../src/services/similarity.service';
import { cleanupAll, tmpDir } from './support';

after(cleanupAll);

const DIM = 48;

/** Clustered unit vectors, like poster embeddings: 40 centres, items scattered around them. */
function clustered(n: number, seed: number): Float32Array[] {
  const rng = mulberry32(seed);
  const centres = Array.from({ length: 40 }, () => normalize(Float32Array.from({ length: DIM }, () => rng() - 0.5)));
  return Array.from({ length: n }, () => {
    const c = centres[Math.floor(rng() * centres.length)];
    return normalize(Float32Array.from(c, (x) => x + (rng() - 0.5) * 0.3));
  });
}

const recall = (a: Array<{ id: number }>, b: Array<{ id: number }>) => a.filter((x) => b.some((y) => y.id === x.id)).length / b.length;

test('graph search and neighbour lists agree with exact search; filters apply before the cut; adds and deletes are seen', async () => {
  const vectors = clustered(4000, 7);
  const index = new CosineIndex(DIM, { exactBelow: 300 });
  vectors.forEach((v, i) => index.add(i + 1, v));
  // Before the graph exists, every search is exact.
  assert.deepEqual(index.search(vectors[0], 10), index.exact(vectors[0], 10));
  await index.buildGraph(tmpDir());
  assert.ok(index.hasGraph);

  let rGraph = 0;
  let rList = 0;
  for (let q = 0; q < 200; q++) {
    const id = 1 + q * 17;
    const v = vectors[id - 1];
    const truth = index.exact(v, 10, (x) => x !== id);
    rGraph += recall(index.search(v, 10, undefined, new Set([id])), truth);
    const list = index.similarTo(id, 10);
    assert.ok(
      list.every((h) => h.id !== id),
      'never the item itself',
    );
    for (let i = 1; i < list.length; i++) assert.ok(list[i - 1].score >= list[i].score, 'best first');
    rList += recall(list, truth);
  }
  assert.ok(rGraph / 200 >= 0.95, `graph recall@10 ${rGraph / 200}`);
  assert.ok(rList / 200 >= 0.95, `neighbour-list recall@10 ${rList / 200}`);

  const even = (x: number) => x % 2 === 0;
  // A filter admitting ~1 in 20 items: every result passes it and there are still k of them.
  const rare = (x: number) => x % 20 === 0;
  const filtered = index.search(vectors[5], 25, rare);
  assert.equal(filtered.length, 25);
  assert.ok(filtered.every((h) => rare(h.id)));
  assert.ok(recall(filtered, index.exact(vectors[5], 25, rare)) >= 0.95);
  // Filtered "like this item" requests: from the neighbour list when it holds k admitted items, else a search.
  let rFiltered = 0;
  for (let q = 0; q < 50; q++) {
    const id = 2 + q * 13;
    const got = index.similarTo(id, 10, even);
    assert.equal(got.length, 10);
    assert.ok(got.every((h) => even(h.id) && h.id !== id));
    rFiltered += recall(
      got,
      index.exact(vectors[id - 1], 10, (x) => even(x) && x !== id),
    );
    assert.ok(index.similarTo(id, 5, rare).every((h) => rare(h.id)));
  }
  assert.ok(rFiltered / 50 >= 0.95, `filtered recall@10 ${rFiltered / 50}`);
  // A broad filter goes through the graph and still returns k admitted items.
  const broad = index.search(vectors[9], 30, even);
  assert.equal(broad.length, 30);
  assert.ok(broad.every((h) => even(h.id)));

  // An added near-duplicate of item 1 becomes its nearest neighbour (the stale list is bypassed).
  const twin = normalize(Float32Array.from(vectors[0], (x, i) => x + (i === 0 ? 1e-3 : 0)));
  index.add(9001, twin);
  assert.equal(index.similarTo(1, 1)[0].id, 9001);
  assert.equal(index.search(twin, 1)[0].id, 9001);
  // A deleted item disappears from lists and searches.
  index.remove(9001);
  assert.ok(index.similarTo(1, 10).every((h) => h.id !== 9001));
  assert.ok(index.search(twin, 10).every((h) => h.id !== 9001));
  assert.equal(index.size, 4000);

  // The slots a filter admits are kept per filter: a repeated filter sees adds and deletes all the same.
  const before = index.search(twin, 5, rare);
  assert.deepEqual(index.search(twin, 5, rare), before, 'the cached admitted slots give the same answer');
  index.add(9020, twin);
  assert.equal(index.search(twin, 1, rare)[0].id, 9020, 'an added item that passes the filter is found');
  assert.equal(index.similarTo(1, 1, rare)[0].id, 9020);
  index.remove(9020);
  assert.deepEqual(index.search(twin, 5, rare), before, 'a deleted one is gone');

  // A filter that keeps coming back gets neighbour lists (computed in a worker): its "like this item"
  // requests become lookups that agree with exact search, until an add or delete makes them stale.
  assert.equal(index.filteredListsHeld, 0);
  assert.equal(await index.computeFilteredLists(rare), true);
  assert.equal(index.filteredListsHeld, 1);
  let rListed = 0;
  for (let q = 0; q < 50; q++) {
    const id = 3 + q * 11;
    const got = index.similarTo(id, 10, rare);
    assert.equal(got.length, 10);
    assert.ok(got.every((h) => rare(h.id) && h.id !== id));
    for (let i = 1; i < got.length; i++) assert.ok(got[i - 1].score >= got[i].score, 'best first');
    rListed += recall(
      got,
      index.exact(vectors[id - 1], 10, (x) => rare(x) && x !== id),
    );
  }
  assert.ok(rListed / 50 >= 0.95, `filtered-list recall@10 ${rListed / 50}`);
  index.add(9040, twin);
  assert.equal(index.filteredListsHeld, 0, 'an add makes them stale');
  assert.equal(index.similarTo(1, 1, rare)[0].id, 9040);
  index.remove(9040);
});

test('a rebuilt index loads its graph and neighbour lists from the cache', async () => {
  const vectors = clustered(1200, 11);
  const dir = tmpDir();
  const build = async () => {
    const index = new CosineIndex(DIM, { exactBelow: 100 });
    vectors.forEach((v, i) => index.add(i + 1, v));
    const t = Date.now();
    await index.buildGraph(dir);
    return { index, ms: Date.now() - t };
  };
  const first = await build();
  const second = await build();
  assert.deepEqual(second.index.similarTo(3, 10), first.index.similarTo(3, 10));
  assert.deepEqual(second.index.search(vectors[8], 10), first.index.search(vectors[8], 10));
});

test('the compact index (int8 codes of a projection, graph on a smaller one) finds the exact neighbours; filters, adds and deletes', async () => {
  const vectors = clustered(4000, 13);
  const index = new CompactCosineIndex(DIM, { exactBelow: 300, graphDims: 32, storeDims: 0 });
  vectors.forEach((v, i) => index.add(i + 1, v));
  // Exact fp32 truth, computed here.
  const truth = (q: Float32Array, k: number, f: (id: number) => boolean) => {
    const top = new TopK(k);
    vectors.forEach((v, i) => f(i + 1) && top.push(i + 1, dot(q, 0, v, 0, DIM)));
    return top.result();
  };
  // Before the graph: a scan of the full vectors' int8 codes.
  assert.ok(
    recall(
      index.search(vectors[0], 10),
      truth(vectors[0], 10, () => true),
    ) >= 0.9,
  );
  await index.buildGraph(tmpDir());
  assert.ok(index.hasGraph);
  await index.buildGraph(); // built once; a second call is a no-op
  const even = (x: number) => x % 2 === 0;
  const rare = (x: number) => x % 25 === 0;
  let r = 0;
  let rEven = 0;
  let rRare = 0;
  for (let q = 0; q < 100; q++) {
    const id = 1 + q * 37;
    const v = vectors[id - 1];
    const got = index.similarTo(id, 10);
    assert.ok(got.every((h) => h.id !== id));
    for (let i = 1; i < got.length; i++) assert.ok(got[i - 1].score >= got[i].score, 'best first');
    r += recall(
      got,
      truth(v, 10, (x) => x !== id),
    );
    const e = index.search(v, 10, even);
    assert.ok(e.length === 10 && e.every((h) => even(h.id)));
    rEven += recall(e, truth(v, 10, even));
    const rr = index.search(v, 10, rare);
    assert.ok(rr.length === 10 && rr.every((h) => rare(h.id)));
    rRare += recall(rr, truth(v, 10, rare));
  }
  assert.ok(r / 100 >= 0.95, `recall@10 ${r / 100}`);
  assert.ok(rEven / 100 >= 0.95, `filtered (1 in 2) recall@10 ${rEven / 100}`);
  assert.ok(rRare / 100 >= 0.95, `filtered (1 in 25) recall@10 ${rRare / 100}`);
  // The decoded vector is close to the original.
  assert.ok(dot(index.get(7)!, 0, vectors[6], 0, DIM) > 0.98);
  // Adds after the build join the graph; deletes leave it.
  const twin = normalize(Float32Array.from(vectors[0], (x, i) => x + (i === 0 ? 1e-3 : 0)));
  index.add(9001, twin);
  assert.equal(index.similarTo(1, 1)[0].id, 9001);
  index.remove(9001);
  assert.ok(index.similarTo(1, 10).every((h) => h.id !== 9001));
  assert.equal(index.size, 4000);
});

test('MARQUEE_INDEX_STORAGE: auto picks fp32 up to MARQUEE_INDEX_COMPACT_ABOVE posters, compact above; bad values are refused', () => {
  const auto = loadConfig({}).index;
  assert.deepEqual(auto, { storage: 'auto', compactAbove: 150_000, exactBelow: 1500, rerankPerK: 8 });
  assert.equal(loadConfig({ MARQUEE_INDEX_RERANK_PER_K: '16' }).index.rerankPerK, 16);
  assert.throws(() => loadConfig({ MARQUEE_INDEX_RERANK_PER_K: '0' }), /MARQUEE_INDEX_RERANK_PER_K/);
  assert.equal(SimilarityService.storageFor(auto, 22_291), 'fp32');
  assert.equal(SimilarityService.storageFor(auto, 1_000_000), 'compact');
  assert.equal(SimilarityService.storageFor(loadConfig({ MARQUEE_INDEX_COMPACT_ABOVE: '1000' }).index, 22_291), 'compact');
  assert.equal(SimilarityService.storageFor(loadConfig({ MARQUEE_INDEX_STORAGE: 'fp32' }).index, 1_000_000), 'fp32');
  assert.equal(SimilarityService.storageFor(loadConfig({ MARQUEE_INDEX_STORAGE: 'compact' }).index, 10), 'compact');
  assert.throws(() => loadConfig({ MARQUEE_INDEX_STORAGE: 'fp16' }), /MARQUEE_INDEX_STORAGE must be one of auto, fp32, compact/);
  assert.throws(() => loadConfig({ MARQUEE_INDEX_COMPACT_ABOVE: 'many' }), /MARQUEE_INDEX_COMPACT_ABOVE must be an integer/);
});

test('the compact index with a stored projection: vectors near a low-dimensional subspace (as poster embeddings are) keep their neighbours', async () => {
  // Clustered points in a random 16-dimensional subspace of 48, plus a little noise off it.
  const rng = mulberry32(17);
  const basis = Array.from({ length: 16 }, () => normalize(Float32Array.from({ length: DIM }, () => rng() - 0.5)));
  const low = clustered(3000, 19).map((c) => {
    const v = new Float32Array(DIM);
    for (let r = 0; r < 16; r++) for (let j = 0; j < DIM; j++) v[j] += c[r] * basis[r][j];
    for (let j = 0; j < DIM; j++) v[j] += (rng() - 0.5) * 0.01;
    return normalize(v);
  });
  const index = new CompactCosineIndex(DIM, { exactBelow: 300, graphDims: 12, storeDims: 24 });
  low.forEach((v, i) => index.add(i + 1, v));
  await index.buildGraph(tmpDir());
  let r = 0;
  for (let q = 0; q < 100; q++) {
    const id = 1 + q * 29;
    const top = new TopK(10);
    low.forEach((v, i) => i + 1 !== id && top.push(i + 1, dot(low[id - 1], 0, v, 0, DIM)));
    r += recall(index.similarTo(id, 10), top.result());
  }
  assert.ok(r / 100 >= 0.95, `recall@10 ${r / 100}`);
  assert.ok(dot(index.get(5)!, 0, low[4], 0, DIM) > 0.99, 'decoded from the projection');
});
