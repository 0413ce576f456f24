import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { HierarchicalNSW } from 'hnswlib-node';
import { project } from '../math/subspace';
import { dot } from '../math/vectors';
import { runIndexWorker } from './index-worker';
import { TopK } from './top-k';
import { decodeUint8, dotUint8, encodeUint8, sum } from './uint8-codes';
import type { Hit, IdFilter } from './cosine-index';

const NO_IDS: ReadonlySet<number> = new Set();

export interface CompactIndexOptions {
  /** Below this many items (or admitted by a filter) search is a scan of the stored codes. */
  exactBelow?: number;
  m?: number;
  efConstruction?: number;
  efSearch?: number;
  /** Dimensions of the projection the HNSW graph is built on (the vectors' dominant subspace). */
  graphDims?: number;
  /**
   * Dimensions of the projection stored (8-bit codes) and used to rerank the graph's candidates and to
   * scan; 0 (the default) stores the full vectors as 8-bit codes. On the real poster embeddings an int8 scan
   * of a 256-d projection finds 0.88 of the exact top 10, of a 512-d one 0.92 (the spectrum has a long
   * tail), so the default keeps every dimension.
   */
  storeDims?: number;
  /** Candidates the graph hands to the rerank: this many per requested item (at least 64). */
  rerankPerK?: number;
}

/**
 * Cosine similarity over a large catalogue in little memory: each vector is kept as 8-bit codes (uint8-codes.ts; of its
 * projection onto the dominant `storeDims`-dimensional subspace, or of the full vector) with one scale,
 * and the HNSW graph is built on a smaller projection (`graphDims`). A search walks the graph for
 * `rerankPerK * k` candidates and reranks them by the codes. One byte per stored dimension instead of
 * fp32 twice (our copy and hnswlib's); at 1,280 dimensions with the full vectors stored and a 64-d graph,
 * about 1.7 KB per item instead of 10.6 KB. Without neighbour lists: every query is a graph search.
 * Before the graph is built (or for small sets) search scans the codes of the full vectors.
 */
export class CompactCosineIndex {
  private codes: Uint8Array;
  private scales: Float32Array;
  private offsets: Float32Array;
  private slotIds: Int32Array;
  private readonly slotOf = new Map<number, number>();
  private used = 0;
  /** Until the graph is built, codes hold the full vectors (storeDims = dim); then the stored projection. */
  private codeDims: number;
  private storeBasis?: Float32Array;
  /** graphBasis x storeBasis^T: a stored item's graph coordinates from its stored ones. */
  private graphFromStore?: Float32Array;
  private graphBasis?: Float32Array;
  private hnsw?: HierarchicalNSW;
  private hnswCapacity = 0;
  private building?: Promise<void>;
  private readonly scratch: Float32Array;
  readonly opts: Required<CompactIndexOptions>;

  constructor(
    readonly dim: number,
    opts: CompactIndexOptions = {},
  ) {
    this.opts = { exactBelow: 1500, m: 16, efConstruction: 100, efSearch: 80, graphDims: 64, storeDims: 0, rerankPerK: 8, ...opts };
    this.codeDims = dim;
    this.codes = new Uint8Array(new SharedArrayBuffer(1024 * dim));
    this.scales = new Float32Array(new SharedArrayBuffer(1024 * 4));
    this.offsets = new Float32Array(new SharedArrayBuffer(1024 * 4));
    this.slotIds = new Int32Array(1024).fill(-1);
    this.scratch = new Float32Array(dim);
  }

  get size(): number {
    return this.slotOf.size;
  }

  get hasGraph(): boolean {
    return this.hnsw !== undefined;
  }

  /** Bytes held by the codes, scales and the graph's vectors (not its links): for reports. */
  get vectorBytes(): number {
    return this.codes.byteLength + this.scales.byteLength + this.offsets.byteLength + this.hnswCapacity * this.opts.graphDims * 4;
  }

  ids(): IterableIterator<number> {
    return this.slotOf.keys();
  }

  has(id: number): boolean {
    return this.slotOf.has(id);
  }

