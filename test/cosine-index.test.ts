import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { CosineIndex } from '../src/ml/index/cosine-index';
import { mulberry32 } from '../src/ml/math/random';
import { normalize } from '../src/ml/math/vectors';
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
