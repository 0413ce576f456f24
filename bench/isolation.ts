/**
 * Isolation of cheap queries from heavy work: `similarPosters(k:10)` at 16 clients alone, during a
 * retrain (started through the admin mutation, with epochs enough to outlast the window), and while 4
 * more clients send new posters to `predictGenres`. Twice: `serve` alone on the embedded data
 * directory (it trains itself, in its training thread), and `serve` with MARQUEE_JOBS=worker on a
 * throwaway PostgreSQL database beside a `marquee worker` process (which trains). Every process is a
 * child process, as in production; the load comes from bench/api.ts's generator.
 *
 * The PostgreSQL database is a copy of the data directory's tables (movies, embeddings, texts, model
 * versions and predictions, interactions), made row for row as JSON: no re-embedding.
 */
import { createScratchDatabase } from '../src/db/scratch-database';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { Client } from 'pg';
import { App } from '../src/app';
import { loadConfig } from '../src/config';
import { Database } from '../src/db/database';
import { cannon, movieIds, newPosterBodies, recorder, similarBody, startServerProcess, type ApiBenchOptions } from './api';

const ROOT = path.resolve(__dirname, '../..');

export interface IsolationOptions extends ApiBenchOptions {
  /** A PostgreSQL server (with pgvector) for the worker mode; a database is created on it and dropped after. Absent: embedded only. */
  postgresUrl?: string;
  /** Epochs of the retrain (default 500, the most the mutation takes; early stopping may end the MLP sooner). */
  retrainEpochs?: number;
}

/** Tables copied into PostgreSQL, parents first, and those whose serial id continues after the copy. */
const COPIED_TABLES = ['movie', 'poster_embedding', 'poster_text', 'model_version', 'movie_prediction', 'interaction'];
const SERIAL_TABLES = ['movie', 'model_version'];

export async function benchIsolation(opts: IsolationOptions): Promise<Record<string, number>> {
  const log = opts.log ?? (() => undefined);
  const out: Record<string, number> = {};
  const adminKey = await withApp(opts.dataDir, opts.modelsDir, undefined, async (app) => (await app.apiKeys.create('admin', 'bench isolation')).key);
  log('isolation: embedded (serve trains in its training thread)');
  Object.assign(out, prefixed('embedded', await measure(opts, adminKey, {}, log)));
  if (opts.postgresUrl) {
    const db = await createScratchDatabase(opts.postgresUrl, `marquee_bench_isolation_${process.pid}`);
    try {
      log(`isolation: copying ${opts.dataDir} into ${db.name}`);
      const t = Date.now();
      const pgKey = await copyIntoPostgres(opts, db.url);
      out['worker: copy into PostgreSQL s'] = (Date.now() - t) / 1000;
      const env = { DATABASE_URL: db.url, MARQUEE_JOBS: 'worker' };
      const worker = await startWorker(opts, env);
      try {
        log('isolation: MARQUEE_JOBS=worker (a `marquee worker` process trains)');
        Object.assign(out, prefixed('worker', await measure(opts, pgKey, env, log)));
      } finally {
        await worker.stop();
      }
    } finally {
      await db.drop();
    }
  }
  return out;
}

const prefixed = (mode: string, rec: Record<string, number>) => Object.fromEntries(Object.entries(rec).map(([k, v]) => [`${mode}: ${k}`, v]));

/** The three phases on one server process; the retrain last (it runs on until the server stops). */
async function measure(opts: IsolationOptions, adminKey: string, env: Record<string, string>, log: (l: string) => void): Promise<Record<string, number>> {
  const seconds = opts.seconds ?? 20;
  const server = await startServerProcess({ ...opts, env });
  const url = `${server.base}/graphql`;
  const out: Record<string, number> = {};
  const record = recorder(out, (line) => log(`  ${line}`));
  try {
    const ids = await movieIds(url, 2000);
    const similar = () => similarBody(ids[Math.floor(Math.random() * ids.length)]);
    const uploads = await newPosterBodies(opts.postersDir, 300);
    let u = 0;
    const upload = () => uploads[u++ % uploads.length];
    await cannon(url, 16, 2, similar); // warm-up
    await cannon(url, 4, 2, upload);

    record('similarPosters c16 alone', await cannon(url, 16, seconds, similar));

    const [withUploads, uploading] = await Promise.all([cannon(url, 16, seconds, similar), cannon(url, 4, seconds, upload)]);
    record('similarPosters c16 during uploads', withUploads);
    record('predictGenres(new image) c4 beside them', uploading);

    const job = await graphql(url, `mutation { retrain(input: {epochs: ${opts.retrainEpochs ?? 500}}) { id } }`, adminKey);
    const jobId = (job.data as { retrain: { id: string } }).retrain.id;
    const status = async () =>
      (await graphql(url, `{ trainingJob(id: "${jobId}") { status stage worker } }`, adminKey)).data as {
        trainingJob: { status: string; stage: string | null; worker: string | null };
      };
    for (let i = 0; (await status()).trainingJob.status !== 'RUNNING'; i++) {
      if (i > 600) throw new Error(`retrain ${jobId} did not start`);
      await new Promise((r) => setTimeout(r, 100));
    }
    record('similarPosters c16 during a retrain', await cannon(url, 16, seconds, similar));
    const after = (await status()).trainingJob;
    log(`  retrain ${jobId} after the window: ${after.status} (${after.stage}) on ${after.worker}`);
    out['retrain still running at the end of the window (1 = yes)'] = after.status === 'RUNNING' ? 1 : 0;
    const alone = out['similarPosters c16 alone p99 ms'];
    out['p99 during a retrain / alone'] = out['similarPosters c16 during a retrain p99 ms'] / alone;
    out['p99 during uploads / alone'] = out['similarPosters c16 during uploads p99 ms'] / alone;
  } catch (err) {
    throw new Error(`${(err as Error).message}\nserver stderr:\n${server.stderr()}`, { cause: err });
  } finally {
    await server.stop(); // SIGTERM: the retrain still running ends INTERRUPTED
  }
  return out;
}

