import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fitTasteModel, TasteModel } from '../src/ml/recommendation/taste-model';
import { ratingsSlice } from './ratings-slice';

const slice = ratingsSlice(120);
const model: TasteModel = fitTasteModel(slice.people, slice.catalog);
const likeCount = new Map<number, number>();
for (const p of slice.people) for (const id of p.liked) likeCount.set(id, (likeCount.get(id) ?? 0) + 1);
const rated = new Set(likeCount.keys());
const byId = new Map(slice.catalog.map((c) => [c.movieId, c]));
const earliestLikes = (person: string, n: number) =>
  slice.ratings
    .filter((r) => r.user === person && r.rating >= 4)
    .sort((a, b) => a.timestamp - b.timestamp)
    .slice(0, n)
    .map((r) => r.movieId);

test('stats count the people, the liked catalogue movies and the likes of the slice', () => {
  assert.equal(model.stats.people, 120);
  assert.equal(model.stats.items, rated.size);
  assert.equal(
    model.stats.likes,
    [...likeCount.values()].reduce((a, b) => a + b, 0),
  );
  assert.ok(model.stats.likes > 1000, `a real slice has many likes (${model.stats.likes})`);
});

test('likes of rated movies give collaborative recommendations explained by the liked movies behind them', () => {
  const person = slice.people.find((p) => p.liked.length >= 20)!;
  const liked = earliestLikes(person.person, 5);
  const recs = model.recommend({ liked, disliked: [], k: 10 });
  assert.equal(recs.length, 10);
  for (let i = 1; i < recs.length; i++) assert.ok(recs[i - 1].score >= recs[i].score, 'sorted by score');
  for (const r of recs) {
    assert.ok(!liked.includes(r.movieId), 'a liked movie is never recommended');
    assert.equal(r.reason, 'COLLABORATIVE');
    assert.ok(r.because.length >= 1 && r.because.length <= 3);
    for (const b of r.because) assert.ok(liked.includes(b));
    // the first reason is a liked movie that people liked together with this one
    assert.ok(model.alsoLiked(r.because[0], 100).some((a) => a.movieId === r.movieId));
  }
});

test('alsoLiked counts the people who liked both, most similar first', () => {
  const top = [...likeCount.entries()].sort((a, b) => b[1] - a[1])[0][0];
  const also = model.alsoLiked(top, 10);
  assert.equal(also.length, 10);
  for (let i = 1; i < also.length; i++) assert.ok(also[i - 1].score >= also[i].score);
  for (const a of also) {
    const both = slice.people.filter((p) => p.liked.includes(top) && p.liked.includes(a.movieId)).length;
    assert.equal(a.people, both);
    assert.ok(a.movieId !== top);
  }
  assert.deepEqual(model.alsoLiked(-1, 10), [], 'an unknown movie has no co-likes');
});

test('no known liked movie: the most liked movies, reason POPULAR, nothing behind them', () => {
  for (const liked of [[], [-5, 999999999]]) {
    const recs = model.recommend({ liked, disliked: [], k: 5 });
    const expected = [...likeCount.entries()].sort((a, b) => b[1] - a[1] || a[0] - b[0]).slice(0, 5);
    assert.deepEqual(
      recs.map((r) => likeCount.get(r.movieId)),
      expected.map((e) => e[1]),
    );
    for (const r of recs) {
      assert.equal(r.reason, 'POPULAR');
      assert.deepEqual(r.because, []);
    }
  }
});

test('liking only movies nobody rated (new releases) recommends by genre, sharing the liked genres', () => {
  const fresh = slice.catalog.filter((c) => (c.year ?? 0) >= 2015 && c.genres.includes('Horror')).slice(0, 3);
  const recs = model.recommend({ liked: fresh.map((c) => c.movieId), disliked: [], k: 10, accept: (id) => !rated.has(id) });
  assert.equal(recs.length, 10);
  for (const r of recs) {
    assert.equal(r.reason, 'GENRE');
    assert.ok(r.because.length >= 1);
    const genres = byId.get(r.movieId)!.genres;
    for (const b of r.because)
      assert.ok(
        byId.get(b)!.genres.some((g) => genres.includes(g)),
        'a reason shares a genre',
      );
  }
});

test('unrated movies are reached from rated likes through the taste map (reason POSTER)', () => {
  const person = slice.people.find((p) => p.liked.length >= 20)!;
  const liked = earliestLikes(person.person, 5);
  const recs = model.recommend({ liked, disliked: [], k: 10, accept: (id) => !rated.has(id) });
  assert.equal(recs.length, 10);
  assert.ok(
    recs.some((r) => r.reason === 'POSTER'),
    recs.map((r) => r.reason).join(),
  );
  for (const r of recs) assert.ok(!rated.has(r.movieId));
});

test('filters, exclusions and dislikes are applied before the top k is cut', () => {
  const person = slice.people.find((p) => p.liked.length >= 20)!;
  const liked = earliestLikes(person.person, 5);
  const first = model.recommend({ liked, disliked: [], k: 10 });
  const exclude = new Set(first.slice(0, 3).map((r) => r.movieId));
  const disliked = [first[3].movieId];
  const recs = model.recommend({ liked, disliked, k: 10, exclude, accept: (id) => (byId.get(id)!.year ?? 0) >= 2000 });
  assert.equal(recs.length, 10);
  for (const r of recs) {
    assert.ok(!exclude.has(r.movieId) && !disliked.includes(r.movieId));
    assert.ok(byId.get(r.movieId)!.year! >= 2000);
  }
  assert.deepEqual(model.recommend({ liked, disliked: [], k: 0 }), []);
});
