/**
 * Ratings and recommendations over real HTTP (issue 9): the rating mutations and their refusals on
 * every database, then recommendations learnt from a slice of the shared MovieLens ratings and the
 * real poster embeddings of the 400-poster sample: each reason, filters, fallbacks and bad input.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { App } from '../src/app';
import { MarqueeServer } from '../src/server/http-server';
import { ratingsSlice, type RatingsSlice } from './ratings-support';
import { cleanupAll, DB_KINDS, errorCode, errorReason, graphqlClient, openApp, SAMPLE_CSV, tmpDir } from './support';

after(cleanupAll);

interface Rec {
  score: number;
  reason: string;
  movie: { id: string; year: number; genres: string[]; title: string };
  because: Array<{ id: string }>;
}

async function waitUntil(done: () => Promise<boolean>, ms: number): Promise<void> {
  const until = Date.now() + ms;
  while (!(await done())) {
    if (Date.now() > until) assert.fail(`not done within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function serve(app: App) {
  const server = new MarqueeServer(app, { log: () => undefined });
  const { url } = await server.start('127.0.0.1', 0);
  return { server, gql: graphqlClient(url) };
}

const RECS = `query($u: String, $l: [ID!], $d: [ID!], $k: Int, $f: MovieFilter) {
  recommendations(userId: $u, liked: $l, disliked: $d, k: $k, filter: $f) { score reason movie { id year genres title } because { id } } }`;

for (const kind of DB_KINDS) {
  describe(`ratings over HTTP on ${kind}`, () => {
    let app: App;
    let api: Awaited<ReturnType<typeof serve>>;
    let userKey: string;
    let adminKey: string;
    let ids: string[];

    before(async () => {
      app = await openApp(kind);
      await app.importer.importCsv(SAMPLE_CSV, { progress: false });
      userKey = (await app.apiKeys.create('user')).key;
      adminKey = (await app.apiKeys.create('admin')).key;
      api = await serve(app);
      ids = (await api.gql('{ movies(first: 5) { edges { node { id } } } }')).data.movies.edges.map((e: { node: { id: string } }) => e.node.id);
    });
    after(() => api.server.stop());

    const RATE = `mutation($i: RateMovieInput!) { rateMovie(input: $i) { userId rating like ratedAt movie { id } } }`;

    test('rateMovie needs a user or admin key; a new rating replaces the old; ratings lists newest first; removeRating', async () => {
      const input = { userId: 'person-a', movieId: ids[0], rating: 4.5 };
      const none = await api.gql(RATE, { i: input });
      assert.equal(errorCode(none), 'UNAUTHENTICATED');
      const byUser = await api.gql(RATE, { i: input }, userKey);
      assert.equal(byUser.errors, undefined, JSON.stringify(byUser.errors));
      assert.deepEqual(
        [byUser.data.rateMovie.userId, byUser.data.rateMovie.rating, byUser.data.rateMovie.like, byUser.data.rateMovie.movie.id],
        ['person-a', 4.5, null, ids[0]],
      );
      assert.ok(Math.abs(Date.parse(byUser.data.rateMovie.ratedAt) - Date.now()) < 60_000);
      const byAdmin = await api.gql(RATE, { i: { userId: 'person-a', movieId: ids[1], like: false } }, adminKey);
      assert.equal(byAdmin.errors, undefined, JSON.stringify(byAdmin.errors));
      assert.deepEqual([byAdmin.data.rateMovie.rating, byAdmin.data.rateMovie.like], [null, false]);
      // The same movie again: a like replaces the stars.
      await api.gql(RATE, { i: { userId: 'person-a', movieId: ids[0], like: true } }, userKey);

      const LIST = `query($u: String!) { ratings(userId: $u) { userId rating like movie { id } } }`;
      assert.equal(errorCode(await api.gql(LIST, { u: 'person-a' })), 'UNAUTHENTICATED');
      const list = await api.gql(LIST, { u: 'person-a' }, userKey);
      assert.deepEqual(
        list.data.ratings.map((r: { rating: number | null; like: boolean | null; movie: { id: string } }) => [r.movie.id, r.rating, r.like]),
        [
          [ids[0], null, true],
          [ids[1], null, false],
        ],
      );
      assert.deepEqual((await api.gql(LIST, { u: 'nobody-yet' }, userKey)).data.ratings, []);

      const REMOVE = `mutation($u: String!, $m: ID!) { removeRating(userId: $u, movieId: $m) }`;
      assert.equal(errorCode(await api.gql(REMOVE, { u: 'person-a', m: ids[1] })), 'UNAUTHENTICATED');
      assert.equal((await api.gql(REMOVE, { u: 'person-a', m: ids[1] }, userKey)).data.removeRating, true);
      assert.equal((await api.gql(REMOVE, { u: 'person-a', m: ids[1] }, userKey)).data.removeRating, false);
      assert.equal((await api.gql(LIST, { u: 'person-a' }, userKey)).data.ratings.length, 1);
    });

    test('bad ratings are refused with a code and reason, and nothing stored changes', async () => {
      const before = await app.db.dataSource.query(`SELECT person, movie_id, rating, liked FROM interaction ORDER BY 1, 2`);
      const refused = async (i: Record<string, unknown>) => {
        const r = await api.gql(RATE, { i: { userId: 'person-b', movieId: ids[2], ...i } }, userKey);
        return `${errorCode(r)}/${errorReason(r) ?? ''}`;
      };
      assert.equal(await refused({ rating: 7 }), 'BAD_USER_INPUT/BAD_RATING');
      assert.equal(await refused({ rating: 0 }), 'BAD_USER_INPUT/BAD_RATING');
      assert.equal(await refused({ rating: 3.3 }), 'BAD_USER_INPUT/BAD_RATING');
      assert.equal(await refused({ rating: 4, like: true }), 'BAD_USER_INPUT/RATING_OR_LIKE');
      assert.equal(await refused({}), 'BAD_USER_INPUT/RATING_OR_LIKE');
      assert.equal(await refused({ movieId: 'abc', rating: 4 }), 'BAD_USER_INPUT/BAD_ID');
      assert.equal(await refused({ movieId: '987654', rating: 4 }), 'NOT_FOUND/NOT_FOUND');
      assert.equal(await refused({ userId: '   ', rating: 4 }), 'BAD_USER_INPUT/BAD_USER_ID');
      assert.equal(await refused({ userId: 'x'.repeat(201), rating: 4 }), 'BAD_USER_INPUT/BAD_USER_ID');
      assert.deepEqual(await app.db.dataSource.query(`SELECT person, movie_id, rating, liked FROM interaction ORDER BY 1, 2`), before);
    });
  });
}

describe('recommendations learnt from ratings (pglite, real posters)', () => {
  let app: App;
  let api: Awaited<ReturnType<typeof serve>>;
  let slice: RatingsSlice;
  let userKey: string;
  /** Movie id by IMDb id, and likes (>= 4 stars) counted per movie id over the slice. */
  let idOf: Map<string, string>;
  const likes = new Map<string, number>();
  let cold: string[];

  before(async () => {
    app = await openApp('pglite', (c) => (c.recommendations.refitDebounceMs = 50));
    await app.importer.importCsv(SAMPLE_CSV, { progress: false });
    const e = await app.embedding.embedMissing({ progress: false });
    assert.equal(e.embedded, 400);
    slice = ratingsSlice(tmpDir(), 20);
    await app.ratingsImport.importFile(slice.ratings, { progress: false });
    const rows = await app.db.dataSource.query<Array<{ id: number; imdb_id: string; year: number | null }>>(`SELECT id, imdb_id, year FROM movie`);
    idOf = new Map(rows.map((r) => [r.imdb_id, String(r.id)]));
    for (const l of slice.known) if (Number(l.rating) >= 4) likes.set(idOf.get(l.imdbId)!, (likes.get(idOf.get(l.imdbId)!) ?? 0) + 1);
    cold = rows.filter((r) => r.year !== null && r.year >= 2014).map((r) => String(r.id));
    userKey = (await app.apiKeys.create('user')).key;
    api = await serve(app);
  });
  after(() => api.server.stop());

  const recs = async (v: Record<string, unknown>): Promise<Rec[]> => {
    const r = await api.gql(RECS, v);
    assert.equal(r.errors, undefined, JSON.stringify(r.errors));
    return r.data.recommendations;
  };
  /** Liked movies with the most likes in the slice. */
  const popular = () => [...likes.entries()].sort((a, b) => b[1] - a[1]).map(([id]) => id);

  test('before the recommender is fitted, recommendations come from posters alone (POSTER)', async () => {
    assert.equal(app.recommendations.state.ready, false);
    const liked = popular().slice(0, 3);
    const r = await recs({ l: liked, k: 10 });
    assert.equal(r.length, 10);
    for (const x of r) {
      assert.equal(x.reason, 'POSTER');
      assert.ok(!liked.includes(x.movie.id));
      assert.ok(x.because.every((b) => liked.includes(b.id)));
    }
    await app.recommendations.ready();
    assert.equal(app.recommendations.state.ready, true);
    assert.ok(app.recommendations.state.likes > 0);
  });

  test('an anonymous liked list gets collaborative recommendations: never a liked or disliked movie, because among the liked', async () => {
    await app.recommendations.ready();
    const liked = popular().slice(0, 5);
    const disliked = popular().slice(5, 6);
    const r = await recs({ l: liked, d: disliked, k: 10 });
    assert.equal(r.length, 10);
    assert.ok(r.some((x) => x.reason === 'COLLABORATIVE'));
    for (const x of r) {
      assert.ok(![...liked, ...disliked].includes(x.movie.id));
      assert.ok(x.because.every((b) => liked.includes(b.id)));
      if (x.reason === 'COLLABORATIVE') assert.ok(x.because.length >= 1, 'a collaborative pick names the liked movies behind it');
    }
    for (let i = 1; i < r.length; i++) assert.ok(r[i - 1].score >= r[i].score);
  });

  test('a stored person: their likes join the lists and what they rated is left out', async () => {
    await app.recommendations.ready();
    const person = [...new Set(slice.known.map((l) => l.userId))].sort(
      (a, b) => slice.known.filter((l) => l.userId === b).length - slice.known.filter((l) => l.userId === a).length,
    )[0];
    const mine = slice.known.filter((l) => l.userId === person);
    const rated = new Set(mine.map((l) => idOf.get(l.imdbId)!));
    const liked = mine.filter((l) => Number(l.rating) >= 4).map((l) => idOf.get(l.imdbId)!);
    const r = await recs({ u: person, k: 20 });
    assert.equal(r.length, 20);
    for (const x of r) assert.ok(!rated.has(x.movie.id), `${x.movie.id} was rated by ${person}`);
    const because = new Set(r.flatMap((x) => x.because.map((b) => b.id)));
    assert.ok(
      [...because].every((id) => liked.includes(id)),
      'because names only their likes',
    );
    if (liked.length) assert.ok(because.size > 0);
    // Given lists join the stored ones: liking one more movie changes the list.
    const extra = popular().find((id) => !rated.has(id))!;
    const joined = await recs({ u: person, l: [extra], k: 20 });
    assert.ok(joined.every((x) => x.movie.id !== extra && !rated.has(x.movie.id)));
  });

  test('nobody liked anything (unknown person, empty lists): the movies most people liked (POPULAR)', async () => {
    await app.recommendations.ready();
    for (const v of [{ u: 'never-seen-before' }, {}, { l: [] }]) {
      const r = await recs({ ...v, k: 5 });
      assert.equal(r.length, 5);
      assert.ok(r.every((x) => x.reason === 'POPULAR' && x.because.length === 0));
      assert.equal(likes.get(r[0].movie.id), Math.max(...likes.values()), 'the most liked movie comes first');
    }
  });

  test('movies nobody rated (new releases) are reached through posters and genres (POSTER, GENRE)', async () => {
    await app.recommendations.ready();
    assert.ok(cold.length > 50);
    assert.ok(
      cold.every((id) => !likes.has(id)),
      'the ratings have no movie from 2014 on',
    );
    const reasons = new Set<string>();
    for (const liked of [popular().slice(0, 5), cold.slice(0, 2), cold.slice(10, 11)]) {
      const r = await recs({ l: liked, k: 30, f: { yearFrom: 2014 } });
      assert.equal(r.length, 30);
      for (const x of r) {
        assert.ok(x.movie.year >= 2014);
        assert.ok(['POSTER', 'GENRE'].includes(x.reason), x.reason);
        assert.ok(x.because.every((b) => liked.includes(b.id)));
        reasons.add(x.reason);
      }
    }
    assert.deepEqual([...reasons].sort(), ['GENRE', 'POSTER']);
  });

  test('filters (genres, years, search) apply before the top k is cut', async () => {
    await app.recommendations.ready();
    const liked = popular().slice(0, 5);
    const comedy = await recs({ l: liked, k: 20, f: { genres: ['COMEDY'] } });
    const comedies = (await app.db.dataSource.query(`SELECT count(*)::int AS n FROM movie WHERE 'COMEDY' = ANY(labels)`))[0].n as number;
    assert.equal(comedy.length, Math.min(20, comedies - liked.length));
    assert.ok(comedy.every((x) => x.movie.genres.includes('COMEDY')));
    const years = await recs({ l: liked, k: 10, f: { yearFrom: 1998, yearTo: 2000 } });
    assert.ok(years.length > 0 && years.every((x) => x.movie.year >= 1998 && x.movie.year <= 2000));
    const search = await recs({ l: liked, k: 10, f: { search: 'the' } });
    assert.ok(search.length > 0 && search.every((x) => /the/i.test(x.movie.title)));
  });

  test('a new rating shows within seconds; Movie.alsoLiked lists co-liked movies', async () => {
    const [a, b] = popular();
    const before = await recs({ u: 'fresh-person', k: 10 });
    assert.ok(before.every((x) => x.reason === 'POPULAR'));
    const r = await api.gql(`mutation($m: ID!) { rateMovie(input: {userId: "fresh-person", movieId: $m, rating: 5}) { rating } }`, { m: a }, userKey);
    assert.equal(r.errors, undefined, JSON.stringify(r.errors));
    await app.recommendations.ready();
    const after = await recs({ u: 'fresh-person', k: 10 });
    assert.ok(after.every((x) => x.movie.id !== a));
    assert.ok(after.some((x) => x.reason === 'COLLABORATIVE' && x.because.some((m) => m.id === a)));

    const also = await api.gql(`query($id: ID!) { movie(id: $id) { alsoLiked(k: 5) { score people movie { id } } } }`, { id: b });
    assert.equal(also.errors, undefined, JSON.stringify(also.errors));
    const list = also.data.movie.alsoLiked;
    assert.equal(list.length, 5);
    assert.ok(list.every((x: { people: number; movie: { id: string } }) => x.people >= 1 && x.movie.id !== b));
    const none = await api.gql(`query($id: ID!) { movie(id: $id) { alsoLiked { movie { id } } } }`, { id: cold[0] });
    assert.deepEqual(none.data.movie.alsoLiked, []);
  });

  test('serverInfo reports the fitted recommender and its version; a successful retrain refits it', async () => {
    await app.recommendations.ready();
    const info = async () => {
      const r = await api.gql('{ serverInfo { recommender { ready fitting version people items likes fittedAt fitSeconds interactionsStamp } } }');
      assert.equal(r.errors, undefined, JSON.stringify(r.errors));
      return r.data.serverInfo.recommender;
    };
    const before = await info();
    const stored = await app.db.dataSource.query<Array<{ n: number }>>(`SELECT count(*)::int AS n FROM interaction`);
    assert.equal(before.ready, true);
    assert.ok(before.version >= 2, 'fitted at least twice by now (first fit, then after a new rating)');
    assert.equal(before.likes, app.recommendations.state.likes);
    assert.ok(before.people > 0 && before.items > 0 && before.likes >= before.items && before.fitSeconds > 0, JSON.stringify(before));
    assert.match(before.interactionsStamp, new RegExp(`^${stored[0].n}:`));
    await app.jobs.work();
    // The first version activates (none is active yet): the model change refits; the second does not
    // activate, and the retrain's success alone refits.
    let last = before;
    for (const activate of [true, false]) {
      const job = await app.training.start({ epochs: 2, activate });
      await waitUntil(async () => (await app.training.find(job.id))?.status === 'SUCCEEDED' && (await info()).version > last.version, 120_000);
      const now = await info();
      assert.ok(Date.parse(now.fittedAt) > Date.parse(last.fittedAt));
      assert.equal(now.likes, before.likes, 'the same ratings');
      last = now;
    }
    const versions = await app.models.listVersions();
    assert.deepEqual([versions.length, versions.filter((v) => v.active).length], [2, 1]);
  });

  test('bad input: ids in both lists, too many ids, malformed and unknown ids, bad user id, bad k', async () => {
    const [a, b] = popular();
    const refused = async (v: Record<string, unknown>) => {
      const r = await api.gql(RECS, v);
      return `${errorCode(r)}/${errorReason(r) ?? ''}`;
    };
    assert.equal(await refused({ l: [a, b], d: [b] }), 'BAD_USER_INPUT/LIKED_AND_DISLIKED');
    const many = [...idOf.values()].slice(0, 101);
    assert.equal(await refused({ l: many }), 'BAD_USER_INPUT/TOO_MANY_IDS');
    assert.equal(await refused({ l: ['abc'] }), 'BAD_USER_INPUT/BAD_ID');
    assert.equal(await refused({ l: ['987654'] }), 'NOT_FOUND/NOT_FOUND');
    assert.equal(await refused({ d: ['987654'] }), 'NOT_FOUND/NOT_FOUND');
    assert.equal(await refused({ u: '' }), 'BAD_USER_INPUT/BAD_USER_ID');
    assert.equal(await refused({ l: [a], k: 0 }), 'BAD_USER_INPUT/BAD_K');
    assert.equal(await refused({ l: [a], k: 101 }), 'BAD_USER_INPUT/BAD_K');
  });
});

test('an empty catalogue: nothing to recommend, no error; an unknown id is NOT_FOUND', async () => {
  const app = await openApp('pglite');
  assert.deepEqual(await app.recommendations.recommend({ liked: [], disliked: [], k: 10 }), []);
  assert.deepEqual(await app.recommendations.recommend({ userId: 'anyone', liked: [], disliked: [], k: 10 }), []);
  await assert.rejects(app.recommendations.recommend({ liked: [1], disliked: [], k: 10 }), (e: { code?: string }) => e.code === 'NOT_FOUND');
  await assert.rejects(app.recommendations.alsoLiked(1, 10), (e: { code?: string }) => e.code === 'NOT_FOUND');
});
