/**
 * `npm run bench:million -- --data-dir DIR [--sizes 100000,1000000] [--backends compact,fp32,pgvector] [--queries 100] [--rerank-per-k 8,20]
 *   [--seconds 10] [--pg postgres://postgres@127.0.0.1:5432/DB] [--fp32-max 100000] [--pg-max 1000000] [--keep-pg] [--graph-dims 64] [--code-check]`
 *
 * A synthetic catalogue of N movies built at run time from the real poster embeddings of DIR (a data
 * directory with the full poster set embedded): item i < 22,291 is the real poster i; every other item
 * is a real poster moved a random fraction (0 to 0.5) of the way to one of its 10 real nearest
 * neighbours, plus a little isotropic noise, renormalised, with the source's genres and year. So
 * neighbourhoods stay those of real posters. Nothing is written to the repository.
 *
 * For each size and backend, an "API process" (a child process holding the index, or a pg pool to
 * PostgreSQL with pgvector's HNSW index on halfvec) answers `/q?i=ITEM&f=none|horror|years` over HTTP,
 * the items most like item i (never i itself). Measured: build time, the child's resident memory,
 * recall@10 against an exact fp32 scan (done here, streaming, on a sample of queries), and p50/p99 at 16
 * clients (autocannon) for no filter, one genre (HORROR) and a year range (2000-2004).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { Pool } from 'pg';
import { App } from '../src/app';
import { loadConfig } from '../src/config';
import { GENRES } from '../src/ml/genre/labels';
import { CompactCosineIndex } from '../src/ml/index/compact-index';
import { CosineIndex, type Hit } from '../src/ml/index/cosine-index';
import { TopK } from '../src/ml/index/top-k';
import { mulberry32 } from '../src/ml/math/random';
import { dot } from '../src/ml/math/vectors';
import { decodeUint8, encodeUint8 } from '../src/ml/index/uint8-codes';
import { labelMask } from '../src/services/movie-catalog';

const ROOT = path.resolve(__dirname, '../..');
const DIM = 1280;
const NB = 10;
const NOISE = 0.003;
const HORROR = 1 << GENRES.indexOf('HORROR');
const FILTERS = ['none', 'horror', 'years'] as const;
type FilterName = (typeof FILTERS)[number];

function arg(name: string, fallback?: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}
const log = (l: string) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${l}\n`);

/** The real posters: vectors, label masks, years, 10 nearest real neighbours each (as source indices). */
interface Source {
  r: number;
  vectors: Float32Array;
  masks: Int32Array;
  years: Int16Array;
  nbs: Int32Array;
}

function writeSource(file: string, s: Source): void {
  const head = Buffer.from(new Int32Array([s.r]).buffer);
  fs.writeFileSync(
    file,
    Buffer.concat([
      head,
      Buffer.from(s.vectors.buffer),
      Buffer.from(s.masks.buffer),
      Buffer.from(s.years.buffer),
      Buffer.from(new Int16Array(s.r % 2).buffer),
      Buffer.from(s.nbs.buffer),
    ]),
  );
}

function readSource(file: string): Source {
  const b = fs.readFileSync(file);
  const ab = b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength);
  const r = new Int32Array(ab, 0, 1)[0];
  let o = 4;
  const vectors = new Float32Array(ab, o, r * DIM);
  o += r * DIM * 4;
  const masks = new Int32Array(ab, o, r);
  o += r * 4;
  const years = new Int16Array(ab, o, r);
  o += r * 2 + (r % 2) * 2;
  const nbs = new Int32Array(ab, o, r * NB);
  return { r, vectors, masks, years, nbs };
}

