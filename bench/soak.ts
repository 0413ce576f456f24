/**
 * The soak: `marquee serve` (child process, NODE_ENV=production) on a copy of the full data under a
 * mixed load of `clients` concurrent clients for `seconds` (600 by default): look-alike posters of a
 * movie, recommendations from liked movies, pages of movies with their predicted genres, and
 * predictions (with look-alikes) for new posters (re-encoded crops of real posters, bytes the
 * catalogue does not hold). The server's resident memory (VmRSS) is sampled every 10 s.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { serverProcessEnv } from './api';
import { heapGrowth, largestKinds, summarizeHeapSnapshot, type HeapKind } from './heap-snapshot';

const ROOT = path.resolve(__dirname, '../..');

export interface SoakOptions {
  dataDir: string;
  modelsDir: string;
  postersDir: string;
  seconds?: number;
  clients?: number;
  port?: number;
  /** A folder for two heap snapshots of the server, before the load and after it (none when unset). */
  heapSnapshotDir?: string;
  log?: (line: string) => void;
}

export interface SoakHeap {
  beforeMiB: number;
  afterMiB: number;
  /** What grew most between the two snapshots. */
  growth: Array<HeapKind & { deltaBytes: number; deltaCount: number }>;
  /** The largest kinds after the load, with their growth. */
  largest: Array<HeapKind & { deltaBytes: number }>;
}

export interface SoakResult {
  seconds: number;
  clients: number;
  requests: Record<string, number>;
  errors: number;
  errorSamples: string[];
  /** [seconds since start, RSS MiB] every 10 s. */
  rss: Array<[number, number]>;
  p50Ms: number;
  p99Ms: number;
  heap?: SoakHeap;
}

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

