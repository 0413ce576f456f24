/**
 * Genre predictions, similar posters, recommendations, admin retraining and the API's refusals,
 * end to end over real HTTP with the real backbone, on a model trained from the 400-poster sample.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { App } from '../src/app';
import { MovieEntity } from '../src/db/entities';
import { GENRES } from '../src/ml/genre/labels';
import { CosineIndex } from '../src/ml/index/cosine-index';
import { gaussian, mulberry32 } from '../src/ml/math/random';
import { dot, normalize } from '../src/ml/math/vectors';
import { SCHED_IDLE } from '../src/ml/thread-priority';
import { EmbeddingRepository } from '../src/repositories/embedding.repository';
import { MovieRepository } from '../src/repositories/movie.repository';
import { labelMask, MovieCatalog } from '../src/services/movie-catalog';
import { SimilarityService } from '../src/services/similarity.service';
import { MarqueeServer } from '../src/server/http-server';
import { cleanupAll, errorCode, errorReason, GqlResult, graphqlClient, openTrainedSampleApp, POSTERS_DIR, tmpDir } from './support';

after(cleanupAll);

const code = errorCode;
const reason = errorReason;
/** Each thread's scheduling policy (field 41 of /proc/self/task/<tid>/stat), main thread first. */
const threadPolicies = () =>
  fs.readdirSync('/proc/self/task').map((tid) => {
    const stat = fs.readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[38]);
  });
const posterBytes = (imdbId: string) => fs.readFileSync(path.join(POSTERS_DIR, 'images', `${imdbId}.jpg`));

let app: App;
let server: MarqueeServer;
let url: string;
let base: string;
let adminKey: string;
let userKey: string;

const gql = (query: string, variables?: Record<string, unknown>, key?: string, headers?: Record<string, string>) =>
  graphqlClient(url)(query, variables, key, headers);

/** A local image host that counts the requests it sees (for URL inputs and the loopback refusal). */
let imageHost: http.Server;
let imageHostHits = 0;
let imageHostUrl: string;

before(async () => {
  app = await openTrainedSampleApp();
  adminKey = (await app.apiKeys.create('admin')).key;
  userKey = (await app.apiKeys.create('user')).key;
  server = new MarqueeServer(app, { log: () => undefined });
  ({ url } = await server.start('127.0.0.1', 0));
  base = url.replace(/\/graphql$/, '');
  imageHost = http.createServer((_req, res) => {
    imageHostHits++;
    res.writeHead(200, { 'content-type': 'image/jpeg' });
    res.end(posterBytes('tt0116209'));
  });
  await new Promise<void>((r) => imageHost.listen(0, '127.0.0.1', r));
  imageHostUrl = `http://127.0.0.1:${(imageHost.address() as AddressInfo).port}/poster.jpg`;
});

after(async () => {
  imageHost?.close();
  await server?.stop();
});

const idOf = async (imdbId: string) => (await gql(`{ movie(imdbId: "${imdbId}") { id } }`)).data.movie.id as string;