async function graphql(url: string, query: string, key: string): Promise<{ data?: unknown; errors?: unknown }> {
  const r = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify({ query }),
  });
  const j = (await r.json()) as { data?: unknown; errors?: unknown };
  if (j.errors) throw new Error(`${query}: ${JSON.stringify(j.errors)}`);
  return j;
}

async function withApp<T>(dataDir: string, modelsDir: string, databaseUrl: string | undefined, fn: (app: App) => Promise<T>): Promise<T> {
  const app = await App.open(loadConfig({ ...process.env, MARQUEE_DATA_DIR: dataDir, MARQUEE_MODELS_DIR: modelsDir, DATABASE_URL: databaseUrl ?? '' }));
  try {
    return await fn(app);
  } finally {
    await app.close();
  }
}

/**
 * The data directory's catalogue into the (migrated) PostgreSQL database, table by table as JSON rows
 * (json_populate_recordset casts each column, vectors included). Returns an admin key there.
 */
async function copyIntoPostgres(opts: IsolationOptions, url: string): Promise<string> {
  const key = await withApp(opts.dataDir, opts.modelsDir, url, async (app) => (await app.apiKeys.create('admin', 'bench isolation')).key);
  const source = await Database.open({ dataDir: opts.dataDir });
  const reader = source.dataSource.createQueryRunner();
  const target = new Client({ connectionString: url });
  await target.connect();
  try {
    for (const table of COPIED_TABLES) {
      // A cursor reads each row once (OFFSET pages would serialise the skipped rows again and again).
      await reader.startTransaction();
      await reader.query(`DECLARE copy_rows NO SCROLL CURSOR FOR SELECT row_to_json(t)::text AS row FROM ${table} t`);
      let copied = 0;
      for (;;) {
        const rows = (await reader.query(`FETCH 500 FROM copy_rows`)) as Array<{ row: string }>;
        if (rows.length === 0) break;
        await target.query(`INSERT INTO ${table} SELECT * FROM json_populate_recordset(null::${table}, $1::json)`, [`[${rows.map((r) => r.row).join(',')}]`]);
        copied += rows.length;
      }
      await reader.commitTransaction();
      opts.log?.(`  ${table}: ${copied} rows`);
    }
    for (const table of SERIAL_TABLES) {
      await target.query(`SELECT setval(pg_get_serial_sequence('${table}', 'id'), GREATEST(1, (SELECT max(id) FROM ${table})))`);
    }
  } finally {
    await target.end();
    await reader.release();
    await source.close();
  }
  return key;
}

/** `marquee worker` as a child process; resolves once it works on the queue. */
async function startWorker(opts: IsolationOptions, env: Record<string, string>): Promise<{ stop: () => Promise<void> }> {
  const child = spawn(process.execPath, [path.join(ROOT, 'bin/marquee.js'), 'worker'], {
    env: { ...process.env, MARQUEE_DATA_DIR: opts.dataDir, MARQUEE_MODELS_DIR: opts.modelsDir, NODE_ENV: 'production', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const stop = async () => {
    if (child.exitCode !== null) return;
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  };
  for (let i = 0; !/runs retrain/.test(output); i++) {
    if (child.exitCode !== null || i > 1200) {
      await stop();
      throw new Error(`marquee worker did not start:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { stop };
}

/** One line per mode and phase: the p99 against alone and the target (at most 2x alone and 25 ms). */
export function isolationVerdict(r: Record<string, number>): string {
  const lines: string[] = [];
  for (const mode of ['embedded', 'worker']) {
    const alone = r[`${mode}: similarPosters c16 alone p99 ms`];
    if (alone === undefined) continue;
    for (const phase of ['during a retrain', 'during uploads']) {
      const p99 = r[`${mode}: similarPosters c16 ${phase} p99 ms`];
      const met = p99 <= 2 * alone && p99 <= 25;
      lines.push(`- ${mode}, ${phase}: p99 ${p99} ms against ${alone} ms alone (${(p99 / alone).toFixed(2)}x): target ${met ? 'met' : 'not met'}`);
    }
    if (r[`${mode}: retrain still running at the end of the window (1 = yes)`] !== 1) lines.push(`- ${mode}: the retrain ended before the window did`);
  }
  return lines.join('\n');
}
