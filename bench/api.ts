/**
 * API throughput and the cosine index's quality over a data directory holding the full poster set
 * (import + embed + train first). The server runs as a child process (as in production); autocannon
 * drives it from this process over loopback.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import autocannon from 'autocannon';
import sharp from 'sharp';
import { App } from '../src/app';
import { loadConfig } from '../src/config';
import { LIKE_AT } from '../src/domain/rating';
import { mulberry32 } from '../src/ml/math/random';

const ROOT = path.resolve(__dirname, '../..');

export interface ApiBenchOptions {
  dataDir: string;
  modelsDir: string;
  postersDir: string;
  seconds?: number;
  port?: number;
  log?: (line: string) => void;
  /** Only the look-alike rows (unfiltered, one genre, a year range) after the `__typename` baseline. */
  similarOnly?: boolean;
  /** Extra environment of the server process (e.g. DATABASE_URL and MARQUEE_JOBS=worker). */
  env?: Record<string, string>;
}

export async function benchIndex(opts: ApiBenchOptions, queries = 1000): Promise<Record<string, number>> {
  const app = await App.open(loadConfig({ ...process.env, MARQUEE_DATA_DIR: opts.dataDir, MARQUEE_MODELS_DIR: opts.modelsDir, DATABASE_URL: '' }));
  try {
    let t = Date.now();
    await app.similarity.ready();
    const loadMs = Date.now() - t;
    t = Date.now();
    await app.similarity.graphBuilt();
    const graphMs = Date.now() - t;
    const ids = (await app.db.dataSource.query<Array<{ movie_id: number }>>(`SELECT movie_id FROM poster_embedding ORDER BY movie_id`)).map((r) => r.movie_id);
    const index = (app.similarity as unknown as { index: import('../src/ml/index/cosine-index').CosineIndex }).index;
    let recall = 0;
    let exactNs = 0;
    let graphNs = 0;
    for (let q = 0; q < queries; q++) {
      const id = ids[(q * 7919) % ids.length];
      const v = index.get(id)!;
      const notSelf = (x: number) => x !== id;
      let s = process.hrtime.bigint();
      const exact = index.exact(v, 10, notSelf);
      exactNs += Number(process.hrtime.bigint() - s);
      s = process.hrtime.bigint();
      const approx = index.search(v, 10, notSelf);
      graphNs += Number(process.hrtime.bigint() - s);
      const truth = new Set(exact.map((h) => h.id));
      recall += approx.filter((h) => truth.has(h.id)).length / exact.length;
    }
    // Filtered "like this movie" (one genre, a year range) against an exact scan with the same filter.
    const catalog = (app.similarity as unknown as { catalog: import('../src/services/movie-catalog').MovieCatalog }).catalog;
    const filtered: Record<string, number> = {};
    const specs: Array<[string, import('../src/domain/movie').MovieFilterSpec]> = [
      ['HORROR', { labels: ['HORROR'] }],
      ['2000-2004', { yearFrom: 2000, yearTo: 2004 }],
    ];
    for (const [name, spec] of specs) {
      const f = catalog.filterFn(spec)!;
      let r = 0;
      let ns = 0;
      const n = Math.min(queries, 300);
      for (let q = 0; q < n; q++) {
        const id = ids[(q * 7919) % ids.length];
        const truth = new Set(index.exact(index.get(id)!, 10, (x) => x !== id && f(x)).map((h) => h.id));
        const s = process.hrtime.bigint();
        const got = index.similarTo(id, 10, f);
        ns += Number(process.hrtime.bigint() - s);
        r += got.filter((h) => truth.has(h.id)).length / truth.size;
      }
      filtered[`filtered (${name}) recall@10 vs exact`] = r / n;
      filtered[`filtered (${name}) ms/query`] = ns / n / 1e6;
    }
    return {
      'index posters': index.size,
      'index load ms': loadMs,
      'index graph build or cache load ms': graphMs,
      'recall@10 vs exact': recall / queries,
      'exact top-10 ms/query': exactNs / queries / 1e6,
      'HNSW top-10 ms/query': graphNs / queries / 1e6,
      ...filtered,
    };
  } finally {
    await app.close();
  }
}