describe('genres', () => {
  test('Movie.predictedGenres: all 13 labels from the active model, predicted = probability ≥ threshold', async () => {
    const r = await gql('{ movies(first: 3) { edges { node { id predictedGenres { genre probability predicted } } } } }');
    const active = (await app.models.activeVersion())!;
    for (const e of r.data.movies.edges) {
      const scores = e.node.predictedGenres;
      assert.deepEqual(
        scores.map((s: { genre: string }) => s.genre),
        [...GENRES],
      );
      scores.forEach((s: { probability: number; predicted: boolean }, j: number) => {
        assert.ok(s.probability >= 0 && s.probability <= 1);
        assert.equal(s.predicted, s.probability >= active.thresholds[j]);
      });
    }
  });

  test('predictGenres agrees across movieId, imageBase64 and imageUrl for the same poster', async () => {
    const id = await idOf('tt0116209');
    const q = 'query($p: PosterInput!) { predictGenres(poster: $p) { modelVersion genres { genre probability predicted } } }';
    const byId = await gql(q, { p: { movieId: id } });
    const byBytes = await gql(q, { p: { imageBase64: posterBytes('tt0116209').toString('base64') } });
    assert.equal(byId.errors, undefined);
    assert.equal(byBytes.errors, undefined);
    assert.equal(byId.data.predictGenres.modelVersion, (await app.models.activeVersion())!.name);
    byId.data.predictGenres.genres.forEach((g: { probability: number }, j: number) => {
      assert.ok(Math.abs(g.probability - byBytes.data.predictGenres.genres[j].probability) < 1e-4);
    });
    // Loopback is refused by default and the host never sees a request...
    const hitsBefore = imageHostHits;
    const refused = await gql(q, { p: { imageUrl: imageHostUrl } });
    assert.equal(code(refused), 'BAD_USER_INPUT');
    assert.equal(reason(refused), 'URL_FORBIDDEN');
    assert.equal(imageHostHits, hitsBefore);
    // ...and fetched when private URLs are explicitly allowed.
    app.config.net.allowPrivateUrls = true;
    try {
      const byUrl = await gql(q, { p: { imageUrl: imageHostUrl } });
      assert.equal(byUrl.errors, undefined, JSON.stringify(byUrl.errors));
      assert.equal(imageHostHits, hitsBefore + 1);
      byUrl.data.predictGenres.genres.forEach((g: { probability: number }, j: number) => {
        assert.ok(Math.abs(g.probability - byBytes.data.predictGenres.genres[j].probability) < 1e-4);
      });
    } finally {
      app.config.net.allowPrivateUrls = false;
    }
  });

  test('bad poster inputs are refused with a code and a reason', async () => {
    const q = 'query($p: PosterInput!) { predictGenres(poster: $p) { modelVersion } }';
    const two = await gql(q, { p: { movieId: '1', imageBase64: posterBytes('tt0116209').toString('base64') } });
    assert.deepEqual([code(two), reason(two)], ['BAD_USER_INPUT', 'POSTER_INPUT']);
    const none = await gql(q, { p: {} });
    assert.equal(code(none), 'BAD_USER_INPUT');
    const corrupt = await gql(q, { p: { imageBase64: Buffer.from('definitely not a jpeg').toString('base64') } });
    assert.equal(code(corrupt), 'BAD_USER_INPUT');
    assert.ok(['NOT_AN_IMAGE', 'IMAGE_CORRUPT'].includes(String(reason(corrupt))), String(reason(corrupt)));
    const truncated = posterBytes('tt0116209').subarray(0, 2000).toString('base64');
    assert.equal(code(await gql(q, { p: { imageBase64: truncated } })), 'BAD_USER_INPUT');
    const unknown = await gql(q, { p: { movieId: '987654' } });
    assert.equal(code(unknown), 'NOT_FOUND');
    const ftp = await gql(q, { p: { imageUrl: 'ftp://example.com/x.jpg' } });
    assert.deepEqual([code(ftp), reason(ftp)], ['BAD_USER_INPUT', 'URL_SCHEME']);
    const long = await gql(q, { p: { imageUrl: `https://example.com/${'a'.repeat(3000)}.jpg` } });
    assert.deepEqual([code(long), reason(long)], ['BAD_USER_INPUT', 'URL_TOO_LONG']);
    const badB64 = await gql(q, { p: { imageBase64: '***not base64***' } });
    assert.deepEqual([code(badB64), reason(badB64)], ['BAD_USER_INPUT', 'BAD_BASE64']);
  });
});

describe('evidence', () => {
  interface Neighbour {
    movie: { id: string; genres: string[] };
    similarity: number;
    genres: string[];
  }
  interface Support {
    genre: string;
    neighbours: number;
  }
  const EVIDENCE = 'k neighbours { movie { id genres } similarity genres } support { genre neighbours }';
  /** Neighbours nearest first, labelled, with their own genres; support counts them, predicted genres included. */
  const checkEvidence = (ev: { k: number; neighbours: Neighbour[]; support: Support[] }, k: number, predicted: string[], self?: string) => {
    assert.equal(ev.k, k);
    assert.equal(ev.neighbours.length, k);
    for (let i = 1; i < k; i++) assert.ok(ev.neighbours[i - 1].similarity >= ev.neighbours[i].similarity);
    for (const n of ev.neighbours) {
      assert.ok(n.genres.length > 0);
      assert.deepEqual(n.genres, n.movie.genres);
      assert.notEqual(n.movie.id, self, 'a stored poster is never its own evidence');
    }
    const counts = new Map<string, number>();
    for (const n of ev.neighbours) for (const g of n.genres) counts.set(g, (counts.get(g) ?? 0) + 1);
    for (const g of predicted) if (!counts.has(g)) counts.set(g, 0);
    assert.deepEqual(new Map(ev.support.map((s) => [s.genre, s.neighbours])), counts);
    for (let i = 1; i < ev.support.length; i++) assert.ok(ev.support[i - 1].neighbours >= ev.support[i].neighbours);
  };

  test("predictGenres returns each genre's threshold and the k nearest labelled posters behind it", async () => {
    const id = await idOf('tt0116209');
    const q = `query($p: PosterInput!, $k: Int) { predictGenres(poster: $p) { genres { genre probability predicted threshold } evidence(k: $k) { ${EVIDENCE} } } }`;
    const active = (await app.models.activeVersion())!;
    for (const p of [{ movieId: id }, { imageBase64: posterBytes('tt0116209').toString('base64') }]) {
      const r = await gql(q, { p, k: 5 });
      assert.equal(r.errors, undefined, JSON.stringify(r.errors));
      const { genres, evidence } = r.data.predictGenres;
      genres.forEach((g: { probability: number; predicted: boolean; threshold: number }, j: number) => {
        assert.equal(g.threshold, active.thresholds[j]);
        assert.equal(g.predicted, g.probability >= g.threshold);
      });
      checkEvidence(
        evidence,
        5,
        genres.filter((g: { predicted: boolean }) => g.predicted).map((g: { genre: string }) => g.genre),
        id,
      );
      // The same posters, in the same order, as similarPosters for this poster.
      const similar = await gql('query($id: ID) { similarPosters(poster: {movieId: $id}, k: 5) { movie { id } } }', { id });
      assert.deepEqual(
        evidence.neighbours.map((n: Neighbour) => n.movie.id),
        similar.data.similarPosters.map((h: { movie: { id: string } }) => h.movie.id),
      );
    }
    assert.equal(app.posterTexts.started, false, 'an image-only model never runs OCR, even on new images');
    const defaultK = await gql(`query($p: PosterInput!) { predictGenres(poster: $p) { evidence { k neighbours { similarity } } } }`, { p: { movieId: id } });
    assert.equal(defaultK.data.predictGenres.evidence.neighbours.length, 10);
    const tooMany = await gql(q, { p: { movieId: id }, k: 101 });
    assert.deepEqual([code(tooMany), reason(tooMany)], ['BAD_USER_INPUT', 'BAD_K']);
  });

  test('Movie.genreEvidence explains its stored prediction; null for a movie without an embedding', async () => {
    const r = await gql(`{ movies(first: 2) { edges { node { id predictedGenres { genre predicted } genreEvidence(k: 3) { ${EVIDENCE} } } } } }`);
    assert.equal(r.errors, undefined, JSON.stringify(r.errors));
    for (const { node } of r.data.movies.edges) {
      checkEvidence(
        node.genreEvidence,
        3,
        node.predictedGenres.filter((g: { predicted: boolean }) => g.predicted).map((g: { genre: string }) => g.genre),
        node.id,
      );
    }
    const dir = tmpDir();
    const csv = path.join(dir, 'one.csv');
    // A poster outside the sample, imported but not embedded (and removed again: other tests count 400 movies).
    fs.writeFileSync(
      csv,
      `imdb_id,name,year,age,time,genre,storyline,img_url\ntt0035423,Kate & Leopold,2001,,,Comedy|Romance,,${path.join(POSTERS_DIR, 'images/tt0035423.jpg')}\n`,
    );
    await app.importer.importCsv(csv, { progress: false });
    const fresh = await gql('{ movie(imdbId: "tt0035423") { id genreEvidence { k } } }');
    try {
      assert.equal(fresh.errors, undefined, JSON.stringify(fresh.errors));
      assert.equal(fresh.data.movie.genreEvidence, null);
    } finally {
      await app.movieAdmin.delete(Number(fresh.data.movie.id));
    }
  });
});