export async function soak(opts: SoakOptions): Promise<SoakResult> {
  const log = opts.log ?? (() => undefined);
  const seconds = opts.seconds ?? 600;
  const clients = opts.clients ?? 8;
  const port = opts.port ?? 4569;
  const snapshotDir = opts.heapSnapshotDir;
  if (snapshotDir) fs.mkdirSync(snapshotDir, { recursive: true });
  const nodeFlags = snapshotDir ? ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${snapshotDir}`] : [];
  const child = spawn(process.execPath, [...nodeFlags, path.join(ROOT, 'bin/marquee.js'), 'serve'], {
    env: serverProcessEnv(opts, port, { MARQUEE_DEVICE: 'cpu' }),
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr = (stderr + d).slice(-20_000)));
  const url = `http://127.0.0.1:${port}/graphql`;
  const post = async (query: string, variables?: Record<string, unknown>) => {
    const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, variables }) });
    const j = (await r.json()) as { data?: unknown; errors?: Array<{ message: string; extensions?: { code?: string } }> };
    if (r.status !== 200 || j.errors) throw new Error(`HTTP ${r.status}: ${JSON.stringify(j.errors ?? j).slice(0, 200)}`);
    return j.data as Record<string, unknown>;
  };
  try {
    // Ready: the index is loaded and a model is active (/readyz). The HNSW graph may still be building
    // (exact search until then; its build is part of what the server's memory goes through).
    const deadline = Date.now() + 900_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`server exited:\n${stderr}`);
      const ok = await fetch(`http://127.0.0.1:${port}/readyz`).then(
        (r) => r.status === 200,
        () => false,
      );
      if (ok) break;
      if (Date.now() > deadline) throw new Error(`server not ready:\n${stderr}`);
      await new Promise((r) => setTimeout(r, 500));
    }
    log(`soak: server ready (RSS ${rssMiB(child.pid!).toFixed(0)} MiB); ${clients} clients for ${seconds} s`);

    const total = ((await post('{ movies(first: 1) { totalCount } }')) as { movies: { totalCount: number } }).movies.totalCount;
    const page = (await post('{ movies(first: 100) { edges { node { id } } } }')) as { movies: { edges: Array<{ node: { id: string } }> } };
    const maxId = Math.max(...page.movies.edges.map((e) => Number(e.node.id))) + total;
    const images = fs
      .readdirSync(path.join(opts.postersDir, 'images'))
      .filter((f) => f.endsWith('.jpg'))
      .slice(0, 400);
    // New posters: crops of real ones, re-encoded, so their bytes are in no catalogue.
    const newPosters: string[] = [];
    for (let i = 0; i < 40; i++) {
      const file = path.join(opts.postersDir, 'images', images[(i * 7) % images.length]);
      const meta = await sharp(file).metadata();
      const cut = 3 + (i % 5);
      const b = await sharp(file)
        .extract({ left: cut, top: cut, width: meta.width - 2 * cut, height: meta.height - 2 * cut })
        .jpeg({ quality: 80 })
        .toBuffer();
      newPosters.push(b.toString('base64'));
    }

    const snapshots: string[] = [];
    if (snapshotDir) snapshots.push(await heapSnapshot(child.pid!, snapshotDir, log));

    let seed = 12345;
    const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const randomId = () => String(1 + Math.floor(rnd() * maxId));
    const kinds = ['similar', 'recommendations', 'movies', 'newPoster'] as const;
    const requests: Record<string, number> = Object.fromEntries(kinds.map((k) => [k, 0]));
    const latencies: number[] = [];
    let errors = 0;
    const errorSamples: string[] = [];
    const ops: Record<(typeof kinds)[number], () => Promise<unknown>> = {
      similar: () => post('query($id: ID!) { similarPosters(poster: {movieId: $id}, k: 12) { score movie { id title year posterUrl } } }', { id: randomId() }),
      recommendations: () =>
        post('query($l: [ID!]!) { recommendations(liked: $l, k: 12) { score movie { id title posterUrl } because { id title } } }', {
          l: [randomId(), randomId(), randomId()],
        }),
      movies: () => {
        const after = Buffer.from(`movie:${Math.floor(rnd() * maxId)}`).toString('base64url');
        return post(
          'query($a: String) { movies(first: 24, after: $a) { edges { node { id title year genres posterUrl predictedGenres { genre probability predicted } } } pageInfo { endCursor } } }',
          { a: after },
        );
      },
      newPoster: () =>
        post('query($b: String) { predictGenres(poster: {imageBase64: $b}) { modelVersion genres { genre probability predicted } evidence(k: 5) { k } } }', {
          b: newPosters[Math.floor(rnd() * newPosters.length)],
        }),
    };
    const started = Date.now();
    const until = started + seconds * 1000;
    const rss: Array<[number, number]> = [[0, rssMiB(child.pid!)]];
    const sampler = setInterval(() => {
      const r = rssMiB(child.pid!);
      rss.push([Math.round((Date.now() - started) / 1000), r]);
      const n = Object.values(requests).reduce((a, b) => a + b, 0);
      log(`soak ${Math.round((Date.now() - started) / 1000)} s: RSS ${r.toFixed(0)} MiB, ${n} requests, ${errors} errors`);
    }, 10_000);
    const client = async (c: number) => {
      let i = c;
      while (Date.now() < until) {
        // Mixed, with the new-poster predictions (the heavy ones) a fifth of the load.
        const kind = i % 5 === 4 ? 'newPoster' : kinds[i % 3];
        i++;
        const t = performance.now();
        try {
          await ops[kind]();
          requests[kind]++;
          latencies.push(performance.now() - t);
        } catch (err) {
          const msg = (err as Error).message;
          // A random id that names no movie (deleted, or past the last) is the client's mistake, not an error of the server.
          if (/NOT_FOUND|NO_EMBEDDING/.test(msg)) {
            requests[kind]++;
            continue;
          }
          errors++;
          if (errorSamples.length < 10) errorSamples.push(`${kind}: ${msg}`);
        }
      }
    };
    await Promise.all(Array.from({ length: clients }, (_, c) => client(c)));
    clearInterval(sampler);
    rss.push([Math.round((Date.now() - started) / 1000), rssMiB(child.pid!)]);
    latencies.sort((a, b) => a - b);
    if (snapshotDir) snapshots.push(await heapSnapshot(child.pid!, snapshotDir, log));
    let heap: SoakHeap | undefined;
    if (snapshots.length === 2) {
      const [before, after] = snapshots.map(summarizeHeapSnapshot);
      heap = {
        beforeMiB: before.totalBytes / 2 ** 20,
        afterMiB: after.totalBytes / 2 ** 20,
        growth: heapGrowth(before, after),
        largest: largestKinds(after).map((k) => ({ ...k, deltaBytes: k.bytes - (before.kinds.get(k.kind)?.bytes ?? 0) })),
      };
    }
    return {
      heap,
      seconds,
      clients,
      requests,
      errors,
      errorSamples,
      rss,
      p50Ms: latencies[Math.floor(latencies.length * 0.5)] ?? NaN,
      p99Ms: latencies[Math.floor(latencies.length * 0.99)] ?? NaN,
    };
  } finally {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
  }
}

