/**
 * The GraphQL API end to end: real server over real HTTP, real posters, the real ONNX backbone,
 * a genre model trained on the sample, the embedded database (and PostgreSQL for the movie queries
 * when TEST_DATABASE_URL is set).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { App } from '../src/app';
import { MarqueeServer } from '../src/server/http-server';
import { cleanupAll, DB_KINDS, errorCode, GqlResult, graphqlClient, openApp, POSTERS_DIR, SAMPLE_CSV } from './support';

after(cleanupAll);

async function startServer(app: App, opts: ConstructorParameters<typeof MarqueeServer>[1] = {}) {
  const server = new MarqueeServer(app, { log: () => undefined, ...opts });
  const { url } = await server.start('127.0.0.1', 0);
  return { server, url, gql: graphqlClient(url), base: url.replace(/\/graphql$/, '') };
}

const code = errorCode;

for (const kind of DB_KINDS) {
  describe(`movie queries over HTTP on ${kind}`, () => {
    let app: App;
    let api: Awaited<ReturnType<typeof startServer>>;
    before(async () => {
      app = await openApp(kind);
      await app.importer.importCsv(SAMPLE_CSV, { progress: false });
      api = await startServer(app);
    });
    after(() => api.server.stop());

    test('movies pages through every movie with stable cursors and totalCount', async () => {
      const seen = new Set<string>();
      let after: string | null = null;
      let total: number | undefined;
      for (;;) {
        const r: GqlResult = await api.gql(
          'query($after: String) { movies(first: 100, after: $after) { totalCount edges { cursor node { id title } } pageInfo { hasNextPage endCursor } } }',
          { after },
        );
        assert.equal(r.errors, undefined);
        total = r.data.movies.totalCount;
        for (const e of r.data.movies.edges) seen.add(e.node.id);
        if (!r.data.movies.pageInfo.hasNextPage) break;
        after = r.data.movies.pageInfo.endCursor;
      }
      assert.equal(total, 400);
      assert.equal(seen.size, 400);
    });

    test('filters by genres (all listed), year range and title search, and genres counts match the data', async () => {
      const expected = await app.db.dataSource.query(
        `SELECT count(*)::int AS n FROM movie WHERE 'COMEDY' = ANY(labels) AND 'ROMANCE' = ANY(labels) AND year BETWEEN 2000 AND 2010`,
      );
      const r = await api.gql(
        '{ movies(first: 100, filter: {genres: [COMEDY, ROMANCE], yearFrom: 2000, yearTo: 2010}) { totalCount edges { node { year genres } } } }',
      );
      assert.equal(r.data.movies.totalCount, expected[0].n);
      for (const e of r.data.movies.edges) {
        assert.ok(e.node.genres.includes('COMEDY') && e.node.genres.includes('ROMANCE'));
        assert.ok(e.node.year >= 2000 && e.node.year <= 2010);
      }
      const s = await api.gql('{ movies(first: 5, filter: {search: "LOVE"}) { totalCount edges { node { title } } } }');
      assert.ok(s.data.movies.totalCount > 0);
      for (const e of s.data.movies.edges) assert.match(e.node.title, /love/i);
      const g = await api.gql('{ genres { genre count } }');
      const counts = Object.fromEntries(g.data.genres.map((x: { genre: string; count: number }) => [x.genre, x.count]));
      const truth = await app.db.dataSource.query(`SELECT l, count(*)::int AS n FROM movie, unnest(labels) l GROUP BY l`);
      assert.deepEqual(counts, Object.fromEntries(truth.map((t: { l: string; n: number }) => [t.l, t.n])));
      assert.equal(Object.keys(counts).length, 13);
    });

    test('movie by id and imdbId; poster served at posterUrl; unknown ids', async () => {
      const r = await api.gql('{ movie(imdbId: "tt0116209") { id title year rawGenres genres posterUrl } }');
      assert.deepEqual([r.data.movie.title, r.data.movie.year, r.data.movie.genres], ['English Patient;The', 1996, ['DRAMA', 'ROMANCE', 'OTHERS']]);
      const byId = await api.gql('query($id: ID) { movie(id: $id) { imdbId } }', { id: r.data.movie.id });
      assert.equal(byId.data.movie.imdbId, 'tt0116209');
      const img = await fetch(api.base + r.data.movie.posterUrl);
      assert.equal(img.status, 200);
      assert.equal(img.headers.get('content-type'), 'image/jpeg');
      assert.deepEqual(Buffer.from(await img.arrayBuffer()), fs.readFileSync(path.join(POSTERS_DIR, 'images/tt0116209.jpg')));
      assert.equal((await api.gql('{ movie(id: "999999") { id } }')).data.movie, null);
      assert.equal(code(await api.gql('{ movie(id: "abc") { id } }')), 'BAD_USER_INPUT');
      assert.equal((await fetch(`${api.base}/posters/../../etc/passwd`)).status, 404);
      assert.equal((await fetch(`${api.base}/healthz`)).status, 200);
      // No genre model here: not ready, with the reason and the database.
      await app.similarity.ready();
      const ready = await fetch(`${api.base}/readyz`);
      assert.equal(ready.status, 503);
      assert.deepEqual(await ready.json(), { status: 'no active model', database: kind });
    });
  });
}
