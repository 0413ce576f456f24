import { test } from 'node:test';
import assert from 'node:assert/strict';
import { invertSpdInPlace } from '../src/ml/math/cholesky';
import { mulberry32 } from '../src/ml/math/random';
import { fitEase } from '../src/ml/recommendation/ease';
import { likeMatrix } from '../src/ml/recommendation/likes';
import { meanScores, scoreRanking } from '../src/ml/recommendation/metrics';
import { coldMovies, DEFAULT_PROTOCOL, evaluateCold, evaluateWarm, RatingEvent } from '../src/ml/recommendation/protocol';
import { popularityRanker, randomRanker } from '../src/ml/recommendation/baselines';
import { tasteRanker } from '../src/ml/recommendation/evaluate';
import { ratingsSlice } from './ratings-slice';

const close = (a: number, b: number, eps = 1e-9) => assert.ok(Math.abs(a - b) <= eps, `${a} != ${b}`);

test('ranking metrics by hand: hits at ranks 1 and 3 of 4 relevant', () => {
  const s = scoreRanking([7, 1, 8, 2], new Set([7, 8, 9, 10]));
  assert.equal(s.hit10, 1);
  close(s.precision10, 0.2);
  close(s.ndcg10, (1 + 1 / Math.log2(4)) / (1 + 1 / Math.log2(3) + 1 / Math.log2(4) + 1 / Math.log2(5)));
  close(s.recall100, 0.5);
  const none = scoreRanking([1, 2], new Set([3]));
  assert.deepEqual(none, { hit10: 0, precision10: 0, ndcg10: 0, recall100: 0 });
  close(meanScores([s, none]).recall100, 0.25);
});

test('the SPD inverse times the matrix is the identity', () => {
  const n = 40;
  const rng = mulberry32(3);
  const x = Array.from({ length: n * n }, () => rng() - 0.5);
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) for (let k = 0; k < n; k++) a[i * n + j] += x[k * n + i] * x[k * n + j];
  for (let i = 0; i < n; i++) a[i * n + i] += 1;
  const inv = a.slice();
  invertSpdInPlace(inv, n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += a[i * n + k] * inv[k * n + j];
      close(s, i === j ? 1 : 0, 1e-8);
    }
});

test('EASE weights: items always liked together get the largest weight, and nobody is their own neighbour', () => {
  // people 0-3 like items 0 and 1 together; item 2 goes with 0 once and with 3 often
  const m = likeMatrix(
    [
      [0, 1],
      [0, 1],
      [0, 1, 2],
      [0, 1],
      [2, 3],
      [2, 3],
      [2, 3],
    ],
    4,
  );
  const lists = fitEase(m, { lambda: 1, minLikes: 1, neighbours: 3 });
  const first = (i: number) => lists.item[lists.start[i]];
  assert.equal(first(0), 1);
  assert.equal(first(1), 0);
  assert.equal(first(3), 2);
  for (let i = 0; i < 4; i++) for (let e = lists.start[i]; e < lists.start[i + 1]; e++) assert.notEqual(lists.item[e], i);
  // people who liked both, as alsoLiked reports them
  assert.equal(lists.people[lists.start[0]], 4);
});

const slice = ratingsSlice(120);
const events: RatingEvent[] = slice.ratings.map((r) => ({ person: r.user, movieId: r.movieId, rating: r.rating, timestamp: r.timestamp }));
const protocol = { ...DEFAULT_PROTOCOL, folds: 3 };

test('warm protocol on a real slice: popularity far above random, every eligible person scored once', () => {
  const r = evaluateWarm(events, slice.catalog, [randomRanker(1), popularityRanker, tasteRanker('taste')], protocol);
  const eligible = slice.people.filter((p) => p.liked.length > protocol.given).length;
  assert.equal(r.people, eligible);
  const [random, pop, taste] = r.methods;
  for (const m of r.methods) assert.equal(m.people, eligible);
  assert.ok(pop.scores.precision10 > 5 * random.scores.precision10 + 0.05, `popularity ${pop.scores.precision10} vs random ${random.scores.precision10}`);
  assert.ok(taste.scores.precision10 > random.scores.precision10);
});

test('cold protocol: the held-out movies never reach training, and recommendations stay in the new pool', () => {
  const cold = coldMovies(events, protocol);
  const rated = new Set(events.map((e) => e.movieId));
  assert.equal(cold.size, Math.round(protocol.coldShare * rated.size));
  const seen: number[][] = [];
  const spy = {
    name: 'spy',
    fit(train: Array<{ liked: number[]; disliked: number[] }>) {
      for (const p of train) for (const id of [...p.liked, ...p.disliked]) assert.ok(!cold.has(id), 'a held-out movie in training');
      return {
        rank(liked: number[], k: number, accept?: (id: number) => boolean) {
          for (const id of liked) assert.ok(!cold.has(id), 'a held-out movie in the query');
          const out = slice.catalog
            .filter((c) => accept!(c.movieId))
            .slice(0, k)
            .map((c) => c.movieId);
          seen.push(out);
          return out;
        },
      };
    },
  };
  const r = evaluateCold(events, slice.catalog, [spy], protocol);
  assert.ok(r.people > 10);
  const pool = slice.catalog.filter((c) => cold.has(c.movieId) || (!rated.has(c.movieId) && (c.year ?? 0) >= 2014));
  assert.equal(r.candidates, pool.length);
  for (const list of seen) for (const id of list) assert.ok(cold.has(id) || !rated.has(id));
});
