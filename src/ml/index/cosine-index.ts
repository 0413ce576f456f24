import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { HierarchicalNSW } from 'hnswlib-node';
import { dot } from '../math/vectors';
import { TopK } from './top-k';

export type IdFilter = (id: number) => boolean;

/** Length of each precomputed neighbour list; the API's largest k (MAX_K) is this, so lists answer any k. */
export const NEIGHBOURS = 100;

const NO_IDS: ReadonlySet<number> = new Set();

export interface CosineIndexOptions {
  /** Below this many items (or admitted by a filter) search is an exact scan. */
  exactBelow?: number;
  m?: number;
  efConstruction?: number;
  efSearch?: number;
}

export interface Hit {
  id: number;
  score: number;
}

/**
 * Cosine similarity search over unit vectors, in process. Exact scans for small sets and for
 * selective filters; an HNSW graph (hnswlib) for the rest, built off the main thread and cached on
 * disk. Filters are applied inside the search, before the top-k is cut, never after.
 */
export class CosineIndex {
  private vectors: Float32Array;
  private slotIds: Int32Array;
  private readonly slotOf = new Map<number, number>();
  private used = 0; // slots handed out; deleted ones are tombstoned (id -1) until compaction
  private hnsw?: HierarchicalNSW;
  private hnswCapacity = 0;
  private building?: Promise<void>;
  /**
   * Precomputed neighbour lists (top NEIGHBOURS by the graph at a high ef), by slot: the hot path
   * "posters like this movie's" is then a lookup. A list is dropped when an insert may enter it.
   */
  private neighbours?: { ids: Int32Array; scores: Float32Array; fresh: Uint8Array; count: number };
  readonly opts: Required<CosineIndexOptions>;

  constructor(
    readonly dim: number,
    opts: CosineIndexOptions = {},
  ) {
    this.opts = { exactBelow: 1500, m: 16, efConstruction: 100, efSearch: 80, ...opts };
    this.vectors = new Float32Array(1024 * dim);
    this.slotIds = new Int32Array(1024).fill(-1);
  }

  get size(): number {
    return this.slotOf.size;
  }

  get hasGraph(): boolean {
    return this.hnsw !== undefined;
  }

  ids(): IterableIterator<number> {
    return this.slotOf.keys();
  }

  has(id: number): boolean {
    return this.slotOf.has(id);
  }

  get(id: number): Float32Array | undefined {
    const slot = this.slotOf.get(id);
    return slot === undefined ? undefined : this.vectors.subarray(slot * this.dim, (slot + 1) * this.dim);
  }

  /** Adds or replaces the vector of `id` (expected L2-normalised). */
  add(id: number, vector: Float32Array): void {
    if (vector.length !== this.dim) throw new RangeError(`vector has ${vector.length} dimensions; the index has ${this.dim}`);
    let slot = this.slotOf.get(id);
    if (slot === undefined) {
      if (this.used === this.slotIds.length) this.grow();
      slot = this.used++;
      this.slotOf.set(id, slot);
      this.slotIds[slot] = id;
    }
    this.vectors.set(vector, slot * this.dim);
    this.invalidateNeighbourLists(slot, vector);
    if (this.hnsw) {
      if (this.hnsw.getCurrentCount() >= this.hnswCapacity) {
        this.hnswCapacity = Math.ceil(this.hnswCapacity * 1.5) + 16;
        this.hnsw.resizeIndex(this.hnswCapacity);
      }
      // hnswlib labels are our slots; re-adding a label updates its vector in place.
      this.hnsw.addPoint(Array.from(vector), slot);
    }
  }

  remove(id: number): boolean {
    const slot = this.slotOf.get(id);
    if (slot === undefined) return false;
    this.slotOf.delete(id);
    this.slotIds[slot] = -1;
    if (this.hnsw) this.hnsw.markDelete(slot);
    return true;
  }