async function waitReady(base: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const r = await fetch(`${base}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: '{ serverInfo { indexWarm } }' }),
      });
      const j = (await r.json()) as { data?: { serverInfo: { indexWarm: boolean } } };
      // Warm: the graph built and the genre filters' lists computed, as a server is once it has started.
      if (j.data?.serverInfo.indexWarm) return;
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error('server did not become ready');
}

/** The load generator: `connections` clients POSTing `body()` to `url` for `seconds`. */
export function cannon(url: string, connections: number, seconds: number, body: () => string): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    autocannon(
      {
        url,
        connections,
        duration: seconds,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        requests: [{ setupRequest: (req: autocannon.Request) => ({ ...req, body: body() }) }],
      },
      (err: Error | null, res) => (err ? reject(err) : resolve(res)),
    );
  });
}

/** The environment of a benchmarked `marquee serve`: the data directory on the embedded database, production mode, loopback. */
export function serverProcessEnv(opts: { dataDir: string; modelsDir: string }, port: number, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    MARQUEE_DATA_DIR: opts.dataDir,
    MARQUEE_MODELS_DIR: opts.modelsDir,
    DATABASE_URL: '',
    PORT: String(port),
    HOST: '127.0.0.1',
    NODE_ENV: 'production',
    ...extra,
  };
}

/** `marquee serve` as a child process (as in production) on the data directory, once its index graph is ready. */
export async function startServerProcess(opts: ApiBenchOptions): Promise<{ base: string; stderr: () => string; stop: () => Promise<void> }> {
  const port = opts.port ?? 4567;
  const env = serverProcessEnv(opts, port, opts.env);
  const child = spawn(process.execPath, [path.join(ROOT, 'bin/marquee.js'), 'serve'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const stop = async () => {
    if (child.exitCode !== null) return;
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  };
  const base = `http://127.0.0.1:${port}`;
  try {
    await waitReady(base, 600_000); // generous: on a loaded 2-core machine loading 22k vectors alone takes minutes
  } catch (err) {
    await stop();
    throw new Error(`${(err as Error).message}\nserver stderr:\n${stderr}`, { cause: err });
  }
  return { base, stderr: () => stderr, stop };
}

/** Records an autocannon run as `<name> req/s`, `p50 ms`, `p99 ms` and `errors` in `out`, and logs it. */
export function recorder(out: Record<string, number>, log: (line: string) => void): (name: string, r: autocannon.Result) => void {
  return (name, r) => {
    out[`${name} req/s`] = r.requests.average;
    out[`${name} p50 ms`] = r.latency.p50;
    out[`${name} p99 ms`] = r.latency.p99;
    out[`${name} errors`] = r.errors + r.non2xx;
    log(`${name}: ${r.requests.average.toFixed(0)} req/s, p50 ${r.latency.p50} ms, p99 ${r.latency.p99} ms, errors ${r.errors + r.non2xx}`);
  };
}

/** Movies somebody liked (the stored ratings), ascending: what a person's liked list is drawn from. */
async function likedMovieIds(opts: ApiBenchOptions): Promise<number[]> {
  const app = await App.open(loadConfig({ ...process.env, MARQUEE_DATA_DIR: opts.dataDir, MARQUEE_MODELS_DIR: opts.modelsDir, DATABASE_URL: '' }));
  try {
    const rows = await app.db.dataSource.query<Array<{ movie_id: number }>>(
      `SELECT DISTINCT movie_id FROM interaction WHERE liked OR (liked IS NULL AND rating >= $1) ORDER BY movie_id`,
      [LIKE_AT],
    );
    return rows.map((r) => r.movie_id);
  } finally {
    await app.close();
  }
}

/** Waits until the server's recommender has fitted the stored ratings (it fits in the background at start). */
async function recommenderReady(url: string, timeoutMs: number): Promise<{ likes: number; fitSeconds: number | null }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ serverInfo { recommender { ready fitting likes fitSeconds } } }' }),
    });
    const rec = ((await r.json()) as { data: { serverInfo: { recommender: { ready: boolean; fitting: boolean; likes: number; fitSeconds: number | null } } } })
      .data.serverInfo.recommender;
    if (rec.ready && !rec.fitting) return rec;
    if (Date.now() > deadline) throw new Error('the recommender did not finish fitting');
    await new Promise((res) => setTimeout(res, 500));
  }
}

/** The first `n` movie ids of the catalogue the server at `url` serves. */
export async function movieIds(url: string, n: number): Promise<number[]> {
  const ids: number[] = [];
  for (let after: string | null = null; ids.length < n;) {
    const r = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        query: 'query($a: String) { movies(first: 100, after: $a) { edges { node { id } } pageInfo { endCursor hasNextPage } } }',
        variables: { a: after },
      }),
    });
    const j = (await r.json()) as {
      data: { movies: { edges: Array<{ node: { id: string } }>; pageInfo: { endCursor: string; hasNextPage: boolean } } };
    };
    ids.push(...j.data.movies.edges.map((e) => Number(e.node.id)));
    if (!j.data.movies.pageInfo.hasNextPage) break;
    after = j.data.movies.pageInfo.endCursor;
  }
  return ids;
}

/** The look-alike query of the API benchmarks: one query text with variables (the server's parsed-document cache applies). */
export const similarBody = (movieId: number) =>
  JSON.stringify({
    query: 'query($id: ID!) { similarPosters(poster: {movieId: $id}, k: 10) { score movie { id title year } } }',
    variables: { id: String(movieId) },
  });

/**
 * predictGenres requests for `n` "new" images: real posters re-encoded with a 2-pixel crop, so that no
 * stored embedding can answer and the server runs the backbone.
 */