/** Item i of the synthetic catalogue, deterministic, into out[off..off+DIM). */
function generate(src: Source, i: number, out: Float32Array, off = 0): void {
  const s = i % src.r;
  const a = s * DIM;
  if (i < src.r) {
    out.set(src.vectors.subarray(a, a + DIM), off);
    return;
  }
  const rng = mulberry32(Math.imul(i, 2654435761) ^ 0x5eed);
  const b = src.nbs[s * NB + Math.floor(rng() * NB)] * DIM;
  const t = rng() * 0.5;
  const amp = NOISE * Math.sqrt(12);
  let n = 0;
  for (let j = 0; j < DIM; j++) {
    const x = src.vectors[a + j] + t * (src.vectors[b + j] - src.vectors[a + j]) + amp * (rng() - 0.5);
    out[off + j] = x;
    n += x * x;
  }
  const inv = 1 / Math.sqrt(n);
  for (let j = 0; j < DIM; j++) out[off + j] *= inv;
}

const maskOf = (src: Source, i: number) => src.masks[i % src.r];
const yearOf = (src: Source, i: number) => src.years[i % src.r];
function admits(src: Source, f: FilterName, i: number): boolean {
  if (f === 'horror') return (maskOf(src, i) & HORROR) !== 0;
  if (f === 'years') {
    const y = yearOf(src, i);
    return y >= 2000 && y <= 2004;
  }
  return true;
}

// ---------------------------------------------------------------------------------------------------
// The child: one "API process" per backend and size.

