/**
 * Shared test fixtures: real databases (embedded PGlite always, PostgreSQL when TEST_DATABASE_URL
 * is set), the real poster data set and model from ../shared, temporary data directories.
 */
import { createScratchDatabase } from '../src/db/scratch-database';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { App } from '../src/app';
import { Config, loadConfig } from '../src/config';

export const ROOT = path.resolve(__dirname, '../..');
export const SHARED = path.resolve(ROOT, process.env.MARQUEE_SHARED_DIR ?? '../shared');
export const POSTERS_DIR = path.join(SHARED, 'data/posters');
export const SAMPLE_CSV = path.join(POSTERS_DIR, 'sample.csv');
export const MODELS_DIR = path.resolve(ROOT, process.env.MARQUEE_MODELS_DIR ?? path.join(SHARED, 'models'));
export const CLI = path.join(ROOT, 'bin/marquee.js');

export type DbKind = 'pglite' | 'postgres';

/** The database kinds to run on: PGlite always, PostgreSQL when CI (or a developer) provides one. */
export const DB_KINDS: DbKind[] = process.env.TEST_DATABASE_URL ? ['pglite', 'postgres'] : ['pglite'];

const cleanups: Array<() => Promise<void>> = [];
export async function cleanupAll(): Promise<void> {
  while (cleanups.length) await cleanups.pop()!().catch(() => undefined);
}

export function tmpDir(prefix = 'marquee-test-'): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  cleanups.push(() => fs.promises.rm(d, { recursive: true, force: true }));
  return d;
}

/**
 * A TCP port nobody listens on now, from the OS (a random pick in a range collided with the machine's
 * own services: RabbitMQ on 5672, PostgreSQL on 5432).
 */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}

/** The environment of a `marquee` command run by a test: the data dir on the embedded database, the shared models, cpu, every progress line, plain output. */
export function cliEnv(dataDir: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    MARQUEE_DATA_DIR: dataDir,
    MARQUEE_MODELS_DIR: MODELS_DIR,
    DATABASE_URL: '',
    MARQUEE_DEVICE: 'cpu',
    MARQUEE_PROGRESS_INTERVAL_MS: '0',
    CI: 'true',
    ...extra,
  };
}

/** A brand-new PostgreSQL database (with pgvector) on the TEST_DATABASE_URL server, dropped at cleanup. */
export async function freshPostgresUrl(): Promise<string> {
  const base = process.env.TEST_DATABASE_URL;
  if (!base) throw new Error('TEST_DATABASE_URL is not set');
  const db = await createScratchDatabase(base, `marquee_t_${process.pid}_${Math.random().toString(36).slice(2, 8)}`);
  cleanups.push(db.drop);
  return db.url;
}

/** A Config as the environment gives it, with a fresh data dir, the shared models, cpu and a fresh database. */
export async function testConfig(kind: DbKind): Promise<Config> {
  const base = loadConfig({ ...process.env, MARQUEE_DATA_DIR: tmpDir(), MARQUEE_MODELS_DIR: MODELS_DIR, DATABASE_URL: '', MARQUEE_DEVICE: 'cpu' });
  return { ...base, database: { url: kind === 'postgres' ? await freshPostgresUrl() : undefined } };
}

/** An App on a fresh database (closed at cleanup); `adjust` may change the test Config first. */
export async function openApp(kind: DbKind, adjust: (config: Config) => void = () => undefined): Promise<App> {
  const config = await testConfig(kind);
  adjust(config);
  const app = await App.open(config);
  cleanups.push(() => app.close());
  return app;
}

/**
 * An App (PGlite) holding the 400-poster sample, embedded with the real backbone, and a genre model
 * trained for 40 epochs and active: what the API, ML and client tests query. `adjust` may change the
 * test Config first.
 */
export async function openTrainedSampleApp(adjust: (config: Config) => void = () => undefined): Promise<App> {
  const app = await openApp('pglite', adjust);
  await app.importer.importCsv(SAMPLE_CSV, { progress: false });
  const e = await app.embedding.embedMissing({ progress: false });
  if (e.embedded !== 400) throw new Error(`embedded ${e.embedded} of the 400 sample posters`);
  const t = await app.models.train({ epochs: 40, activate: true });
  if (!t.activated) throw new Error('the trained model was not activated');
  return app;
}

/** Writes the first `n` data rows of sample.csv (header kept) into `dir`, with img_url made absolute. */
export function sampleSubset(dir: string, n: number): string {
  const text = fs.readFileSync(SAMPLE_CSV, 'utf8');
  const rows = parse<Record<string, string>>(text, { columns: true });
  const out = rows.slice(0, n).map((r) => ({ ...r, img_url: path.join(POSTERS_DIR, r.img_url) }));
  const file = path.join(dir, `subset-${n}.csv`);
  fs.writeFileSync(file, stringify(out, { header: true }));
  return file;
}

export interface GqlResult {
  status: number;
  data?: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- tests read GraphQL responses as untyped JSON
  errors?: Array<{ message: string; extensions?: { code?: string; reason?: string; stacktrace?: unknown } }>;
}

/** A GraphQL POST over real HTTP, with an optional API key and extra headers. */
export function graphqlClient(url: string) {
  return async (query: string, variables?: Record<string, unknown>, key?: string, headers: Record<string, string> = {}): Promise<GqlResult> => {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}), ...headers },
      body: JSON.stringify({ query, variables }),
    });
    return { status: res.status, ...((await res.json()) as object) };
  };
}

export const errorCode = (r: GqlResult) => r.errors?.[0]?.extensions?.code;
export const errorReason = (r: GqlResult) => r.errors?.[0]?.extensions?.reason;