export async function newPosterBodies(postersDir: string, n: number): Promise<string[]> {
  const files = fs.readdirSync(path.join(postersDir, 'images')).sort().slice(0, n);
  return Promise.all(
    files.map(async (f) => {
      const img = sharp(path.join(postersDir, 'images', f));
      const m = await img.metadata();
      const bytes = await img
        .extract({ left: 1, top: 1, width: m.width - 2, height: m.height - 2 })
        .jpeg({ quality: 90 })
        .toBuffer();
      return JSON.stringify({
        query: 'query($b: String) { predictGenres(poster: {imageBase64: $b}) { genres { genre probability predicted } } }',
        variables: { b: bytes.toString('base64') },
      });
    }),
  );
}

export async function benchApi(opts: ApiBenchOptions): Promise<Record<string, number>> {
  const log = opts.log ?? (() => undefined);
  const seconds = opts.seconds ?? 10;
  const rated = opts.similarOnly ? [] : await likedMovieIds(opts);
  const server = await startServerProcess(opts);
  const url = `${server.base}/graphql`;
  const out: Record<string, number> = {};
  try {
    const ids = await movieIds(url, 2000);
    const pick = () => ids[Math.floor(Math.random() * ids.length)];
    const record = recorder(out, log);
    const typename = JSON.stringify({ query: '{ __typename }' });
    await cannon(url, 16, 2, () => typename); // warm-up
    record('{ __typename } c16', await cannon(url, 16, seconds, () => typename));
    // Clients send one query text with variables (so the server's parsed-document cache applies).
    const similar = () => similarBody(pick());
    await cannon(url, 16, 2, similar);
    record('similarPosters(k:10) c16', await cannon(url, 16, seconds, similar));
    // A person's taste: 5 liked movies drawn (seeded) from the movies somebody liked, once the
    // recommender has fitted all the stored ratings.
    if (!opts.similarOnly && rated.length >= 5) {
      const fitted = await recommenderReady(url, 600_000);
      out['recommender likes fitted'] = fitted.likes;
      if (fitted.fitSeconds !== null) out['recommender fit s (worker thread, at server start)'] = fitted.fitSeconds;
      const rng = mulberry32(9);
      const fiveLiked = () => {
        const liked = new Set<string>();
        while (liked.size < 5) liked.add(String(rated[Math.floor(rng() * rated.length)]));
        return [...liked];
      };
      const recs = () =>
        JSON.stringify({
          query: 'query($l: [ID!]!) { recommendations(liked: $l, k: 10) { score reason movie { id title year } because { id } } }',
          variables: { l: fiveLiked() },
        });
      await cannon(url, 16, 2, recs);
      record('recommendations(5 liked, k:10) c16', await cannon(url, 16, seconds, recs));
    } else if (!opts.similarOnly) log('recommendations: skipped, no stored likes (marquee import-ratings first)');
    const filtered = () =>
      JSON.stringify({
        query: 'query($id: ID!) { similarPosters(poster: {movieId: $id}, k: 10, filter: {genres: [HORROR]}) { score movie { id } } }',
        variables: { id: String(pick()) },
      });
    record('similarPosters(k:10, HORROR) c16', await cannon(url, 16, seconds, filtered));
    const years = () =>
      JSON.stringify({
        query: 'query($id: ID!) { similarPosters(poster: {movieId: $id}, k: 10, filter: {yearFrom: 2000, yearTo: 2004}) { score movie { id } } }',
        variables: { id: String(pick()) },
      });
    record('similarPosters(k:10, 2000-2004) c16', await cannon(url, 16, seconds, years));
    if (opts.similarOnly) return out;
    const page = JSON.stringify({
      query: '{ movies(first: 20, filter: {genres: [COMEDY]}) { totalCount edges { node { title predictedGenres { genre probability } } } } }',
    });
    record('movies(first:20)+predictedGenres c16', await cannon(url, 16, seconds, () => page));

    const bodies = await newPosterBodies(opts.postersDir, 300);
    let n = 0;
    const next = () => bodies[n++ % bodies.length];
    await cannon(url, 4, 2, next);
    record('predictGenres(new image) c1', await cannon(url, 1, seconds, next));
    // The same with the evidence behind it (the 10 nearest labelled posters, from the index).
    const withEvidence = bodies.map((b) =>
      b.replace(
        'predicted } }',
        'predicted threshold } evidence(k: 10) { neighbours { similarity genres movie { id title } } support { genre neighbours } } }',
      ),
    );
    let m = 0;
    record('predictGenres(new image)+evidence(k:10) c1', await cannon(url, 1, seconds, () => withEvidence[m++ % withEvidence.length]));
    record('predictGenres(new image) c16', await cannon(url, 16, seconds, next));
    out['similarPosters / __typename throughput'] = out['similarPosters(k:10) c16 req/s'] / out['{ __typename } c16 req/s'];
    out['predictGenres c16 / c1 throughput'] = out['predictGenres(new image) c16 req/s'] / out['predictGenres(new image) c1 req/s'];
  } catch (err) {
    throw new Error(`${(err as Error).message}\nserver stderr:\n${server.stderr()}`, { cause: err });
  } finally {
    await server.stop();
  }
  return out;
}