async function serve(): Promise<void> {
  const backend = arg('serve')!;
  const size = Number(arg('size'));
  const port = Number(arg('port'));
  const src = readSource(arg('source')!);
  const t0 = Date.now();
  let query: (i: number, f: FilterName) => Promise<Hit[]>;
  // `&r=N` sets the compact index's rerankPerK for the request (the sweep of --rerank-per-k)
  let setRerank: (r: number) => void = () => undefined;
  const extra: Record<string, number> = {};
  const filterFn = (f: FilterName) => (f === 'none' ? undefined : (id: number) => admits(src, f, id));
  if (backend === 'compact' || backend === 'compact-full' || backend === 'fp32') {
    const index =
      backend === 'fp32'
        ? new CosineIndex(DIM)
        : new CompactCosineIndex(DIM, {
            storeDims: backend === 'compact-full' ? 0 : Number(arg('store-dims', '256')),
            graphDims: Number(arg('graph-dims', '64')),
          });
    const v = new Float32Array(DIM);
    for (let i = 0; i < size; i++) {
      generate(src, i, v);
      index.add(i, v);
      if ((i + 1) % 100_000 === 0) log(`${backend} ${size}: added ${i + 1}`);
    }
    extra['add ms'] = Date.now() - t0;
    const cache = fs.mkdtempSync(path.join(os.tmpdir(), 'marquee-million-'));
    const tb = Date.now();
    await (index instanceof CompactCosineIndex
      ? index.buildGraph(cache, (d, of) => log(`${backend} ${size}: graph ${d}/${of} (${((Date.now() - tb) / 1000).toFixed(0)} s)`))
      : index.buildGraph(cache));
    extra['graph build ms'] = Date.now() - tb;
    fs.rmSync(cache, { recursive: true, force: true });
    if (index instanceof CompactCosineIndex) setRerank = (r) => index.setRerankPerK(r);
    query = (i, f) => Promise.resolve(index.similarTo(i, 10, filterFn(f)));
  } else if (backend === 'pgvector') {
    const table = `million_${size}`;
    const pool = new Pool({ connectionString: arg('pg'), max: 16 });
    pool.on('connect', (c) => void c.query(`SET hnsw.ef_search = ${Number(arg('ef', '80'))}; SET hnsw.iterative_scan = relaxed_order`));
    await pool.query('CREATE EXTENSION IF NOT EXISTS vector');
    const have = await pool.query<{ n: string }>(`SELECT count(*) AS n FROM pg_indexes WHERE tablename = $1 AND indexname = $2`, [table, `${table}_hnsw`]);
    if (have.rows[0].n === '0') {
      await pool.query(`DROP TABLE IF EXISTS ${table}`);
      await pool.query(`CREATE TABLE ${table} (id int PRIMARY KEY, mask int NOT NULL, year smallint, v halfvec(${DIM}) NOT NULL)`);
      const v = new Float32Array(DIM);
      const B = 100;
      for (let i = 0; i < size; i += B) {
        const params: Array<string | number> = [];
        const rows: string[] = [];
        for (let j = i; j < Math.min(size, i + B); j++) {
          generate(src, j, v);
          rows.push(`($${params.length + 1}, $${params.length + 2}, $${params.length + 3}, $${params.length + 4})`);
          params.push(j, maskOf(src, j), yearOf(src, j), `[${Array.from(v, (x) => x.toFixed(5)).join(',')}]`);
        }
        await pool.query(`INSERT INTO ${table} VALUES ${rows.join(',')}`, params);
        if ((i + B) % 100_000 === 0) log(`pgvector ${size}: inserted ${i + B}`);
      }
      extra['insert ms'] = Date.now() - t0;
      const tb = Date.now();
      const c = await pool.connect();
      try {
        await c.query(`SET maintenance_work_mem = '${arg('pg-mem', '3GB')}'`);
        await c.query(`SET max_parallel_maintenance_workers = ${Number(arg('pg-workers', '1'))}`);
        await c.query(`CREATE INDEX ${table}_hnsw ON ${table} USING hnsw (v halfvec_cosine_ops) WITH (m = 16, ef_construction = 64)`);
      } finally {
        c.release();
      }
      extra['graph build ms'] = Date.now() - tb;
      await pool.query(`CREATE TABLE IF NOT EXISTS million_builds (size int PRIMARY KEY, insert_ms int, build_ms int)`);
      await pool.query(`INSERT INTO million_builds VALUES ($1, $2, $3) ON CONFLICT (size) DO UPDATE SET insert_ms = $2, build_ms = $3`, [
        size,
        extra['insert ms'],
        extra['graph build ms'],
      ]);
      await pool.query(`VACUUM ANALYZE ${table}`);
    } else {
      const b = await pool.query<{ insert_ms: number; build_ms: number }>(`SELECT insert_ms, build_ms FROM million_builds WHERE size = $1`, [size]);
      extra['insert ms (earlier run)'] = b.rows[0]?.insert_ms ?? -1;
      extra['graph build ms (earlier run)'] = b.rows[0]?.build_ms ?? -1;
    }
    const sizes = await pool.query<{ t: string; i: string }>(`SELECT pg_table_size($1) AS t, pg_relation_size($2) AS i`, [table, `${table}_hnsw`]);
    extra['PostgreSQL table MiB'] = Number(sizes.rows[0].t) / 2 ** 20;
    extra['PostgreSQL HNSW index MiB'] = Number(sizes.rows[0].i) / 2 ** 20;
    const where: Record<FilterName, string> = { none: '', horror: `AND mask & ${HORROR} <> 0`, years: 'AND year BETWEEN 2000 AND 2004' };
    query = async (i, f) => {
      // The iterative scan's relaxed order is made strict by the outer sort (pgvector's documented pattern).
      const r = await pool.query<{ id: number; d: number }>(
        `WITH c AS MATERIALIZED (SELECT id, v <=> (SELECT v FROM ${table} WHERE id = $1) AS d FROM ${table}
           WHERE id <> $1 ${where[f]} ORDER BY d LIMIT 10) SELECT id, d FROM c ORDER BY d`,
        [i],
      );
      return r.rows.map((row) => ({ id: row.id, score: 1 - row.d }));
    };
  } else {
    throw new Error(`unknown backend ${backend}`);
  }
  extra['ready ms'] = Date.now() - t0;
  // The real vectors every item is generated from: held by this bench process, not by an API process.
  extra['of the RSS: the bench source vectors MiB'] = (src.vectors.byteLength + src.nbs.byteLength) / 2 ** 20;
  const server = http.createServer((req, res) => {
    const u = new URL(req.url!, 'http://x');
    const i = Number(u.searchParams.get('i'));
    const f = (u.searchParams.get('f') ?? 'none') as FilterName;
    if (u.searchParams.get('r')) setRerank(Number(u.searchParams.get('r')));
    query(i, f).then(
      (hits) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(hits.map((h) => [h.id, h.score])));
      },
      (err: Error) => {
        res.writeHead(500);
        res.end(err.message);
      },
    );
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  process.stdout.write(`${JSON.stringify({ ready: true, ...extra })}\n`);
}