describe('similar posters and recommendations', () => {
  test('similarPosters: best first, exact cosine scores, never the query movie, k bounded', async () => {
    const id = await idOf('tt0116209');
    const r = await gql('query($id: ID) { similarPosters(poster: {movieId: $id}) { score movie { id } } }', { id });
    const hits = r.data.similarPosters;
    assert.equal(hits.length, 10);
    assert.ok(hits.every((h: { movie: { id: string } }) => h.movie.id !== id));
    for (let i = 1; i < hits.length; i++) assert.ok(hits[i - 1].score >= hits[i].score);
    // Ground truth: exact cosine over every stored embedding, through pgvector.
    const exact = await app.db.dataSource.query(
      `SELECT e.movie_id, 1 - (e.embedding <=> q.embedding) AS s FROM poster_embedding e, poster_embedding q
       WHERE q.movie_id = $1 AND e.movie_id <> $1 ORDER BY e.embedding <=> q.embedding LIMIT 10`,
      [Number(id)],
    );
    assert.deepEqual(
      hits.map((h: { movie: { id: string } }) => Number(h.movie.id)),
      exact.map((x: { movie_id: number }) => x.movie_id),
    );
    hits.forEach((h: { score: number }, i: number) => assert.ok(Math.abs(h.score - Number(exact[i].s)) < 1e-4));
    // The same poster uploaded as bytes is recognised as that movie and excluded too.
    const up = await gql('query($b: String) { similarPosters(poster: {imageBase64: $b}, k: 3) { movie { id } } }', {
      b: posterBytes('tt0116209').toString('base64'),
    });
    assert.ok(up.data.similarPosters.every((h: { movie: { id: string } }) => h.movie.id !== id));
    for (const k of [0, 101, 100000]) {
      const big = await gql(`query($id: ID) { similarPosters(poster: {movieId: $id}, k: ${k}) { score } }`, { id });
      assert.equal(code(big), 'BAD_USER_INPUT', `k=${k}`);
    }
  });

  test("the catalogue hands out one predicate per filter until a movie changes (the index keeps each predicate's admitted slots)", async () => {
    const catalog = app.similarity.movieCatalog;
    const horror = catalog.filterFn({ labels: ['HORROR'] })!;
    assert.equal(catalog.filterFn({ labels: ['HORROR'] }), horror, 'the same filter, the same predicate');
    assert.notEqual(catalog.filterFn({ labels: ['HORROR'], yearFrom: 2000 }), horror);
    const repo = app.db.dataSource.getRepository(MovieEntity);
    const row = await repo.findOneByOrFail({ imdbId: 'tt0116209' });
    assert.equal(horror(row.id), row.labels.includes('HORROR'));
    try {
      catalog.put({ ...row, labels: [...row.labels.filter((l) => l !== 'HORROR'), 'HORROR'] });
      const after = catalog.filterFn({ labels: ['HORROR'] })!;
      assert.notEqual(after, horror, 'a changed movie brings a new predicate, so no admitted slots cached for the old one apply');
      assert.equal(after(row.id), true);
    } finally {
      catalog.put(row);
    }
    assert.equal(catalog.filterFn({ labels: ['HORROR'] })!(row.id), row.labels.includes('HORROR'));
  });

  test('a served index warms up: after the graph, each narrow genre gets neighbour lists, and filtered look-alikes agree with an exact scan', async () => {
    // A second service over the same database, with the graph from 100 posters on (the sample has 400).
    const embeddings = new EmbeddingRepository(app.db.dataSource);
    const movies = new MovieRepository(app.db.dataSource);
    const config = { ...app.config.index, storage: 'fp32' as const, exactBelow: 100 };
    const similarity = new SimilarityService(new MovieCatalog(movies), movies, embeddings, app.embedding.backbone, tmpDir(), config);
    await similarity.ready();
    assert.equal(similarity.warm, false, 'not warm before the graph');
    const deadline = Date.now() + 120_000;
    while (!similarity.warm && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    assert.ok(similarity.warm && similarity.graphReady);
    const catalog = similarity.movieCatalog;
    const narrow = GENRES.filter((g) => {
      const f = catalog.filterFn({ labels: [g] })!;
      const n = [...catalog.records()].filter((m) => f(m.id) && similarity.embeddingOf(m.id)).length;
      return n > 10 && n < 0.25 * similarity.indexSize;
    });
    assert.ok(narrow.length >= 3, `narrow genres: ${narrow.join(' ')}`);
    assert.equal(similarity.filteredLists, narrow.length, 'one list set per narrow genre');
    for (const genre of narrow) {
      const f = catalog.filterFn({ labels: [genre] })!;
      for (const m of catalog.records().slice(0, 20)) {
        if (!similarity.embeddingOf(m.id)) continue;
        const got = await similarity.similarToMovie(m.id, 10, { labels: [genre] });
        const v = similarity.embeddingOf(m.id)!;
        const exact = catalog
          .records()
          .filter((o) => o.id !== m.id && f(o.id) && similarity.embeddingOf(o.id))
          .map((o) => ({ id: o.id, score: dot(v, 0, similarity.embeddingOf(o.id)!, 0, v.length) }))
          .sort((a, b) => b.score - a.score)
          .slice(0, 10);
        assert.deepEqual(
          got.map((h) => h.movie.id),
          exact.map((h) => h.id),
          `${genre} like movie ${m.id}`,
        );
      }
    }
  });

  test('filters apply before the top-k cut', async () => {
    const id = await idOf('tt0116209');
    const mystery = await app.db.dataSource.query(
      `SELECT count(*)::int AS n FROM movie m JOIN poster_embedding e ON e.movie_id = m.id WHERE 'MYSTERY' = ANY(labels) AND m.id <> $1`,
      [Number(id)],
    );
    const r = await gql('query($id: ID) { similarPosters(poster: {movieId: $id}, k: 100, filter: {genres: [MYSTERY]}) { movie { genres } } }', { id });
    // Post-filtering the unfiltered top 100 would return only the few mystery films among them.
    assert.equal(r.data.similarPosters.length, Math.min(100, mystery[0].n));
    assert.ok(r.data.similarPosters.every((h: { movie: { genres: string[] } }) => h.movie.genres.includes('MYSTERY')));
    const y = await gql('query($id: ID) { similarPosters(poster: {movieId: $id}, k: 20, filter: {yearFrom: 2010, yearTo: 2012}) { movie { year } } }', { id });
    assert.ok(y.data.similarPosters.length > 0);
    assert.ok(y.data.similarPosters.every((h: { movie: { year: number } }) => h.movie.year >= 2010 && h.movie.year <= 2012));
    const m = await gql('query($id: ID!) { movie(id: $id) { similar(k: 4) { score movie { id } } } }', { id });
    assert.equal(m.data.movie.similar.length, 4);
  });

  test('filtered search on real embeddings: graph walk, projected scan and exact scan all agree with exact search', async () => {
    const rows = await app.db.dataSource.query<Array<{ id: number; labels: string[]; year: number | null }>>(
      `SELECT m.id, m.labels, m.year FROM movie m JOIN poster_embedding e ON e.movie_id = m.id ORDER BY m.id`,
    );
    // 10 copies of each real poster embedding (the first exact, the others with a little noise): 4,000 items.
    const rng = mulberry32(5);
    const items: Array<{ id: number; v: Float32Array; mask: number; year: number | null }> = [];
    for (const r of rows) {
      const v = await app.similarity.vectorOf(r.id);
      for (let c = 0; c < 10; c++) {
        const w = c === 0 ? Float32Array.from(v) : normalize(Float32Array.from(v, (x) => x + 0.003 * gaussian(rng)));
        items.push({ id: r.id * 16 + c, v: w, mask: labelMask(r.labels), year: r.year });
      }
    }
    const byId = new Map(items.map((it) => [it.id, it]));
    const genre = (g: string) => (id: number) => (byId.get(id)!.mask & labelMask([g])) !== 0;
    const years = (from: number, to: number) => (id: number) => {
      const y = byId.get(id)!.year;
      return y !== null && y >= from && y <= to;
    };
    const filters = { DRAMA: genre('DRAMA'), HORROR: genre('HORROR'), COMEDY: genre('COMEDY'), '2000-2004': years(2000, 2004), '2010-2020': years(2010, 2020) };
    const index = new CosineIndex(items[0].v.length, { exactBelow: 200 });
    for (const it of items) index.add(it.id, it.v);
    await index.buildGraph(tmpDir());
    // Default choices, then every filter through the graph walk, then every filter through the projected scan.
    for (const graphAbove of [index.opts.graphAbove, 0, 2]) {
      index.opts.graphAbove = graphAbove;
      for (const [name, f] of Object.entries(filters)) {
        let rSimilar = 0;
        let rSearch = 0;
        const Q = 25;
        for (let q = 0; q < Q; q++) {
          const it = items[(q * 157) % items.length];
          const notSelf = (x: number) => x !== it.id && f(x);
          const truth = index.exact(it.v, 10, notSelf);
          assert.equal(truth.length, 10);
          const similar = index.similarTo(it.id, 10, f);
          assert.ok(
            similar.every((h) => notSelf(h.id)),
            `${name}: every result passes the filter and is not the item`,
          );
          rSimilar += similar.filter((h) => truth.some((t) => t.id === h.id)).length / 10;
          // A new poster (not in the index): a perturbed vector.
          const query = normalize(Float32Array.from(it.v, (x) => x + 0.01 * gaussian(rng)));
          const exact = index.exact(query, 10, f);
          const got = index.search(query, 10, f);
          assert.ok(got.every((h) => f(h.id)));
          for (let i = 1; i < got.length; i++) assert.ok(got[i - 1].score >= got[i].score, 'best first');
          rSearch += got.filter((h) => exact.some((t) => t.id === h.id)).length / 10;
        }
        assert.ok(rSimilar / Q >= 0.95, `graphAbove ${graphAbove} ${name}: similarTo recall@10 ${rSimilar / Q}`);
        assert.ok(rSearch / Q >= 0.95, `graphAbove ${graphAbove} ${name}: search recall@10 ${rSearch / Q}`);
      }
    }
  });

  test('recommendations: never a liked or disliked movie, because ⊆ liked, diversified, unknown ids NOT_FOUND', async () => {
    const ids = (await gql('{ movies(first: 6) { edges { node { id } } } }')).data.movies.edges.map((e: { node: { id: string } }) => e.node.id);
    const liked = ids.slice(0, 3);
    const disliked = ids.slice(3, 5);
    const r = await gql('query($l: [ID!]!, $d: [ID!]) { recommendations(liked: $l, disliked: $d, k: 10) { score movie { id } because { id } } }', {
      l: liked,
      d: disliked,
    });
    assert.equal(r.errors, undefined, JSON.stringify(r.errors));
    const recs = r.data.recommendations;
    assert.equal(recs.length, 10);
    for (const x of recs) {
      assert.ok(!liked.includes(x.movie.id) && !disliked.includes(x.movie.id));
      assert.ok(x.because.length >= 1 && x.because.every((b: { id: string }) => liked.includes(b.id)));
    }
    assert.equal(new Set(recs.map((x: { movie: { id: string } }) => x.movie.id)).size, 10);
    // MMR: the list is less redundant than the plain nearest neighbours of the same query.
    const redundancy = async (movieIds: number[]) => {
      const vecs = await Promise.all(movieIds.map((i) => app.similarity.vectorOf(i)));
      let s = 0,
        n = 0;
      for (let i = 0; i < vecs.length; i++) for (let j = i + 1; j < vecs.length; j++, n++) s += vecs[i].reduce((a, v, d) => a + v * vecs[j][d], 0);
      return s / n;
    };
    const plain = await app.similarity.similarToMovie(Number(liked[0]), 10);
    const single = await gql('query($l: [ID!]!) { recommendations(liked: $l, k: 10) { movie { id } } }', { l: [liked[0]] });
    assert.ok(
      (await redundancy(single.data.recommendations.map((x: { movie: { id: string } }) => Number(x.movie.id)))) <=
        (await redundancy(plain.map((h) => h.movie.id))) + 1e-9,
    );
    const unknown = await gql('{ recommendations(liked: ["987654"]) { score } }');
    assert.equal(code(unknown), 'NOT_FOUND');
  });
});

describe('admin', () => {
  test('no key is UNAUTHENTICATED, a user key is FORBIDDEN, a bad key is UNAUTHENTICATED', async () => {
    assert.equal(code(await gql('{ modelVersions { id } }')), 'UNAUTHENTICATED');
    assert.equal(code(await gql('{ modelVersions { id } }', undefined, userKey)), 'FORBIDDEN');
    assert.equal(code(await gql('mutation { deleteMovie(id: "1") }', undefined, userKey)), 'FORBIDDEN');
    const bad = await gql('{ genres { count } }', undefined, 'mq_not-a-real-key');
    assert.equal(code(bad), 'UNAUTHENTICATED');
    assert.equal(bad.status, 401);
    // A user key works for public queries.
    assert.equal((await gql('{ genres { count } }', undefined, userKey)).errors, undefined);
  });

  test('retrain runs in the background, one job at a time; activation and rollback switch predictions', async () => {
    const first = await gql('mutation { retrain(input: {epochs: 20}) { id status } }', undefined, adminKey);
    assert.equal(first.errors, undefined, JSON.stringify(first.errors));
    assert.ok(['QUEUED', 'RUNNING'].includes(first.data.retrain.status));
    const second = await gql('mutation { retrain { id status } }', undefined, adminKey);
    assert.equal(second.data.retrain.id, first.data.retrain.id, 'a running job is returned, not a second one');
    let job;
    for (let i = 0; i < 600; i++) {
      job = (
        await gql(
          `{ trainingJob(id: "${first.data.retrain.id}") { status progress stage metrics { f1Macro hamming } modelVersionId error } }`,
          undefined,
          adminKey,
        )
      ).data.trainingJob;
      if (job.status === 'SUCCEEDED' || job.status === 'FAILED') break;
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.equal(job.status, 'SUCCEEDED', job.error);
    assert.equal(job.progress, 1);
    assert.ok(job.metrics.f1Macro > 0);
    const versions = (await gql('{ modelVersions { id name active metrics { f1Macro } } }', undefined, adminKey)).data.modelVersions;
    assert.equal(versions.length, 2);
    const [newer, older] = versions;
    assert.equal(newer.id, job.modelVersionId);
    assert.deepEqual([newer.active, older.active], [false, true], 'retrain without activate leaves the active model');
    const act = await gql(`mutation { activateModelVersion(id: "${newer.id}") { id active } }`, undefined, adminKey);
    assert.equal(act.data.activateModelVersion.active, true);
    const q = '{ predictGenres(poster: {movieId: "1"}) { modelVersion } }';
    assert.equal((await gql(q)).data.predictGenres.modelVersion, newer.name);
    await gql(`mutation { activateModelVersion(id: "${older.id}") { id } }`, undefined, adminKey);
    assert.equal((await gql(q)).data.predictGenres.modelVersion, older.name);
    assert.equal(code(await gql('mutation { activateModelVersion(id: "999") { id } }', undefined, adminKey)), 'NOT_FOUND');
    assert.equal((await gql('{ trainingJob(id: "999") { id } }', undefined, adminKey)).data.trainingJob, null);
    // A malformed id is named by its kind.
    assert.match((await gql('{ trainingJob(id: "x") { id } }', undefined, adminKey)).errors?.[0].message ?? '', /malformed training job id "x"/);
    assert.match(
      (await gql('mutation { activateModelVersion(id: "v1") { id } }', undefined, adminKey)).errors?.[0].message ?? '',
      /malformed model version id "v1"/,
    );
  });

  test('addMovie embeds and predicts before it returns; deleteMovie removes it everywhere', async () => {
    const bytes = posterBytes('tt0116209');
    // A re-encoded, slightly cropped copy: a different file that looks the same.
    const sharpMod = (await import('sharp')).default;
    const meta = await sharpMod(bytes).metadata();
    const flipped = await sharpMod(bytes)
      .extract({ left: 4, top: 4, width: meta.width - 8, height: meta.height - 8 })
      .jpeg({ quality: 70 })
      .toBuffer();
    const add = await gql(
      'mutation($b: String) { addMovie(input: {title: "Patient Copy", year: 2019, genres: ["Comedy", "Sci-Fi"], posterBase64: $b}) { id title genres predictedGenres { genre probability } similar(k: 3) { movie { imdbId } } } }',
      { b: flipped.toString('base64') },
      adminKey,
    );
    assert.equal(add.errors, undefined, JSON.stringify(add.errors));
    const m = add.data.addMovie;
    assert.deepEqual(m.genres, ['COMEDY', 'SCIFI']);
    assert.equal(m.predictedGenres.length, 13);
    assert.equal(m.similar[0].movie.imdbId, 'tt0116209', 'a re-encoded poster finds its original first');
    const found = await gql('query($b: String) { similarPosters(poster: {imageBase64: $b}, k: 1) { movie { id } } }', { b: bytes.toString('base64') });
    assert.equal(found.data.similarPosters[0].movie.id, m.id);
    assert.equal((await gql(`mutation { deleteMovie(id: "${m.id}") }`, undefined, adminKey)).data.deleteMovie, true);
    assert.equal((await gql(`{ movie(id: "${m.id}") { id } }`)).data.movie, null);
    const after = await gql('query($b: String) { similarPosters(poster: {imageBase64: $b}, k: 5) { movie { id } } }', { b: bytes.toString('base64') });
    assert.ok(after.data.similarPosters.every((h: { movie: { id: string } }) => h.movie.id !== m.id));
    const again = await gql(`mutation { deleteMovie(id: "${m.id}") }`, undefined, adminKey);
    assert.equal(code(again), 'NOT_FOUND', JSON.stringify(again));
    const corrupt = await gql('mutation { addMovie(input: {title: "Broken", posterBase64: "aGVsbG8="}) { id } }', undefined, adminKey);
    assert.equal(code(corrupt), 'BAD_USER_INPUT');
    assert.equal((await gql('{ movies(filter: {search: "Broken"}) { totalCount } }')).data.movies.totalCount, 0, 'nothing half-added');
  });
});

describe('safety', () => {
  test('depth, cost, page size, body size, batches, malformed queries; the server still answers', async () => {
    const deep = await gql('{ movies { edges { node { similar { movie { similar { movie { similar { movie { similar { movie { id } } } } } } } } } } } }');
    assert.deepEqual([code(deep), reason(deep)], ['BAD_USER_INPUT', 'QUERY_TOO_DEEP']);
    const costly = await gql('{ movies(first: 100) { edges { node { similar(k: 100) { movie { similar(k: 100) { score } } } } } } }');
    assert.equal(code(costly), 'BAD_USER_INPUT');
    assert.equal(code(await gql('{ movies(first: 1000) { totalCount } }')), 'BAD_USER_INPUT');
    assert.equal(code(await gql('{ movies(first: 1 { totalCount } }')), 'GRAPHQL_PARSE_FAILED');
    assert.equal(code(await gql('{ nope }')), 'GRAPHQL_VALIDATION_FAILED');
    const huge = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ genres { count } }', pad: 'x'.repeat(17 * 1024 * 1024) }),
    });
    assert.equal(huge.status, 413);
    const batch = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(Array.from({ length: 11 }, () => ({ query: '{ genres { count } }' }))),
    });
    assert.equal(batch.status, 400);
    const okBatch = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([{ query: '{ genres { count } }' }, { query: '{ movies { totalCount } }' }]),
    });
    assert.equal(((await okBatch.json()) as unknown[]).length, 2);
    const bad = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query": ' });
    assert.equal(bad.status, 400);
    assert.equal((await fetch(`${base}/healthz`)).status, 200);
    assert.equal((await gql('{ movies(first: 1) { totalCount } }')).data.movies.totalCount, 400);
  });

  test('a page of movies with predictions and look-alikes costs a fixed number of queries', async () => {
    const ds = app.db.dataSource;
    const real = ds.query.bind(ds);
    let count = 0;
    (ds as { query: typeof ds.query }).query = ((...args: Parameters<typeof ds.query>) => {
      count++;
      return real(...args);
    }) as typeof ds.query;
    try {
      const q = (n: number) =>
        `{ movies(first: ${n}) { edges { node { id predictedGenres { genre } similar(k: 3) { movie { title predictedGenres { probability } } } } } } }`;
      count = 0;
      assert.equal((await gql(q(5))).errors, undefined);
      const small = count;
      count = 0;
      assert.equal((await gql(q(40))).errors, undefined);
      assert.equal(count, small, `queries for 40 movies (${count}) should equal those for 5 (${small})`);
    } finally {
      (ds as { query: typeof ds.query }).query = real;
    }
  });

  test('production hides introspection and stack traces; development shows them; CORS only for listed origins', async () => {
    const dev = await gql('{ __schema { queryType { name } } }');
    assert.equal(dev.data.__schema.queryType.name, 'Query');
    assert.ok(Array.isArray((await gql('{ movie(id: "abc") { id } }')).errors?.[0].extensions?.stacktrace));
    const prod = new MarqueeServer(app, { production: true, log: () => undefined });
    const { url: prodUrl } = await prod.start('127.0.0.1', 0);
    try {
      const post = async (query: string, headers: Record<string, string> = {}) =>
        fetch(prodUrl, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ query }) });
      const intro = (await (await post('{ __schema { queryType { name } } }')).json()) as GqlResult;
      assert.equal(code(intro), 'GRAPHQL_VALIDATION_FAILED');
      const err = (await (await post('{ movie(id: "abc") { id } }')).json()) as GqlResult;
      assert.equal(err.errors?.[0].extensions?.code, 'BAD_USER_INPUT');
      assert.equal(err.errors?.[0].extensions?.stacktrace, undefined);
      const noCors = await post('{ genres { count } }', { origin: 'https://frontend.example' });
      assert.equal(noCors.headers.get('access-control-allow-origin'), null);
      app.config.server.corsOrigins = ['https://frontend.example'];
      const cors = await post('{ genres { count } }', { origin: 'https://frontend.example' });
      assert.equal(cors.headers.get('access-control-allow-origin'), 'https://frontend.example');
      const other = await post('{ genres { count } }', { origin: 'https://evil.example' });
      assert.equal(other.headers.get('access-control-allow-origin'), null);
    } finally {
      app.config.server.corsOrigins = [];
      await prod.stop();
    }
  });

  test('MARQUEE_REQUIRE_KEY=1 needs a key for public queries too', async () => {
    app.config.server.requireKey = true;
    try {
      assert.equal(code(await gql('{ genres { count } }')), 'UNAUTHENTICATED');
      assert.equal((await gql('{ genres { count } }', undefined, userKey)).errors, undefined);
    } finally {
      app.config.server.requireKey = false;
    }
  });

  test('a failed training job leaves the active model untouched', async () => {
    const active = (await app.models.activeVersion())!.name;
    // Without embeddings training cannot run: the job must fail cleanly.
    await app.db.dataSource.query(`UPDATE poster_embedding SET backbone = 'parked'`);
    try {
      const job = (await gql('mutation { retrain { id } }', undefined, adminKey)).data.retrain;
      let status;
      for (let i = 0; i < 100; i++) {
        status = (await gql(`{ trainingJob(id: "${job.id}") { status error } }`, undefined, adminKey)).data.trainingJob;
        if (status.status === 'FAILED' || status.status === 'SUCCEEDED') break;
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal(status.status, 'FAILED');
      assert.match(status.error, /no embeddings/);
      assert.equal((await app.models.activeVersion())!.name, active);
      assert.equal((await gql('{ predictGenres(poster: {movieId: "1"}) { modelVersion } }')).data.predictGenres.modelVersion, active);
    } finally {
      await app.db.dataSource.query(`UPDATE poster_embedding SET backbone = $1`, [app.embedding.backbone]);
    }
  });

  test('training (what a retrain runs) computes off the event loop: /healthz answers at once all through the MLP epochs', async (t) => {
    const versions = (await app.models.listVersions()).length;
    let stage = '';
    const training = app.models.train({ epochs: 300, activate: false, onProgress: (p) => (stage = p.stage) });
    const latencies: number[] = [];
    let windowMs = 0;
    let policies: number[] | undefined;
    for (let done = false; !done;) {
      const t0 = performance.now();
      const inWindow = stage === 'mlp';
      const r = await fetch(`${base}/healthz`);
      await r.text();
      const ms = performance.now() - t0;
      if (inWindow && stage === 'mlp') {
        latencies.push(ms);
        windowMs += ms;
        policies ??= threadPolicies();
      }
      done = await Promise.race([training.then(() => true), new Promise<boolean>((r) => setImmediate(() => r(false)))]);
    }
    await training;
    assert.equal((await app.models.listVersions()).length, versions + 1);
    latencies.sort((a, b) => a - b);
    const p90 = latencies[Math.floor(latencies.length * 0.9)];
    const summary = `${latencies.length} answers in ${windowMs.toFixed(0)} ms of MLP training; p90 ${p90?.toFixed(1)} ms, max ${latencies.at(-1)?.toFixed(1)} ms`;
    t.diagnostic(summary);
    // Training on the event loop blocks it for 100s of ms at a time: a handful of slow answers.
    assert.ok(latencies.length >= 10, summary);
    assert.ok(p90 < 150, summary);
    // The training thread (and any thread it started) runs SCHED_IDLE: a waking event loop preempts it at once.
    assert.ok(policies?.includes(SCHED_IDLE), `thread policies during the MLP: ${policies?.join(' ')}`);
    assert.equal(policies![0], 0, 'the main thread keeps SCHED_OTHER');
  });

  test("a serving process's retrain reads the index's vectors (the database's, exactly); without a complete exact index it pages the database", async () => {
    await app.similarity.ready();
    const pages = [];
    for await (const page of new EmbeddingRepository(app.db.dataSource).loadAll(app.embedding.backbone)) pages.push(page);
    const stored = { ids: Int32Array.from(pages.flatMap((p) => Array.from(p.ids))), vectors: new Float32Array(pages.flatMap((p) => Array.from(p.vectors))) };
    const resident = await app.similarity.residentEmbeddings();
    assert.ok(resident, 'the loaded fp32 index offers its vectors');
    assert.deepEqual(resident.ids, stored.ids);
    assert.deepEqual(resident.vectors, stored.vectors);
    const set = await app.models.loadLabelledSet();
    assert.deepEqual(set.movieIds, stored.ids);
    assert.deepEqual(set.X, stored.vectors);
    // One movie out of the index only (as before a change reaches it): counts differ, so the database is read.
    const id = stored.ids[7];
    const vector = app.similarity.embeddingOf(id)!.slice();
    app.similarity.onMovieDeleted(id);
    try {
      assert.equal(await app.similarity.residentEmbeddings(), undefined);
      assert.deepEqual((await app.models.loadLabelledSet()).X, stored.vectors);
    } finally {
      app.similarity.onMovieChanged(await app.db.dataSource.getRepository(MovieEntity).findOneByOrFail({ id }), vector);
    }
    assert.ok(await app.similarity.residentEmbeddings());
  });

  test('an aborted training stops at once and stores nothing', async () => {
    const versions = (await app.models.listVersions()).length;
    const stop = new AbortController();
    let abortedAt = 0;
    const training = app.models.train({
      epochs: 400,
      signal: stop.signal,
      onProgress: (p) => {
        if (p.stage !== 'mlp' || abortedAt) return;
        abortedAt = performance.now();
        stop.abort(new Error('stop now'));
      },
    });
    await assert.rejects(training, /stop now/);
    assert.ok(performance.now() - abortedAt < 1000, 'the training thread is terminated, not waited for');
    assert.equal((await app.models.listVersions()).length, versions);
  });
});
