/**
 * Issue 12's holes, each closed and kept closed: the query cost with the request's variables and
 * per batch, the response cap, duplicate addMovie under concurrency, variable coercion errors, ids
 * beyond 32 bits, readiness, posters behind MARQUEE_REQUIRE_KEY, no field suggestions in production,
 * the import's refusals and the CLI's. Real server over HTTP, real posters and backbone, PGlite (and
 * PostgreSQL for addMovie when TEST_DATABASE_URL is set).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { App } from '../src/app';
import { SequencedQueryQueue } from '../src/db/pglite-query-queue';
import { MarqueeServer } from '../src/server/http-server';
import { PosterStore } from '../src/services/poster-store';
import { CLI, cleanupAll, DB_KINDS, errorCode, errorReason, graphqlClient, MODELS_DIR, openApp, POSTERS_DIR, sampleSubset, tmpDir } from './support';

after(cleanupAll);

async function startServer(app: App, opts: ConstructorParameters<typeof MarqueeServer>[1] = {}) {
  const server = new MarqueeServer(app, { log: () => undefined, ...opts });
  const { url } = await server.start('127.0.0.1', 0);
  return { server, url, gql: graphqlClient(url), base: url.replace(/\/graphql$/, '') };
}

const poster = (imdb: string) => fs.readFileSync(path.join(POSTERS_DIR, `images/${imdb}.jpg`));

describe('the API against issue 12', () => {
  let app: App;
  let api: Awaited<ReturnType<typeof startServer>>;
  let prod: Awaited<ReturnType<typeof startServer>>;
  before(async () => {
    app = await openApp('pglite');
    await app.importer.importCsv(sampleSubset(tmpDir(), 30), { progress: false });
    api = await startServer(app);
    prod = await startServer(app, { production: true });
  });
  after(async () => {
    await api.server.stop();
    await prod.server.stop();
  });

  test('cost: list sizes from variables and variable defaults are priced like literals; a batch sums its operations', async () => {
    const nested = 'movies(first: $n) { edges { node { similar(k: $n) { movie { similar(k: $n) { score } } } } } }';
    const literal = await api.gql(`{ ${nested.replace(/\$n/g, '100')} }`);
    assert.deepEqual([errorCode(literal), errorReason(literal)], ['BAD_USER_INPUT', 'QUERY_TOO_COSTLY']);
    const byVariable = await api.gql(`query($n: Int) { ${nested} }`, { n: 100 });
    assert.deepEqual([byVariable.status, errorReason(byVariable)], [400, 'QUERY_TOO_COSTLY'], JSON.stringify(byVariable).slice(0, 300));
    assert.match(byVariable.errors![0].message, /query cost 1020301 exceeds the limit of 20000/);
    const byDefault = await api.gql(`query($n: Int = 100) { ${nested} }`);
    assert.equal(errorReason(byDefault), 'QUERY_TOO_COSTLY');
    // Absent arguments count with their schema defaults (first 20, k 10): 20 * 10 * 10 is 2,000 scores.
    assert.equal((await api.gql('{ movies { edges { node { similar { movie { similar { score } } } } } } }')).errors?.[0]?.extensions?.reason, undefined);
    // A small value passes.
    assert.equal((await api.gql(`query($n: Int) { ${nested} }`, { n: 2 })).errors, undefined);

    // Ten operations of cost 3,201 (30 aliased fields of 100 movies): one passes alone, the ten together cost 32,010.
    const aliases = `movies(first: 100) { edges { node { ${Array.from({ length: 30 }, (_, i) => `t${i}: title`).join(' ')} } } }`;
    const one = await api.gql(`{ ${aliases} }`);
    assert.equal(one.errors, undefined);
    const res = await fetch(api.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(Array.from({ length: 10 }, () => ({ query: `{ ${aliases} }` }))),
    });
    const batch = (await res.json()) as Array<{ errors?: Array<{ extensions: { reason: string } }> }>;
    const refused = batch.filter((b) => b.errors?.[0].extensions.reason === 'QUERY_TOO_COSTLY').length;
    assert.ok(refused >= 4, `the operations past the batch's budget are refused (${refused} of 10)`);
  });

  test('responses over the cap are refused with RESPONSE_TOO_LARGE, not sent', async () => {
    const small = await startServer(app, { maxResponseBytes: 800 });
    try {
      const r = await small.gql('{ movies(first: 30) { edges { node { title storyline } } } }');
      assert.ok(JSON.stringify(r).length > 0);
      assert.deepEqual([r.status, errorCode(r), errorReason(r)], [400, 'BAD_USER_INPUT', 'RESPONSE_TOO_LARGE']);
      assert.equal((await small.gql('{ movies(first: 1) { totalCount } }')).data.movies.totalCount, 30);
    } finally {
      await small.server.stop();
    }
  });

  test('variables: wrong-typed, missing and unknown ones are BAD_USER_INPUT with the message, also in production', async () => {
    for (const target of [api, prod]) {
      const wrong = await target.gql('query($n: Int) { movies(first: $n) { totalCount } }', { n: 'abc' });
      assert.deepEqual([wrong.status, errorCode(wrong)], [400, 'BAD_USER_INPUT']);
      assert.match(wrong.errors![0].message, /Variable "\$n" got invalid value "abc"; Int cannot represent non-integer value/);
      const missing = await target.gql('query($p: PosterInput!) { predictGenres(poster: $p) { modelVersion } }', {});
      assert.equal(errorCode(missing), 'BAD_USER_INPUT');
      assert.match(missing.errors![0].message, /Variable "\$p" of required type "PosterInput!" was not provided/);
      const unknown = await target.gql('query($p: PosterInput!) { predictGenres(poster: $p) { modelVersion } }', { p: { movieId: '1', nope: 1 } });
      assert.equal(errorCode(unknown), 'BAD_USER_INPUT');
      assert.match(unknown.errors![0].message, /Field "nope" is not defined by type "PosterInput"/);
    }
  });

  test('ids and cursors beyond 32 bits are BAD_USER_INPUT', async () => {
    const big = await api.gql('{ movie(id: "99999999999") { id } }');
    assert.deepEqual([errorCode(big), errorReason(big)], ['BAD_USER_INPUT', 'BAD_ID']);
    const cursor = Buffer.from('movie:99999999999').toString('base64url');
    const page = await prod.gql('query($c: String) { movies(first: 1, after: $c) { totalCount } }', { c: cursor });
    assert.deepEqual([errorCode(page), errorReason(page)], ['BAD_USER_INPUT', 'BAD_CURSOR']);
    const similar = await prod.gql('{ similarPosters(poster: {movieId: "4294967296"}) { score } }');
    assert.equal(errorCode(similar), 'BAD_USER_INPUT');
  });

  test('production names no other fields in validation errors ("Did you mean")', async () => {
    const dev = await api.gql('{ movies { totalCont } }');
    assert.match(dev.errors![0].message, /Did you mean "totalCount"\?/);
    const p = await prod.gql('{ movies { totalCont } }');
    assert.equal(errorCode(p), 'GRAPHQL_VALIDATION_FAILED');
    assert.equal(p.errors![0].message, 'Cannot query field "totalCont" on type "MovieConnection".');
  });

  test('readyz: not ready while the index loads (answered at once) and without an active model', async () => {
    const fresh = await openApp('pglite');
    const s = await startServer(fresh);
    try {
      const t0 = Date.now();
      const first = await fetch(`${s.base}/readyz`);
      assert.ok(Date.now() - t0 < 1500, 'readyz answers without waiting for the index');
      assert.equal(first.status, 503);
      await fresh.similarity.ready();
      const r = await fetch(`${s.base}/readyz`);
      assert.equal(r.status, 503);
      assert.deepEqual(await r.json(), { status: 'no active model', database: 'pglite' });
    } finally {
      await s.server.stop();
    }
  });

  test('/posters/ needs a key under MARQUEE_REQUIRE_KEY', async () => {
    const locked = await openApp('pglite', (c) => (c.server.requireKey = true));
    await locked.importer.importCsv(sampleSubset(tmpDir(), 1), { progress: false });
    const key = (await locked.apiKeys.create('user')).key;
    const s = await startServer(locked);
    try {
      const m = await s.gql('{ movies(first: 1) { edges { node { posterUrl } } } }', undefined, key);
      const url = s.base + m.data.movies.edges[0].node.posterUrl;
      assert.equal((await fetch(url)).status, 401);
      assert.equal((await fetch(url, { headers: { authorization: 'Bearer nope' } })).status, 401);
      assert.equal((await fetch(url, { headers: { authorization: `Bearer ${key}` } })).status, 200);
    } finally {
      await s.server.stop();
    }
  });
});

for (const kind of DB_KINDS) {
  describe(`addMovie on ${kind}`, () => {
    let app: App;
    let api: Awaited<ReturnType<typeof startServer>>;
    let key: string;
    before(async () => {
      app = await openApp(kind);
      api = await startServer(app);
      key = (await app.apiKeys.create('admin')).key;
    });
    after(() => api.server.stop());

    test('a duplicate is a CONFLICT, also when 8 calls race; a whitespace title is refused', async () => {
      const b = poster('tt0116209').toString('base64');
      const add = (input: string) => api.gql(`mutation($b: String) { addMovie(input: {${input}, posterBase64: $b}) { id } }`, { b }, key);
      const first = await add('title: "Same", year: 2001');
      assert.equal(first.errors, undefined, JSON.stringify(first.errors));
      const again = await add('title: "same", year: 2001');
      assert.deepEqual([errorCode(again), errorReason(again)], ['CONFLICT', 'DUPLICATE_MOVIE']);
      const racing = await Promise.all(Array.from({ length: 8 }, (_, i) => add(`title: "Racer ${i}", imdbId: "tt9900001"`)));
      assert.equal(racing.filter((r) => !r.errors).length, 1, JSON.stringify(racing.map((r) => r.errors?.[0]?.message)));
      assert.equal(racing.filter((r) => errorCode(r) === 'CONFLICT').length, 7);
      const winner = racing.find((r) => !r.errors)!.data.addMovie.id;
      const stored = await app.db.dataSource.query(`SELECT id, title FROM movie WHERE imdb_id = 'tt9900001'`);
      assert.equal(stored.length, 1);
      assert.equal(String(stored[0].id), winner);
      const blank = await add('title: "   "');
      assert.deepEqual([errorCode(blank), errorReason(blank)], ['BAD_USER_INPUT', 'BAD_TITLE']);
      assert.equal((await app.db.dataSource.query(`SELECT count(*)::int AS n FROM movie`))[0].n, 2);
    });
  });
}

describe('the embedded database under concurrency', () => {
  // Frontend messages of PostgreSQL's extended protocol, as node-postgres sends them.
  const msg = (type: string, body: Buffer) => {
    const head = Buffer.alloc(5);
    head.write(type, 0);
    head.writeInt32BE(body.length + 4, 1);
    return new Uint8Array(Buffer.concat([head, body]));
  };
  const cstr = (s: string) => Buffer.from(`${s}\0`);
  const int16 = (n: number) => Buffer.from([n >> 8, n & 255]);
  const parse = (sql: string) => msg('P', Buffer.concat([cstr(''), cstr(sql), int16(0)]));
  const bind = (values: string[]) =>
    msg(
      'B',
      Buffer.concat([
        cstr(''),
        cstr(''),
        int16(0),
        int16(values.length),
        ...values.map((v) => Buffer.concat([Buffer.from([0, 0, 0, v.length]), Buffer.from(v)])),
        int16(0),
      ]),
    );
  const execute = () => msg('E', Buffer.concat([cstr(''), Buffer.alloc(4)]));
  const sync = () => msg('S', Buffer.alloc(0));

  /** Two connections' statements on one queue, the second's Parse arriving between the first's Parse and Bind. */
  async function interleave(queue: { enqueue(id: number, m: Uint8Array, onData: (d: Uint8Array) => void): Promise<number> }): Promise<string> {
    let outA = '';
    const a = (m: Uint8Array) => queue.enqueue(1, m, (d) => (outA += Buffer.from(d).toString('latin1')));
    const b = (m: Uint8Array) => queue.enqueue(2, m, () => undefined);
    const parsedA = a(parse('SELECT $1::int + $2::int AS s'));
    const bDone = b(parse('SELECT $1::int AS one'))
      .then(() => b(bind(['7'])))
      .then(() => b(execute()))
      .then(() => b(sync()));
    await parsedA;
    await a(bind(['40', '2']));
    await a(execute());
    await a(sync());
    await bDone;
    return outA;
  }

  test("connections' extended-protocol messages never interleave on PGlite's one session", async () => {
    const db = await PGlite.create();
    try {
      // The library's own queue runs B's Parse between A's Parse and Bind: A binds B's statement.
      const library = (new PGLiteSocketServer({ db }) as unknown as { queryQueue: Parameters<typeof interleave>[0] }).queryQueue;
      assert.match(await interleave(library), /bind message supplies 2 parameters, but prepared statement "" requires 1/);
      // Ours holds the session for A until its Sync: A gets its own answer.
      const ours = await interleave(new SequencedQueryQueue(db));
      assert.doesNotMatch(ours, /bind message supplies/);
      assert.match(ours, /42/);
    } finally {
      await db.close();
    }
  });
});