  /**
   * The k items most similar to the stored item `id` (never `id` itself) that pass `filter`.
   * Unfiltered requests are answered from the precomputed list when it is fresh.
   */
  similarTo(id: number, k: number, filter?: IdFilter): Hit[] {
    const slot = this.slotOf.get(id);
    if (slot === undefined) return [];
    const nb = this.neighbours;
    if (nb && slot < nb.count && nb.fresh[slot] && k <= NEIGHBOURS) {
      // The list is the item's top NEIGHBOURS in order, so the first k live items in it that pass
      // the filter are the top k that pass it overall (deleted items only shorten the list); a list
      // that runs short needs a search.
      const out: Hit[] = [];
      for (let i = 0; i < NEIGHBOURS && out.length < k; i++) {
        const s = nb.ids[slot * NEIGHBOURS + i];
        if (s < 0) break;
        const other = this.slotIds[s];
        if (other >= 0 && (!filter || filter(other))) out.push({ id: other, score: nb.scores[slot * NEIGHBOURS + i] });
      }
      if (out.length === k) return out;
    }
    const v = this.vectors.subarray(slot * this.dim, (slot + 1) * this.dim);
    return this.search(v, k, filter, new Set([id]));
  }

  /**
   * The k most similar items to `query` that pass `filter` and are not in `exclude`, best first.
   * A few excluded ids cost nothing (the graph is asked for k + |exclude|); a real filter is
   * applied inside the graph walk, or by an exact scan when a sample says it admits few items.
   */
  search(query: Float32Array, k: number, filter?: IdFilter, exclude: ReadonlySet<number> = NO_IDS): Hit[] {
    if (k <= 0 || this.size === 0) return [];
    const admit = exclude.size ? (id: number) => !exclude.has(id) && (!filter || filter(id)) : filter;
    if (!this.hnsw || this.size < this.opts.exactBelow) return this.exact(query, k, admit);
    const ids = this.slotIds;
    if (filter && this.estimateAdmitted(filter) < this.opts.exactBelow) return this.exact(query, k, admit);
    const want = Math.min(k + (filter ? 0 : exclude.size), this.size);
    this.hnsw.setEf(Math.max(this.opts.efSearch, 2 * want));
    const res = filter
      ? this.hnsw.searchKnn(Array.from(query), want, (slot: number) => ids[slot] >= 0 && admit!(ids[slot]))
      : this.hnsw.searchKnn(Array.from(query), want);
    const out: Hit[] = [];
    for (let i = 0; i < res.neighbors.length && out.length < k; i++) {
      const id = ids[res.neighbors[i]];
      if (id >= 0 && !exclude.has(id)) out.push({ id, score: 1 - res.distances[i] });
    }
    return out;
  }

  /** How many items a filter admits, estimated from an even sample of slots. */
  private estimateAdmitted(filter: IdFilter): number {
    const step = Math.max(1, Math.floor(this.used / 1024));
    let seen = 0;
    let admitted = 0;
    for (let s = 0; s < this.used; s += step) {
      const id = this.slotIds[s];
      if (id < 0) continue;
      seen++;
      if (filter(id)) admitted++;
    }
    return seen ? (admitted / seen) * this.size : 0;
  }

  /** Exact top-k by a full scan (the ground truth the graph is measured against). */
  exact(query: Float32Array, k: number, filter?: IdFilter): Hit[] {
    const top = new TopK(k);
    for (let s = 0; s < this.used; s++) {
      const id = this.slotIds[s];
      if (id < 0 || (filter && !filter(id))) continue;
      top.push(id, dot(query, 0, this.vectors, s * this.dim, this.dim));
    }
    return top.result();
  }

  /**
   * Builds the HNSW graph in a worker thread (the main thread keeps serving with exact scans) and
   * caches it in `cacheDir` under a key of the indexed contents, so a restart loads it in a second.
   */
  buildGraph(cacheDir?: string): Promise<void> {
    if (this.building) return this.building;
    this.building = this.doBuild(cacheDir).finally(() => (this.building = undefined));
    return this.building;
  }