// ---------------------------------------------------------------------------------------------------
// The parent: sources, ground truth, children, load.

async function loadSource(dataDir: string): Promise<Source> {
  const modelsDir = path.resolve(process.env.MARQUEE_MODELS_DIR ?? path.join(ROOT, '../shared/models'));
  const app = await App.open(loadConfig({ ...process.env, MARQUEE_DATA_DIR: dataDir, MARQUEE_MODELS_DIR: modelsDir, DATABASE_URL: '' }));
  let src: Source;
  try {
    log('loading the real embeddings');
    const rows = await app.db.dataSource.query<Array<{ labels: string[]; year: number | null; v: Buffer }>>(
      `SELECT m.labels, m.year, vector_send(e.embedding) AS v FROM movie m JOIN poster_embedding e ON e.movie_id = m.id AND e.backbone = $1 ORDER BY m.id`,
      [app.config.ml.backbone],
    );
    const r = rows.length;
    src = { r, vectors: new Float32Array(r * DIM), masks: new Int32Array(r), years: new Int16Array(r), nbs: new Int32Array(r * NB) };
    rows.forEach((row, i) => {
      // pgvector's binary form: int16 dimensions, int16 unused, then big-endian float32s.
      for (let j = 0; j < DIM; j++) src.vectors[i * DIM + j] = row.v.readFloatBE(4 + 4 * j);
      src.masks[i] = labelMask(row.labels);
      src.years[i] = row.year ?? -1;
    });
  } finally {
    await app.close();
  }
  // Each real poster's 10 nearest real posters (for the synthetic items between them), from a compact index.
  log(`neighbours of the ${src.r} real posters`);
  const index = new CompactCosineIndex(DIM, { storeDims: 0 });
  for (let i = 0; i < src.r; i++) index.add(i, src.vectors.subarray(i * DIM, (i + 1) * DIM));
  await index.buildGraph();
  for (let i = 0; i < src.r; i++) {
    const nb = index.similarTo(i, NB);
    for (let j = 0; j < NB; j++) src.nbs[i * NB + j] = nb[j % nb.length].id;
  }
  return src;
}

/** Unfiltered candidates kept per query for --code-check (the exact top POOL). */
const POOL = 200;

/**
 * Exact fp32 top-10 of each query item (never itself) per filter, by one streaming pass over the
 * catalogue; `pools` holds each query's unfiltered exact top POOL, best first.
 */
function groundTruth(src: Source, size: number, queries: number[]): { truth: Map<string, Set<number>>; pools: number[][] } {
  const qv = new Float32Array(queries.length * DIM);
  queries.forEach((q, k) => generate(src, q, qv, k * DIM));
  const tops = queries.map(() => FILTERS.map((f) => new TopK(f === 'none' ? POOL : 10)));
  const B = 256;
  const buf = new Float32Array(B * DIM);
  const t = Date.now();
  for (let i0 = 0; i0 < size; i0 += B) {
    const n = Math.min(B, size - i0);
    for (let j = 0; j < n; j++) generate(src, i0 + j, buf, j * DIM);
    for (let j = 0; j < n; j++) {
      const item = i0 + j;
      const ok = FILTERS.map((f) => admits(src, f, item));
      for (let k = 0; k < queries.length; k++) {
        if (queries[k] === item) continue;
        const s = dot(qv, k * DIM, buf, j * DIM, DIM);
        for (let f = 0; f < FILTERS.length; f++) if (ok[f]) tops[k][f].push(item, s);
      }
    }
    if ((i0 / B) % 400 === 0 && i0) log(`ground truth ${i0}/${size} (${((Date.now() - t) / 1000).toFixed(0)} s)`);
  }
  const out = new Map<string, Set<number>>();
  queries.forEach((q, k) => FILTERS.forEach((f, fi) => out.set(`${q}/${f}`, new Set(tops[k][fi].ids.slice(0, 10)))));
  return { truth: out, pools: tops.map((t) => t[0].ids) };
}

