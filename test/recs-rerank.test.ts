import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fitLogistic, logit } from '../src/ml/math/logistic';
import { gaussian, mulberry32 } from '../src/ml/math/random';
import { genreTable } from '../src/ml/recommendation/genre-profile';
import { fitEase } from '../src/ml/recommendation/ease';
import { fitItemKnn, NeighbourLists } from '../src/ml/recommendation/item-knn';
import { fitRerank, RERANK_FEATURES, rerankFeatures, RerankSignals } from '../src/ml/recommendation/rerank';
import { fitTasteModel } from '../src/ml/recommendation/taste-model';
import { ratingsSlice } from './ratings-slice';

test('logistic regression by Newton recovers the weights that drew the labels', () => {
  const rng = mulberry32(7);
  const truth = [1.5, -2, 0];
  const bias = -1;
  const rows = 20000;
  const d = truth.length + 1;
  const x = new Float64Array(rows * d);
  const y = new Uint8Array(rows);
  for (let r = 0; r < rows; r++) {
    let t = bias;
    for (let j = 0; j < truth.length; j++) {
      // features on very different scales: the fit standardises them
      x[r * d + j] = gaussian(rng) * 10 ** j;
      t += (truth[j] * x[r * d + j]) / 10 ** j;
    }
    x[r * d + truth.length] = 3; // a constant feature
    y[r] = rng() < 1 / (1 + Math.exp(-t)) ? 1 : 0;
  }
  const m = fitLogistic(x, y, d, { l2: 1e-3, iterations: 25 });
  for (let j = 0; j < truth.length; j++) {
    const w = (m.weights[j] / m.scale[j]) * 10 ** j; // per unit of the drawn feature
    assert.ok(Math.abs(w - truth[j]) < 0.1, `weight ${j}: ${w} vs ${truth[j]}`);
  }
  assert.ok(Math.abs(m.weights[truth.length]) < 1e-6, 'a constant feature carries nothing');
  const origin = new Float64Array(d);
  origin[truth.length] = 3;
  assert.ok(Math.abs(logit(m, origin) - bias) < 0.1, `bias ${logit(m, origin)}`);
});

// the slice's likes in time order, as the protocol (and the blend's training queries) read them
const slice = ratingsSlice(120);
const timeOrdered = slice.people.map((p) => ({
  ...p,
  liked: slice.ratings
    .filter((r) => r.user === p.person && r.rating >= 4)
    .sort((a, b) => a.timestamp - b.timestamp || a.movieId - b.movieId)
    .map((r) => r.movieId),
}));

test('the blend fitted on held-out people of a real slice prefers the era of the liked movies', () => {
  const at = new Map(slice.catalog.map((c, i) => [c.movieId, i]));
  const people = timeOrdered.map((p) => p.liked.map((id) => at.get(id)!));
  const years = slice.catalog.map((c) => c.year);
  const genres = genreTable(slice.catalog.map((c) => c.genres));
  const model = fitRerank(
    people,
    slice.catalog.length,
    genres,
    years,
    (m) => ({ cf: fitEase(m, { lambda: 300, minLikes: 2, neighbours: 2000 }), knn: fitItemKnn(m, { neighbours: 100, shrinkage: 10 }) }),
    { candidates: 200, given: 5, folds: 4, l2: 1, seed: 1 },
  );
  assert.ok(model, 'the slice has people with later likes to learn from');
  assert.equal(model.weights.length, RERANK_FEATURES.length);
  // two candidates alike in every signal but their release year, for a query liking 2005 movies
  const n = 4;
  const none: NeighbourLists = { start: new Int32Array(n + 1), item: new Int32Array(0), sim: new Float32Array(0), people: new Int32Array(0) };
  const signals: RerankSignals = {
    cf: none,
    knn: none,
    count: Int32Array.from([10, 10, 10, 10]),
    later: Int32Array.from([5, 5, 5, 5]),
    genres: genreTable([['Drama'], ['Drama'], ['Drama'], ['Drama']]),
    years: [2005, 2005, 2004, 1960],
  };
  const cf = Float32Array.from([0, 0, 1, 1]);
  const x = rerankFeatures(signals, [0, 1], cf, [2, 3]);
  const [sameEra, old] = [logit(model, x, 0), logit(model, x, RERANK_FEATURES.length)];
  assert.ok(sameEra > old + 0.5, `2004 ${sameEra} vs 1960 ${old} for a 2005 taste`);
});

test('the blend reorders the collaborative candidates and keeps their scores', () => {
  const blended = fitTasteModel(timeOrdered, slice.catalog);
  const plain = fitTasteModel(timeOrdered, slice.catalog, { rerank: false });
  let reordered = 0;
  for (const person of timeOrdered.filter((p) => p.liked.length >= 20).slice(0, 10)) {
    const liked = person.liked.slice(0, 5);
    const top = blended.recommend({ liked, disliked: [], k: 10 });
    const pool = plain.recommend({ liked, disliked: [], k: 200 });
    const poolIds = new Set(pool.map((r) => r.movieId));
    for (const r of top) assert.ok(poolIds.has(r.movieId), `${r.movieId} is one of EASE's candidates`);
    // the same score values, in the same order, now on the blend's picks
    assert.deepEqual(
      top.map((r) => r.score),
      pool.slice(0, 10).map((r) => r.score),
    );
    if (top.some((r, i) => r.movieId !== pool[i].movieId)) reordered++;
  }
  assert.ok(reordered >= 5, `the blend changed the top 10 of ${reordered} of 10 people`);
});