  private async doBuild(cacheDir?: string): Promise<void> {
    const used = this.used;
    const slotIds = this.slotIds.slice(0, used);
    const key = this.contentKey(used);
    const file = cacheDir ? path.join(cacheDir, `hnsw-${this.dim}-${key}.bin`) : undefined;
    const capacity = Math.ceil(used * 1.25) + 64;
    const index = new HierarchicalNSW('ip', this.dim);
    const nbIds = new Int32Array(new SharedArrayBuffer(used * NEIGHBOURS * 4)).fill(-1);
    const nbScores = new Float32Array(new SharedArrayBuffer(used * NEIGHBOURS * 4));
    const nbFile = file ? `${file}.neighbours` : undefined;
    if (file && nbFile && fs.existsSync(file) && fs.existsSync(nbFile)) {
      await index.readIndex(file, true);
      index.resizeIndex(capacity);
      const raw = fs.readFileSync(nbFile);
      nbIds.set(new Int32Array(raw.buffer, raw.byteOffset, used * NEIGHBOURS));
      nbScores.set(new Float32Array(raw.buffer, raw.byteOffset + used * NEIGHBOURS * 4, used * NEIGHBOURS));
    } else {
      const shared = new Float32Array(new SharedArrayBuffer(used * this.dim * 4));
      shared.set(this.vectors.subarray(0, used * this.dim));
      const out = file ?? path.join(os.tmpdir(), `marquee-hnsw-${process.pid}-${Date.now()}.bin`);
      if (file) fs.mkdirSync(path.dirname(file), { recursive: true });
      await runBuildWorker({
        vectors: shared,
        slotIds,
        dim: this.dim,
        m: this.opts.m,
        efConstruction: this.opts.efConstruction,
        file: `${out}.tmp`,
        neighbours: NEIGHBOURS,
        nbIds,
        nbScores,
      });
      fs.renameSync(`${out}.tmp`, out);
      await index.readIndex(out, true);
      index.resizeIndex(capacity);
      if (nbFile) {
        fs.writeFileSync(`${nbFile}.tmp`, Buffer.concat([Buffer.from(nbIds.buffer), Buffer.from(nbScores.buffer)]));
        fs.renameSync(`${nbFile}.tmp`, nbFile);
      } else {
        fs.rmSync(out, { force: true });
      }
    }
    this.neighbours = { ids: nbIds, scores: nbScores, fresh: new Uint8Array(used).fill(1), count: used };
    // Catch up with whatever changed while the worker built.
    for (let s = 0; s < this.used; s++) {
      const id = this.slotIds[s];
      const builtWith = s < used ? slotIds[s] : -1;
      if (id >= 0 && id !== builtWith) {
        const v = this.vectors.subarray(s * this.dim, (s + 1) * this.dim);
        index.addPoint(Array.from(v), s);
        this.invalidateNeighbourLists(s, v);
      }
      if (id < 0 && builtWith >= 0) index.markDelete(s);
    }
    this.hnsw = index;
    this.hnswCapacity = capacity;
  }

  /** After `slot` got vector `v`: its own list and every list `v` would now enter are stale. */
  private invalidateNeighbourLists(slot: number, v: Float32Array): void {
    const nb = this.neighbours;
    if (!nb) return;
    if (slot < nb.count) nb.fresh[slot] = 0;
    for (let s = 0; s < nb.count; s++) {
      if (!nb.fresh[s] || this.slotIds[s] < 0) continue;
      const worst = nb.scores[s * NEIGHBOURS + NEIGHBOURS - 1];
      if (dot(v, 0, this.vectors, s * this.dim, this.dim) >= worst) nb.fresh[s] = 0;
    }
  }

  /** A cheap fingerprint of the first `used` slots: ids and a sample of vector values. */
  private contentKey(used: number): string {
    let h = 2166136261 >>> 0;
    const mix = (x: number) => {
      h ^= x;
      h = Math.imul(h, 16777619) >>> 0;
    };
    const view = new Uint32Array(this.vectors.buffer, 0, used * this.dim);
    for (let s = 0; s < used; s++) {
      mix(this.slotIds[s]);
      mix(view[s * this.dim]);
      mix(view[s * this.dim + (s % this.dim)]);
    }
    return `${used}-${h.toString(16)}`;
  }

  private grow(): void {
    const cap = this.slotIds.length * 2;
    const v = new Float32Array(cap * this.dim);
    v.set(this.vectors);
    const ids = new Int32Array(cap).fill(-1);
    ids.set(this.slotIds);
    this.vectors = v;
    this.slotIds = ids;
  }
}

export interface BuildJob {
  vectors: Float32Array;
  slotIds: Int32Array;
  dim: number;
  m: number;
  efConstruction: number;
  file: string;
  neighbours: number;
  nbIds: Int32Array;
  nbScores: Float32Array;
}

function runBuildWorker(job: BuildJob): Promise<void> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(path.join(__dirname, 'cosine-index-worker.js'), { workerData: job });
    worker.once('message', (m: { ok: boolean; error?: string }) => (m.ok ? resolve() : reject(new Error(m.error))));
    worker.once('error', reject);
    worker.once('exit', (code) => code !== 0 && reject(new Error(`index build worker exited with ${code}`)));
  });
}