describe('import refusals', () => {
  test('TIFF posters, oversize fields, duplicate imdb ids and invalid UTF-8 are refused per line with reasons', async () => {
    const app = await openApp('pglite');
    const dir = tmpDir();
    const jpg = path.join(POSTERS_DIR, 'images/tt0116209.jpg');
    await sharp(jpg).tiff().toFile(path.join(dir, 'poster.tif'));
    const rows = [
      'name,year,genre,storyline,img_url,imdb_id',
      `Good,1996,Drama,fine,${jpg},tt0000001`,
      `Tiff,1996,Drama,fine,poster.tif,tt0000002`,
      `Long,1996,Drama,"${'x'.repeat(20_000)}",${jpg},tt0000003`,
      `Again,1997,Drama,dup,${jpg},tt0000001`,
      `Bad \xff bytes,1996,Drama,fine,${jpg},tt0000004`,
      `   ,1996,Drama,blank title,${jpg},tt0000005`,
    ];
    const csv = path.join(dir, 'movies.csv');
    fs.writeFileSync(csv, Buffer.from(rows.join('\n') + '\n', 'latin1'));
    const s = await app.importer.importCsv(csv, { progress: false });
    assert.equal(s.imported, 1);
    assert.deepEqual(
      s.skipped.map((k) => [k.line, k.reason]),
      [
        [3, 'UNSUPPORTED_FORMAT'],
        [4, 'FIELD_TOO_LONG'],
        [5, 'DUPLICATE_IMDB_ID'],
        [6, 'INVALID_UTF8'],
        [7, 'NO_NAME'],
      ],
    );
    assert.match(s.skipped[0].message, /TIFF images are not accepted/);
    assert.match(s.skipped[2].message, /imdb_id tt0000001 is on line 2 already/);
  });

  test('temporary poster files of a killed writer are removed at start; a live writer keeps its own', async () => {
    const config = (await openApp('pglite')).config;
    const posters = path.join(config.storage.dataDir, 'posters', 'ab');
    fs.mkdirSync(posters, { recursive: true });
    const dead = path.join(posters, `${'a'.repeat(64)}.jpg.999999.0badc0de.tmp`);
    const live = path.join(posters, `${'b'.repeat(64)}.jpg.${process.pid}.0badc0de.tmp`);
    fs.writeFileSync(dead, 'half');
    fs.writeFileSync(live, 'half');
    assert.equal(new PosterStore(config.storage.dataDir).removeStaleTemp(), 1);
    assert.deepEqual([fs.existsSync(dead), fs.existsSync(live)], [false, true]);
  });
});

describe('CLI refusals', () => {
  const run = (args: string[]) =>
    new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [CLI, ...args], {
        env: { ...process.env, MARQUEE_DATA_DIR: tmpDir(), MARQUEE_MODELS_DIR: MODELS_DIR, DATABASE_URL: '' },
      });
      let stderr = '';
      child.stderr.on('data', (d) => (stderr += d));
      child.on('exit', (code) => resolve({ code, stderr }));
    });

  test('unknown options and train --epochs 0 are usage errors', async () => {
    const typo = await run(['import', 'x.csv', '--limt', '5']);
    assert.equal(typo.code, 2);
    assert.match(typo.stderr, /unknown option --limt for import \(it takes --limit, --allow-private-urls, --quiet, --queue\)/);
    const zero = await run(['train', '--epochs', '0']);
    assert.equal(zero.code, 2);
    assert.match(zero.stderr, /--epochs needs an integer from 1 to 500/);
  });
});