/** Symmetric int8 (x ≈ code * scale, code -127..127): the compact index's codes before uint8. */
function int8RoundTrip(x: Float32Array): Float32Array {
  let max = 0;
  for (const v of x) max = Math.max(max, Math.abs(v));
  const scale = max / 127 || 1;
  return Float32Array.from(x, (v) => Math.round(v / scale) * scale);
}

function uint8RoundTrip(x: Float32Array): Float32Array {
  const codes = new Uint8Array(x.length);
  const { offset, scale } = encodeUint8(x, 0, x.length, codes, 0);
  const out = new Float32Array(x.length);
  decodeUint8(codes, 0, x.length, offset, scale, out, 0);
  return out;
}

/**
 * How much of recall@10 the codes alone cost, without a graph: each query's exact top POOL re-ranked by
 * its coded vectors (query and items coded, as in `similarTo` of a stored item), against the exact top 10.
 */
function codeCheck(src: Source, queries: number[], pools: number[][]): Record<string, number> {
  const out: Record<string, number> = {};
  const q = new Float32Array(DIM);
  const x = new Float32Array(DIM);
  for (const [name, code] of [
    ['int8 symmetric', int8RoundTrip],
    ['uint8 with offset', uint8RoundTrip],
  ] as const) {
    let recall = 0;
    queries.forEach((item, k) => {
      generate(src, item, q);
      const qc = code(q);
      const top = new TopK(10);
      for (const id of pools[k]) {
        generate(src, id, x);
        top.push(id, dot(qc, 0, code(x), 0, DIM));
      }
      const truth = new Set(pools[k].slice(0, 10));
      recall += top.ids.filter((id) => truth.has(id)).length / 10;
    });
    out[`codes only: recall@10 from the exact top ${POOL}, ${name}`] = recall / queries.length;
    log(`codes only, ${name}: recall@10 ${(recall / queries.length).toFixed(3)}`);
  }
  return out;
}

function cannon(url: string, seconds: number, pathOf: () => string): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    autocannon(
      { url, connections: 16, duration: seconds, requests: [{ setupRequest: (req: autocannon.Request) => ({ ...req, path: pathOf() }) }] },
      (err: Error | null, res) => (err ? reject(err) : resolve(res)),
    );
  });
}

function memOf(pid: number): { rss: number; hwm: number } {
  const s = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(s)?.[1] ?? 0);
  return { rss: kb('VmRSS') / 1024, hwm: kb('VmHWM') / 1024 };
}