/** Asks the server for a heap snapshot (SIGUSR2) and waits until its file is written; returns the path. */
async function heapSnapshot(pid: number, dir: string, log: (line: string) => void): Promise<string> {
  const before = new Set(fs.readdirSync(dir));
  const t = Date.now();
  process.kill(pid, 'SIGUSR2');
  for (let lastSize = -1; ;) {
    await new Promise((r) => setTimeout(r, 1000));
    const file = fs.readdirSync(dir).find((f) => f.endsWith('.heapsnapshot') && !before.has(f));
    if (!file) {
      if (Date.now() - t > 300_000) throw new Error('no heap snapshot after 5 minutes');
      continue;
    }
    const size = fs.statSync(path.join(dir, file)).size;
    // V8 writes the snapshot in one go and the file ends with its closing brace.
    if (size > 0 && size === lastSize && lastBytes(path.join(dir, file), 16).trimEnd().endsWith('}')) {
      log(`soak: heap snapshot ${file} (${(size / 2 ** 20).toFixed(0)} MiB) in ${((Date.now() - t) / 1000).toFixed(0)} s`);
      return path.join(dir, file);
    }
    lastSize = size;
  }
}

function lastBytes(file: string, n: number): string {
  const fd = fs.openSync(file, 'r');
  try {
    const size = fs.fstatSync(fd).size;
    const buf = Buffer.alloc(Math.min(n, size));
    fs.readSync(fd, buf, 0, buf.length, size - buf.length);
    return buf.toString('utf8');
  } finally {
    fs.closeSync(fd);
  }
}

/** An ASCII chart of the RSS samples (MiB over seconds), `height` rows. */
export function rssChart(rss: Array<[number, number]>, height = 12): string {
  const values = rss.map(([, v]) => v);
  const max = Math.ceil(Math.max(...values) / 100) * 100;
  const min = Math.max(0, Math.floor(Math.min(...values) / 100) * 100 - 100);
  const rows: string[] = [];
  for (let r = height; r >= 1; r--) {
    const level = min + ((max - min) * r) / height;
    const line = values.map((v) => (v >= level - (max - min) / height / 2 ? '█' : ' ')).join('');
    rows.push(`${level.toFixed(0).padStart(5)} MiB |${line}`);
  }
  rows.push(`${' '.repeat(10)}+${'-'.repeat(values.length)}`);
  rows.push(`${' '.repeat(11)}0 s${' '.repeat(Math.max(1, values.length - 8))}${rss[rss.length - 1][0]} s`);
  return rows.join('\n');
}

/** Flatness over the last half: (max - min) / mean of the samples in the last `fraction` of the run. */
export function flatness(rss: Array<[number, number]>, fraction = 0.5): { min: number; max: number; mean: number; spread: number } {
  const end = rss[rss.length - 1][0];
  const tail = rss.filter(([t]) => t >= end * (1 - fraction)).map(([, v]) => v);
  const min = Math.min(...tail);
  const max = Math.max(...tail);
  const mean = tail.reduce((a, b) => a + b, 0) / tail.length;
  return { min, max, mean, spread: (max - min) / mean };
}
