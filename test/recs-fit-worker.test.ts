/**
 * The recommender's fit in a worker thread (issue 9): the model rebuilt from the worker's state
 * answers exactly as an in-thread fit on the same data, and the event loop keeps ticking meanwhile.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fitTasteModelInWorker } from '../src/ml/recommendation/fit-in-worker';
import { fitTasteModel, tasteModelFromState, type CatalogItem, type TasteModel } from '../src/ml/recommendation/taste-model';
import { gaussian, mulberry32 } from '../src/ml/math/random';
import { ratingsSlice } from './ratings-slice';

const slice = ratingsSlice(150);
// The shared data has no stored embeddings: seeded unit vectors stand in for posters (every third
// movie has none), so the poster space and the taste map are fitted and handed over too.
const rng = mulberry32(7);
const catalog: CatalogItem[] = slice.catalog.map((c, i) => {
  if (i % 3 === 0) return c;
  const e = Float32Array.from({ length: 64 }, () => gaussian(rng));
  const norm = Math.hypot(...e);
  return { ...c, embedding: e.map((x) => x / norm) };
});
const person = slice.people.find((p) => p.liked.length >= 20)!;
const liked = person.liked.slice(0, 5);
const rated = new Set(slice.people.flatMap((p) => p.liked));
const queries = [
  { liked, disliked: person.disliked.slice(0, 2), k: 20 },
  { liked, disliked: [], k: 20, accept: (id: number) => !rated.has(id) },
  { liked: [], disliked: [], k: 10 },
];
const answers = (m: TasteModel) => [...queries.map((q) => m.recommend(q)), m.alsoLiked(liked[0], 20), m.stats];

test('a model fitted in a worker answers as the in-thread fit on the same data (every reason, alsoLiked, stats)', async () => {
  const inThread = fitTasteModel(slice.people, catalog);
  const inWorker = await fitTasteModelInWorker(slice.people, catalog);
  assert.deepEqual(answers(inWorker), answers(inThread));
  const reasons = new Set(
    answers(inWorker)
      .slice(0, 3)
      .flat()
      .map((r) => (r as { reason: string }).reason),
  );
  assert.ok(reasons.has('COLLABORATIVE') && reasons.has('POSTER') && reasons.has('POPULAR'), [...reasons].join());
  // the state round trip alone, in this thread
  assert.deepEqual(answers(tasteModelFromState(inThread.toState())), answers(inThread));
  // the caller's catalogue is untouched (its embeddings were copied into the job, not transferred)
  assert.equal(catalog[1].embedding!.length, 64);
});

test('the event loop keeps ticking during a fit in a worker; an in-thread fit blocks it', async (t) => {
  const started = Date.now();
  fitTasteModel(slice.people, catalog, { seed: 2 }); // a new seed: no cached poster space
  const onThreadMs = Date.now() - started;
  assert.ok(onThreadMs > 300, `the input is large enough to matter (${onThreadMs} ms on the thread)`);
  let last = Date.now();
  let worstGap = 0;
  const ticker = setInterval(() => {
    const now = Date.now();
    worstGap = Math.max(worstGap, now - last);
    last = now;
  }, 5);
  const fitStarted = Date.now();
  await fitTasteModelInWorker(slice.people, catalog, { seed: 3 });
  const fitMs = Date.now() - fitStarted;
  clearInterval(ticker);
  t.diagnostic(`worst gap ${worstGap} ms during a ${fitMs} ms fit in a worker; ${onThreadMs} ms on the thread`);
  // packing the job and rebuilding the model take a little time on this thread; the fit itself none
  assert.ok(worstGap < onThreadMs / 2, `worst gap between ticks ${worstGap} ms during a ${fitMs} ms fit (${onThreadMs} ms on the thread)`);
});