async function measure(backend: string, size: number, sourceFile: string, truth: Map<string, Set<number>>, queries: number[]): Promise<Record<string, number>> {
  const port = 4700 + Math.floor(Math.random() * 200);
  const args = [__filename, '--serve', backend, '--size', String(size), '--port', String(port), '--source', sourceFile];
  for (const k of ['pg', 'ef', 'pg-mem', 'pg-workers', 'store-dims', 'graph-dims']) if (arg(k)) args.push(`--${k}`, arg(k)!);
  const child = spawn(process.execPath, ['--max-old-space-size=4096', ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const t0 = Date.now();
  const ready = await new Promise<Record<string, number>>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line) resolve(JSON.parse(line) as Record<string, number>);
    });
    child.once('exit', (code) => reject(new Error(`${backend} ${size}: child exited with ${code}`)));
  });
  const r: Record<string, number> = { 'start to ready s': (Date.now() - t0) / 1000 };
  for (const [k, v] of Object.entries(ready))
    if (k !== 'ready') r[k.endsWith(' ms') || k.includes(' ms ') ? k.replace(' ms', ' s') : k] = k.includes(' ms') ? v / 1000 : v;
  const base = `http://127.0.0.1:${port}`;
  try {
    // One row set per rerank setting (compact backends; the others ignore it): recall, then load.
    const reranks = (arg('rerank-per-k') ?? '').split(',').filter(Boolean);
    for (const rr of reranks.length && backend.startsWith('compact') ? reranks : ['']) {
      const suffix = rr ? ` (rerank ${rr}/k)` : '';
      const param = rr ? `&r=${rr}` : '';
      for (const f of FILTERS) {
        let recall = 0;
        for (const q of queries) {
          const hits = (await (await fetch(`${base}/q?i=${q}&f=${f}${param}`)).json()) as Array<[number, number]>;
          const t = truth.get(`${q}/${f}`)!;
          recall += hits.filter(([id]) => t.has(id)).length / t.size;
        }
        r[`recall@10 ${f}${suffix}`] = recall / queries.length;
      }
      const seconds = Number(arg('seconds', '10'));
      for (const f of FILTERS) {
        const pathOf = () => `/q?i=${Math.floor(Math.random() * size)}&f=${f}${param}`;
        await cannon(base, 2, pathOf);
        const res = await cannon(base, seconds, pathOf);
        r[`${f} req/s${suffix}`] = res.requests.average;
        r[`${f} p50 ms${suffix}`] = res.latency.p50;
        r[`${f} p99 ms${suffix}`] = res.latency.p99;
        r[`${f} errors${suffix}`] = res.errors + res.non2xx;
        log(`${backend} ${size} ${f}${suffix}: ${res.requests.average.toFixed(0)} req/s, p50 ${res.latency.p50} ms, p99 ${res.latency.p99} ms`);
      }
    }
    const m = memOf(child.pid!);
    r['API process RSS MiB'] = m.rss;
    r['API process peak RSS MiB'] = m.hwm;
  } finally {
    child.kill('SIGTERM');
  }
  return r;
}

async function main(): Promise<void> {
  if (arg('serve')) return serve();
  const dataDir = path.resolve(arg('data-dir', process.env.MARQUEE_DATA_DIR ?? './data')!);
  const sizes = arg('sizes', '100000,1000000')!.split(',').map(Number);
  const backends = arg('backends', 'compact,fp32,pgvector')!.split(',');
  const fp32Max = Number(arg('fp32-max', '100000'));
  const pgMax = Number(arg('pg-max', '1000000'));
  const nq = Number(arg('queries', '100'));
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'marquee-million-src-'));
  const sourceFile = path.join(work, 'source.bin');
  writeSource(sourceFile, await loadSource(dataDir));
  const results: Array<{ size: number; backend: string; r: Record<string, number> }> = [];
  try {
    for (const size of sizes) {
      const queries = Array.from({ length: nq }, (_, k) => Math.floor(((k + 0.5) * size) / nq));
      log(`ground truth for ${size} items, ${nq} queries`);
      const t = Date.now();
      const { truth, pools } = groundTruth(readSource(sourceFile), size, queries);
      log(`ground truth in ${((Date.now() - t) / 1000).toFixed(0)} s`);
      if (process.argv.includes('--code-check')) results.push({ size, backend: 'codes', r: codeCheck(readSource(sourceFile), queries, pools) });
      for (const backend of backends) {
        if (backend === 'fp32' && size > fp32Max) continue;
        if (backend === 'pgvector' && (size > pgMax || !arg('pg'))) continue;
        log(`== ${backend} at ${size}`);
        const r = await measure(backend, size, sourceFile, truth, queries);
        results.push({ size, backend, r });
        process.stdout.write(`${JSON.stringify({ size, backend, ...r })}\n`);
      }
    }
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
  const keys = [...new Set(results.flatMap((x) => Object.keys(x.r)))];
  const fmt = (v: number | undefined) =>
    v === undefined ? '' : Number.isInteger(v) ? String(v) : Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 1 ? v.toFixed(2) : v.toFixed(3);
  const lines = [
    `| measure | ${results.map((x) => `${x.backend} ${x.size.toLocaleString('en')}`).join(' | ')} |`,
    `| --- | ${results.map(() => '---').join(' | ')} |`,
    ...keys.map((k) => `| ${k} | ${results.map((x) => fmt(x.r[k])).join(' | ')} |`),
  ];
  process.stdout.write(`\n${lines.join('\n')}\n`);
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack}\n`);
  process.exitCode = 1;
});
