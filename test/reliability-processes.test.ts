/**
 * Reliability across processes, on one embedded data directory and real `marquee` processes:
 * kill -9 during import, embed, train and a retrain, then a re-run (nothing acknowledged lost,
 * nothing duplicated, nothing left RUNNING); the data-directory lock (a second server refused with
 * the holder named, CLI commands (import, import-ratings, fit-recs) working through the running server, a killed holder's lock taken
 * over); SIGTERM under load (every in-flight response completes, a running retrain stops promptly
 * and is marked INTERRUPTED). The steps run in order and build on each other.
 */
import assert from 'node:assert/strict';
import { ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Database } from '../src/db/database';
import { LOCK_FILE } from '../src/db/data-dir-lock';
import { ratingsSlice } from './ratings-support';
import { CLI, cleanupAll, cliEnv, freePort, graphqlClient, POSTERS_DIR, sampleSubset, tmpDir } from './support';

after(cleanupAll);

const N = 100;
let dataDir: string;
let work: string;
const children = new Set<ChildProcess>();
after(() => {
  for (const c of children) c.kill('SIGKILL');
});

interface Run {
  code: number | null;
  signal: string | null;
  out: string;
}

function env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return cliEnv(dataDir, { MARQUEE_OCR: 'off', ...extra });
}

function marquee(args: string[], opts: { killWhen?: (out: string) => boolean; env?: Record<string, string> } = {}): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: env(opts.env) });
    children.add(child);
    let out = '';
    const onData = (d: Buffer) => {
      out += d.toString();
      if (opts.killWhen && !child.killed && opts.killWhen(out)) child.kill('SIGKILL');
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code, signal) => {
      children.delete(child);
      resolve({ code, signal, out });
    });
  });
}

/** `marquee serve` on a free port; resolves once it listens. */
async function serve(): Promise<{ child: ChildProcess; url: string; out: () => string; exited: Promise<Run> }> {
  const port = await freePort();
  const child = spawn(process.execPath, [CLI, 'serve'], { env: env({ PORT: String(port) }) });
  children.add(child);
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const exited = new Promise<Run>((resolve) =>
    child.on('exit', (code, signal) => {
      children.delete(child);
      resolve({ code, signal, out });
    }),
  );
  for (let i = 0; i < 1200 && !out.includes('GraphQL at') && child.exitCode === null; i++) await new Promise((r) => setTimeout(r, 100));
  assert.match(out, /GraphQL at/, out);
  return { child, url: `http://127.0.0.1:${port}/graphql`, out: () => out, exited };
}

async function query<T>(sql: string): Promise<T[]> {
  const db = await Database.open({ dataDir });
  try {
    return await db.dataSource.query<T[]>(sql);
  } finally {
    await db.close();
  }
}

async function waitFor<T>(what: string, fn: () => Promise<T | undefined>, ms = 120_000, every = 200): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > until) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, every));
  }
}

/** Starts a long retrain and returns its id once it runs (training 100 posters takes seconds: act at once). */
async function startRunningRetrain(gql: ReturnType<typeof graphqlClient>, adminKey: string): Promise<string> {
  const job = await gql('mutation { retrain(input: {epochs: 400}) { id } }', undefined, adminKey);
  const id: string = job.data.retrain.id;
  await waitFor(
    'the retrain to run',
    async () => {
      const r = await gql(`{ trainingJob(id: "${id}") { status } }`, undefined, adminKey);
      return r.data.trainingJob.status === 'RUNNING' ? true : undefined;
    },
    120_000,
    25,
  );
  return id;
}

before(() => {
  dataDir = tmpDir();
  work = tmpDir();
});