  /** The stored vector, decoded (an approximation of the vector added), unit length. */
  get(id: number): Float32Array | undefined {
    const slot = this.slotOf.get(id);
    if (slot === undefined) return undefined;
    const out = new Float32Array(this.dim);
    const c = this.codeDims;
    if (!this.storeBasis) {
      decodeUint8(this.codes, slot * c, c, this.offsets[slot], this.scales[slot], out, 0);
    } else {
      const w = new Float32Array(c);
      decodeUint8(this.codes, slot * c, c, this.offsets[slot], this.scales[slot], w, 0);
      for (let r = 0; r < c; r++) {
        if (w[r] === 0) continue;
        for (let j = 0; j < this.dim; j++) out[j] += w[r] * this.storeBasis[r * this.dim + j];
      }
    }
    let n = 0;
    for (let j = 0; j < this.dim; j++) n += out[j] * out[j];
    n = Math.sqrt(n) || 1;
    for (let j = 0; j < this.dim; j++) out[j] /= n;
    return out;
  }

  /** Candidates reranked by the full codes per result wanted: more raise recall at the cost of 8-bit products. */
  setRerankPerK(n: number): void {
    if (!(n >= 1)) throw new RangeError(`rerankPerK must be at least 1, not ${n}`);
    this.opts.rerankPerK = n;
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
    this.encode(slot, vector);
    if (this.hnsw) {
      if (this.hnsw.getCurrentCount() >= this.hnswCapacity) {
        this.hnswCapacity = Math.ceil(this.hnswCapacity * 1.5) + 16;
        this.hnsw.resizeIndex(this.hnswCapacity);
      }
      this.hnsw.addPoint(this.graphPoint(vector), slot);
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

  /** The k items most similar to the stored item `id` (never `id` itself) that pass `filter`. */
  similarTo(id: number, k: number, filter?: IdFilter): Hit[] {
    const slot = this.slotOf.get(id);
    if (slot === undefined) return [];
    if (!this.storeBasis || !this.graphFromStore) return this.search(this.get(id)!, k, filter, new Set([id]));
    // Straight from the stored codes: no decoding to the full dimension, no projection of it.
    const c = this.codeDims;
    const q = new Float32Array(c);
    decodeUint8(this.codes, slot * c, c, this.offsets[slot], this.scales[slot], q, 0);
    const gd = this.opts.graphDims;
    const g = new Array<number>(gd);
    for (let r = 0; r < gd; r++) {
      let s = 0;
      for (let j = 0; j < c; j++) s += this.graphFromStore[r * c + j] * q[j];
      g[r] = s;
    }
    return this.searchIn(q, () => g, k, filter, new Set([id]));
  }

  /**
   * The k most similar items to `query` that pass `filter` and are not in `exclude`, best first. The
   * graph is walked with the filter inside (ef grows as the filter's share, estimated from a sample,
   * shrinks); a filter that admits few items is answered by a scan of their codes.
   */
  search(query: Float32Array, k: number, filter?: IdFilter, exclude: ReadonlySet<number> = NO_IDS): Hit[] {
    return this.searchIn(this.storedQuery(query), () => this.graphPoint(query), k, filter, exclude);
  }

  /** `search` with the query in stored coordinates and (when the graph is asked) in graph coordinates. */
  private searchIn(q: Float32Array, graphPoint: () => number[], k: number, filter?: IdFilter, exclude: ReadonlySet<number> = NO_IDS): Hit[] {
    if (k <= 0 || this.size === 0) return [];
    const admit = exclude.size ? (id: number) => !exclude.has(id) && (!filter || filter(id)) : filter;
    if (!this.hnsw || this.size < this.opts.exactBelow) return this.scan(q, k, admit);
    const share = filter ? this.estimateShare(filter) : 1;
    if (share * this.size < this.opts.exactBelow) return this.scan(q, k, admit);
    const candidates = Math.min(this.size, Math.max(64, this.opts.rerankPerK * k));
    this.hnsw.setEf(Math.max(this.opts.efSearch, candidates, Math.ceil(candidates / Math.sqrt(share))));
    const ids = this.slotIds;
    const res = filter
      ? this.hnsw.searchKnn(graphPoint(), candidates, (slot: number) => ids[slot] >= 0 && admit!(ids[slot]))
      : this.hnsw.searchKnn(graphPoint(), Math.min(this.size, candidates + exclude.size));
    const top = new TopK(k);
    const qSum = sum(q);
    for (const slot of res.neighbors) {
      const id = ids[slot];
      if (id >= 0 && !exclude.has(id)) top.push(id, this.score(q, qSum, slot));
    }
    return top.result();
  }

  /** Top k by a scan of every stored code (exact up to the 8-bit codes and, after the build, the stored projection). */
  exact(query: Float32Array, k: number, filter?: IdFilter): Hit[] {
    return this.scan(this.storedQuery(query), k, filter);
  }

  private scan(q: Float32Array, k: number, filter?: IdFilter): Hit[] {
    const top = new TopK(k);
    const qSum = sum(q);
    for (let s = 0; s < this.used; s++) {
      const id = this.slotIds[s];
      if (id < 0 || (filter && !filter(id))) continue;
      top.push(id, this.score(q, qSum, s));
    }
    return top.result();
  }

  /**
   * Computes the projections (from a sample) and builds the graph on them in a worker thread, then
   * re-encodes the stored vectors as their projections (`cacheDir` holds the graph file while it
   * passes from the worker; it is not kept: a restart builds again).
   */
  buildGraph(cacheDir?: string, onProgress?: (done: number, of: number) => void): Promise<void> {
    if (this.building) return this.building;
    if (this.hnsw) return Promise.resolve(); // built once: later items join the graph as they are added
    this.building = this.doBuild(cacheDir, onProgress).finally(() => (this.building = undefined));
    return this.building;
  }

  private async doBuild(cacheDir?: string, onProgress?: (done: number, of: number) => void): Promise<void> {
    if (this.storeBasis || this.hnsw) throw new Error('the compact index is built once; open a new one to rebuild');
    const used = this.used;
    const gd = this.opts.graphDims;
    const sd = this.opts.storeDims > 0 && this.opts.storeDims < this.dim ? this.opts.storeDims : 0;
    // The worker reads the current codes (full vectors) and writes the graph file, the bases and the new codes.
    // Shared memory: the worker reads the codes in place (slots re-encoded meanwhile are redone after).
    const codes = this.codes;
    const scales = this.scales;
    const offsets = this.offsets;
    const slotIds = this.slotIds.slice(0, used);
    const job: CompactBuildJob = {
      codes,
      scales,
      offsets,
      slotIds,
      dim: this.dim,
      graphDims: gd,
      storeDims: sd,
      m: this.opts.m,
      efConstruction: this.opts.efConstruction,
      file: path.join(cacheDir ?? os.tmpdir(), `compact-${process.pid}-${Date.now()}.bin`),
      graphBasis: new Float32Array(new SharedArrayBuffer(gd * this.dim * 4)),
      storeBasis: new Float32Array(new SharedArrayBuffer(Math.max(sd, 1) * this.dim * 4)),
      storeCodes: new Uint8Array(new SharedArrayBuffer(Math.max(sd, 1) * used)),
      storeScales: new Float32Array(new SharedArrayBuffer(used * 4)),
      storeOffsets: new Float32Array(new SharedArrayBuffer(used * 4)),
    };
    if (cacheDir) fs.mkdirSync(cacheDir, { recursive: true });
    await runIndexWorker('compact-index-worker.js', job, onProgress);
    const index = new HierarchicalNSW('ip', gd);
    await index.readIndex(job.file, true);
    fs.rmSync(job.file, { force: true });
    const capacity = Math.ceil(used * 1.25) + 64;
    index.resizeIndex(capacity);
    // Items added or replaced while the worker ran keep their full-vector codes until re-encoded here.
    const changed: Array<[number, Float32Array]> = [];
    for (let s = 0; s < this.used; s++) {
      const id = this.slotIds[s];
      const builtWith = s < used ? slotIds[s] : -1;
      if (id >= 0 && (id !== builtWith || this.dirty.has(s))) changed.push([s, this.decodeFull(s)]);
      if (id < 0 && builtWith >= 0) index.markDelete(s);
    }
    this.dirty.clear();
    this.graphBasis = job.graphBasis;
    if (sd) {
      this.storeBasis = job.storeBasis;
      const g = new Float32Array(gd * sd);
      for (let r = 0; r < gd; r++) for (let c = 0; c < sd; c++) g[r * sd + c] = dot(job.graphBasis, r * this.dim, job.storeBasis, c * this.dim, this.dim);
      this.graphFromStore = g;
      this.codeDims = sd;
      this.codes = new Uint8Array(new SharedArrayBuffer(this.slotIds.length * sd));
      this.codes.set(job.storeCodes);
      this.scales = new Float32Array(new SharedArrayBuffer(this.slotIds.length * 4));
      this.scales.set(job.storeScales);
      this.offsets = new Float32Array(new SharedArrayBuffer(this.slotIds.length * 4));
      this.offsets.set(job.storeOffsets);
    }
    this.hnsw = index;
    this.hnswCapacity = capacity;
    for (const [s, v] of changed) {
      this.encode(s, v);
      index.addPoint(this.graphPoint(v), s);
    }
  }

  /** Slots re-encoded while a build runs (their new vector must reach the graph afterwards). */
  private readonly dirty = new Set<number>();

  private decodeFull(slot: number): Float32Array {
    const out = new Float32Array(this.dim);
    decodeUint8(this.codes, slot * this.dim, this.dim, this.offsets[slot], this.scales[slot], out, 0);
    return out;
  }

  private encode(slot: number, vector: Float32Array): void {
    if (this.building && !this.storeBasis) this.dirty.add(slot);
    const c = this.codeDims;
    let src: Float32Array = vector;
    if (this.storeBasis) {
      project(this.storeBasis, c, this.dim, vector, 0, this.scratch, 0);
      src = this.scratch;
    }
    const { offset, scale } = encodeUint8(src, 0, c, this.codes, slot * c);
    this.scales[slot] = scale;
    this.offsets[slot] = offset;
  }

  private graphPoint(v: Float32Array): number[] {
    const out = new Float32Array(this.opts.graphDims);
    project(this.graphBasis!, this.opts.graphDims, this.dim, v, 0, out, 0);
    return Array.from(out);
  }

  /** The query in the stored coordinates. */
  private storedQuery(query: Float32Array): Float32Array {
    if (!this.storeBasis) return query;
    const q = new Float32Array(this.codeDims);
    project(this.storeBasis, this.codeDims, this.dim, query, 0, q, 0);
    return q;
  }

  private score(q: Float32Array, qSum: number, slot: number): number {
    const c = this.codeDims;
    return dotUint8(q, qSum, this.codes, slot * c, c, this.offsets[slot], this.scales[slot]);
  }

  /** The share of items a filter admits, from an even sample of slots. */
  private estimateShare(filter: IdFilter): number {
    const step = Math.max(1, Math.floor(this.used / 2048));
    let seen = 0;
    let admitted = 0;
    for (let s = 0; s < this.used; s += step) {
      const id = this.slotIds[s];
      if (id < 0) continue;
      seen++;
      if (filter(id)) admitted++;
    }
    return seen ? admitted / seen : 0;
  }

  private grow(): void {
    const cap = this.slotIds.length * 2;
    const codes = new Uint8Array(new SharedArrayBuffer(cap * this.codeDims));
    codes.set(this.codes);
    const scales = new Float32Array(new SharedArrayBuffer(cap * 4));
    scales.set(this.scales);
    const offsets = new Float32Array(new SharedArrayBuffer(cap * 4));
    offsets.set(this.offsets);
    const ids = new Int32Array(cap).fill(-1);
    ids.set(this.slotIds);
    this.codes = codes;
    this.scales = scales;
    this.offsets = offsets;
    this.slotIds = ids;
  }
}

export interface CompactBuildJob {
  codes: Uint8Array;
  scales: Float32Array;
  offsets: Float32Array;
  slotIds: Int32Array;
  dim: number;
  graphDims: number;
  storeDims: number;
  m: number;
  efConstruction: number;
  file: string;
  graphBasis: Float32Array;
  storeBasis: Float32Array;
  storeCodes: Uint8Array;
  storeScales: Float32Array;
  storeOffsets: Float32Array;
}