describe('crash safety, the data-directory lock and graceful shutdown', () => {
  let csv: string;
  let adminKey: string;
  let acknowledgedMovie: string;

  test('kill -9 during import, then a re-run: every row once', async () => {
    csv = sampleSubset(work, N);
    const killed = await marquee(['import', csv], { env: { MARQUEE_IMPORT_BATCH: '10' }, killWhen: (o) => (o.match(/^import \d+/gm) ?? []).length >= 3 });
    assert.equal(killed.signal, 'SIGKILL', killed.out);
    const again = await marquee(['import', csv]);
    assert.equal(again.code, 0, again.out);
    const m = /imported (\d+), updated 0, unchanged (\d+), skipped 0/.exec(again.out);
    assert.ok(m && Number(m[2]) >= 20 && Number(m[1]) + Number(m[2]) === N, again.out);
    const [c] = await query<{ n: number; d: number }>(`SELECT count(*)::int AS n, count(DISTINCT imdb_id)::int AS d FROM movie`);
    assert.deepEqual(c, { n: N, d: N });
    const tmp = fs.readdirSync(path.join(dataDir, 'posters'), { recursive: true }).filter((f) => String(f).endsWith('.tmp'));
    assert.deepEqual(tmp, []);
  });

  test('kill -9 during embed, then a re-run: every poster embedded once', async () => {
    const killed = await marquee(['embed', '--batch', '8'], { killWhen: (o) => /embed (1[6-9]|[2-9]\d)\/100/.test(o) });
    assert.equal(killed.signal, 'SIGKILL', killed.out);
    const again = await marquee(['embed']);
    assert.equal(again.code, 0, again.out);
    const [c] = await query<{ n: number; d: number }>(`SELECT count(*)::int AS n, count(DISTINCT movie_id)::int AS d FROM poster_embedding`);
    assert.deepEqual(c, { n: N, d: N });
  });

  test('kill -9 during train stores nothing; a re-run stores one active version', async () => {
    const killed = await marquee(['train', '--epochs', '300', '--no-text'], { killWhen: (o) => /^train [1-9]\d* steps/m.test(o) });
    assert.equal(killed.signal, 'SIGKILL', killed.out);
    assert.deepEqual(await query(`SELECT id FROM model_version`), []);
    const again = await marquee(['train', '--epochs', '15', '--no-text']);
    assert.equal(again.code, 0, again.out);
    const versions = await query<{ active: boolean }>(`SELECT active FROM model_version`);
    assert.deepEqual(
      versions.map((v) => v.active),
      [true],
    );
  });

  test('the lock: a second server is refused naming the holder; apikey create, import, import-ratings and fit-recs work through the running server', async () => {
    const s = await serve();
    const gql = graphqlClient(s.url);
    const lock = JSON.parse(fs.readFileSync(path.join(dataDir, LOCK_FILE), 'utf8')) as { pid: number; command: string };
    assert.equal(lock.pid, s.child.pid);
    assert.match(lock.command, /marquee serve/);

    const second = await marquee(['serve'], { env: { PORT: '0' } });
    assert.equal(second.code, 1, second.out);
    assert.match(second.out, new RegExp(`DATA_DIR_LOCKED.*in use by pid ${s.child.pid} \\(marquee serve`));
    await assert.rejects(Database.open({ dataDir }), new RegExp(`in use by pid ${s.child.pid}`));

    const key = await marquee(['apikey', 'create', '--role', 'admin']);
    assert.equal(key.code, 0, key.out);
    adminKey = /^(mq_\S+)$/m.exec(key.out)![1];
    const versions = await gql('{ modelVersions { id active } }', undefined, adminKey);
    assert.equal(versions.errors, undefined, 'the running server accepts the key at once');

    const more = await marquee(['import', sampleSubset(tmpDir(), N + 5)]);
    assert.equal(more.code, 0, more.out);
    assert.match(more.out, /imported 5, updated 0, unchanged 100, skipped 0/);
    await waitFor('the server to see the new movies', async () => {
      const r = await gql('{ movies(first: 1) { totalCount } }');
      return r.data?.movies.totalCount === N + 5 ? true : undefined;
    });

    // Ratings imported and the recommender fitted through the running server; the server's own model
    // catches up with the ratings by itself and agrees with the command's.
    const ratings = await marquee(['import-ratings', ratingsSlice(tmpDir(), 0).ratings, '--quiet']);
    assert.equal(ratings.code, 0, ratings.out);
    const fit = await marquee(['fit-recs']);
    assert.equal(fit.code, 0, fit.out);
    const fitted = /fitted the recommender: (\d+) people, (\d+) liked movies, (\d+) likes in [\d.]+ s/.exec(fit.out);
    assert.ok(fitted && Number(fitted[3]) > 0, fit.out);
    assert.match(fit.out, new RegExp(`the server \\(pid ${s.child.pid}\\) keeps its own model`));
    let last: unknown;
    const info = await waitFor(
      'the server to refit on the imported ratings',
      async () => {
        await gql('{ recommendations(k: 1) { reason } }'); // a query looks for ratings written by other processes
        last = await gql('{ serverInfo { recommender { ready fitting version people items likes fittedAt } } }');
        const rec = (last as { data?: { serverInfo: { recommender: { likes: number } } } }).data?.serverInfo.recommender;
        return rec?.likes === Number(fitted[3])
          ? (rec as typeof rec & { ready: boolean; people: number; items: number; version: number; fittedAt: string })
          : undefined;
      },
      60_000,
      1000,
    ).catch((err: Error) => assert.fail(`${err.message}: last ${JSON.stringify(last)}\nserver output:\n${s.out()}`));
    assert.deepEqual([info.ready, info.people, info.items], [true, Number(fitted[1]), Number(fitted[2])]);
    assert.ok(info.version >= 1 && Date.parse(info.fittedAt) > 0, JSON.stringify(info));

    // Acknowledged writes, then kill -9 of the server in the middle of a retrain.
    const b = fs.readFileSync(path.join(POSTERS_DIR, 'images/tt0116209.jpg')).toString('base64');
    const added = await gql('mutation($b: String) { addMovie(input: {title: "Acknowledged", year: 2020, posterBase64: $b}) { id } }', { b }, adminKey);
    assert.equal(added.errors, undefined, JSON.stringify(added.errors));
    acknowledgedMovie = added.data.addMovie.id;
    await startRunningRetrain(gql, adminKey);
    s.child.kill('SIGKILL');
    await s.exited;
  });

  test('after kill -9 of the server: its lock is taken over, acknowledged writes are there, no job is left RUNNING', async () => {
    const s = await serve();
    const gql = graphqlClient(s.url);
    assert.match(s.out(), /marked 1 interrupted training job\(s\) INTERRUPTED/);
    const m = await gql(`{ movie(id: "${acknowledgedMovie}") { title } }`);
    assert.equal(m.data.movie.title, 'Acknowledged');
    s.child.kill('SIGTERM');
    assert.equal((await s.exited).code, 0);
    const jobs = await query<{ status: string }>(`SELECT status FROM training_job`);
    assert.deepEqual(
      jobs.map((j) => j.status),
      ['INTERRUPTED'],
    );
    const [c] = await query<{ n: number }>(`SELECT count(*)::int AS n FROM movie`);
    assert.equal(c.n, N + 6);
  });

  test('SIGTERM under load: every in-flight response completes, a running retrain stops promptly and is INTERRUPTED', async () => {
    const s = await serve();
    const gql = graphqlClient(s.url);
    const id = await startRunningRetrain(gql, adminKey);
    const q = `{ movies(first: 100) { edges { node { id title genres predictedGenres { genre probability } similar(k: 10) { score movie { title year } } } } } }`;
    const inFlight = Array.from({ length: 12 }, () =>
      fetch(s.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: q }) }).then(async (r) => ({
        status: r.status,
        body: (await r.json()) as { data?: { movies: { edges: unknown[] } }; errors?: unknown },
      })),
    );
    await new Promise((r) => setTimeout(r, 50));
    const t0 = Date.now();
    s.child.kill('SIGTERM');
    // No request is cut: each gets its whole answer; one the server had not yet taken when the
    // signal came may be a clean 503 (it is not in flight yet).
    const answers = await Promise.all(inFlight);
    let complete = 0;
    for (const a of answers) {
      if (a.status === 503) continue;
      assert.equal(a.status, 200);
      assert.equal(a.body.errors, undefined);
      assert.equal(a.body.data!.movies.edges.length, 100);
      complete++;
    }
    assert.ok(complete >= 1, 'the requests in flight at the signal were answered');
    const exit = await s.exited;
    const seconds = (Date.now() - t0) / 1000;
    assert.equal(exit.code, 0, exit.out);
    assert.ok(seconds < 20, `stopped in ${seconds} s`);
    const [row] = await query<{ status: string; error: string }>(`SELECT status, error FROM training_job WHERE id = ${Number(id)}`);
    assert.deepEqual(row, { status: 'INTERRUPTED', error: 'interrupted: the server shut down' });
    assert.equal(fs.existsSync(path.join(dataDir, LOCK_FILE)), false, 'the lock is released');
  });
});
