import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { HierarchicalNSW } from 'hnswlib-node';
import { project } from '../math/subspace';
import { dot } from '../math/vectors';
import { packProjections, scanAdmitted, type AdmittedSet } from './admitted-scan';
import { runIndexWorker } from './index-worker';
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
  /**
   * Dimensions of the projected copy (the vectors' dominant subspace, computed with the graph) that
   * filtered scans rank candidates by before an exact rerank; 0 scans at full precision.
   */
  projectDims?: number;
  /** Candidates a projected scan reranks at full precision: this many per requested item (at least 64). */
  rerankPerK?: number;
  /** A filter admitting at least this fraction of the items walks the unfiltered graph with a larger ef; below, a scan of the admitted items. */
  graphAbove?: number;
}

export interface Hit {
  id: number;
  score: number;
}

/** Filters whose admitted slots a CosineIndex keeps (one genre, a year range: the ones clients repeat). */
const ADMITTED_CACHE = 16;
/** Filtered neighbour lists: results per item kept (k up to this is a lookup), uses before they are computed, memory for all of them. */
export const FILTERED_LIST_K = 20;
const FILTERED_LIST_AFTER_USES = 4;
const FILTERED_LISTS_BYTES = 64 * 2 ** 20;

interface AdmittedSlots extends AdmittedSet {
  mutations: number;
  /** Filtered "like this item" requests that found no list. */
  uses: number;
  /** Every slot's top FILTERED_LIST_K among the admitted (slots, -1 past the end), computed in a worker. */
  lists?: { ids: Int32Array; scores: Float32Array };
  listing?: Promise<boolean>;
}

/**
 * Cosine similarity search over unit vectors, in process. Exact scans for small sets and for
 * selective filters; an HNSW graph (hnswlib) for the rest, built off the main thread and cached on
 * disk. Filters are applied inside the search, before the top-k is cut, never after.
 */
export class CosineIndex {
  private vectors: Float32Array<ArrayBufferLike>;
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
  /** Tunable after construction, except projectDims (fixed when the graph is built). */
  readonly opts: Required<CosineIndexOptions>;
  /** The projection basis (projectDims rows of dim) and every slot's projection; set with the graph. */
  private basis?: Float32Array;
  private proj: Float32Array<ArrayBufferLike> = new Float32Array(0);
  /**
   * The slots a filter admits, by filter (a catalogue hands out one predicate per distinct filter until
   * it changes), with their projections packed side by side once a scan needs them: a repeated filter
   * (one genre) then neither evaluates its predicate on every item nor gathers scattered projections.
   * An entry holds while `mutations` has not moved; at most ADMITTED_CACHE filters are kept.
   */
  private readonly admittedByFilter = new Map<IdFilter, AdmittedSlots>();
  /** Grows with every add, remove and graph build: cached admitted slots older than it are stale. */
  private mutations = 0;

  constructor(
    readonly dim: number,
    opts: CosineIndexOptions = {},
  ) {
    this.opts = { exactBelow: 1500, m: 16, efConstruction: 100, efSearch: 80, projectDims: 96, rerankPerK: 8, graphAbove: 0.25, ...opts };
    // Shared memory: workers (filtered lists) read the vectors in place.
    this.vectors = new Float32Array(new SharedArrayBuffer(1024 * dim * 4));
    this.slotIds = new Int32Array(1024).fill(-1);
  }

  get size(): number {
    return this.slotOf.size;
  }

  get hasGraph(): boolean {
    return this.hnsw !== undefined;
  }

  /** Filters whose neighbour lists are held and current. */
  get filteredListsHeld(): number {
    let n = 0;
    for (const e of this.admittedByFilter.values()) if (e.lists && e.mutations === this.mutations) n++;
    return n;
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
    this.mutations++;
    if (this.basis) project(this.basis, this.opts.projectDims, this.dim, this.vectors, slot * this.dim, this.proj, slot * this.opts.projectDims);
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
    this.mutations++;
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
    if (filter && this.basis && k <= FILTERED_LIST_K) {
      const listed = this.fromFilteredList(this.admittedFor(filter), filter, slot, k);
      if (listed) return listed;
    }
    const v = this.vectors.subarray(slot * this.dim, (slot + 1) * this.dim);
    // The item's stored projection spares a filtered scan projecting the query.
    const d = this.opts.projectDims;
    const qp = this.basis ? this.proj.subarray(slot * d, (slot + 1) * d) : undefined;
    return this.searchWith(v, qp, k, filter, new Set([id]));
  }

  /**
   * The k most similar items to `query` that pass `filter` and are not in `exclude`, best first.
   * A few excluded ids cost nothing (the graph is asked for k + |exclude|). A real filter is first
   * evaluated over every item (a cheap predicate); when it admits a large share, the unfiltered graph
   * is walked with an ef scaled by the inverse share and its results filtered; otherwise (or when that
   * walk comes back short) the admitted items are scanned: ranked by their projections, the best
   * `rerankPerK * k` reranked at full precision.
   */
  search(query: Float32Array, k: number, filter?: IdFilter, exclude: ReadonlySet<number> = NO_IDS): Hit[] {
    return this.searchWith(query, undefined, k, filter, exclude);
  }

  /** `search`, given the query's projection when it is at hand. */
  private searchWith(query: Float32Array, queryProj: Float32Array | undefined, k: number, filter?: IdFilter, exclude: ReadonlySet<number> = NO_IDS): Hit[] {
    if (k <= 0 || this.size === 0) return [];
    const admit = exclude.size ? (id: number) => !exclude.has(id) && (!filter || filter(id)) : filter;
    if (!this.hnsw || this.size < this.opts.exactBelow) return this.exact(query, k, admit);
    const ids = this.slotIds;
    if (!filter) {
      const want = Math.min(k + exclude.size, this.size);
      this.hnsw.setEf(Math.max(this.opts.efSearch, 2 * want));
      const res = this.hnsw.searchKnn(Array.from(query), want);
      const out: Hit[] = [];
      for (let i = 0; i < res.neighbors.length && out.length < k; i++) {
        const id = ids[res.neighbors[i]];
        if (id >= 0 && !exclude.has(id)) out.push({ id, score: 1 - res.distances[i] });
      }
      return out;
    }
    const admitted = this.admittedFor(filter);
    const share = admitted.slots.length / this.size;
    if (share >= this.opts.graphAbove) {
      const want = Math.min(this.hnsw.getCurrentCount(), Math.ceil((2 * k) / share) + exclude.size);
      this.hnsw.setEf(Math.max(this.opts.efSearch, want));
      const res = this.hnsw.searchKnn(Array.from(query), want);
      const out: Hit[] = [];
      for (let i = 0; i < res.neighbors.length && out.length < k; i++) {
        const id = ids[res.neighbors[i]];
        if (id >= 0 && admit!(id)) out.push({ id, score: 1 - res.distances[i] });
      }
      if (out.length === k) return out;
    }
    return this.scanSlots(query, queryProj, k, admitted, exclude);
  }

  /** The live slots `filter` admits (cached per filter until the index changes). */
  private admittedFor(filter: IdFilter): AdmittedSlots {
    const cached = this.admittedByFilter.get(filter);
    if (cached && cached.mutations === this.mutations) return cached;
    const ids = this.slotIds;
    const slots = new Int32Array(this.size);
    let n = 0;
    for (let s = 0; s < this.used; s++) {
      const id = ids[s];
      if (id >= 0 && filter(id)) slots[n++] = s;
    }
    const entry: AdmittedSlots = { mutations: this.mutations, uses: 0, slots: slots.subarray(0, n) };
    this.admittedByFilter.delete(filter);
    if (this.admittedByFilter.size >= ADMITTED_CACHE) this.admittedByFilter.delete(this.admittedByFilter.keys().next().value!);
    this.admittedByFilter.set(filter, entry);
    return entry;
  }

  /** Candidates a projected scan for k results reranks at full precision (the lists' worker ranks the same way). */
  private rerankCandidates(k: number): number {
    return Math.max(64, this.opts.rerankPerK * k);
  }

  /** Top k among the admitted slots but `exclude`: by projection then exact rerank when there are many, else exactly. */
  private scanSlots(query: Float32Array, queryProj: Float32Array | undefined, k: number, admitted: AdmittedSlots, exclude: ReadonlySet<number>): Hit[] {
    const d = this.opts.projectDims;
    const candidates = this.rerankCandidates(k) + exclude.size;
    let qp = queryProj;
    if (this.basis && admitted.slots.length > 2 * candidates) {
      admitted.packed ??= packProjections(admitted, this.proj, d);
      if (!qp) {
        qp = new Float32Array(d);
        project(this.basis, d, this.dim, query, 0, qp, 0);
      }
    }
    const ids = this.slotIds;
    const top = scanAdmitted(
      admitted,
      this.vectors,
      this.dim,
      { v: query, off: 0, qp, qpOff: 0, d },
      k,
      candidates,
      exclude.size ? (s) => exclude.has(ids[s]) : undefined,
    );
    return top.ids.map((s, i) => ({ id: ids[s], score: top.scores[i] }));
  }

  /**
   * The item's top k among the admitted from the filter's lists, or undefined when there are none yet
   * (they are computed in a worker once a filter keeps coming back, within a memory budget).
   */
  private fromFilteredList(set: AdmittedSlots, filter: IdFilter, slot: number, k: number): Hit[] | undefined {
    const lists = set.lists;
    if (!lists || slot * FILTERED_LIST_K >= lists.ids.length) {
      if (++set.uses >= FILTERED_LIST_AFTER_USES) void this.computeFilteredLists(filter);
      return undefined;
    }
    const out: Hit[] = [];
    for (let i = 0; i < FILTERED_LIST_K && out.length < k; i++) {
      const s = lists.ids[slot * FILTERED_LIST_K + i];
      if (s < 0) break;
      out.push({ id: this.slotIds[s], score: lists.scores[slot * FILTERED_LIST_K + i] });
    }
    // A list shorter than k holds every admitted item: the answer is complete.
    return out;
  }

  /**
   * Computes the filter's lists in a worker thread (it reads the shared vectors in place); they are
   * kept only if nothing changed meanwhile. Resolves true when the filter has lists. Within the memory
   * budget only; the filter's current admitted set must be small enough to be scanned.
   */
  computeFilteredLists(filter: IdFilter): Promise<boolean> {
    if (!this.basis) return Promise.resolve(false);
    const set = this.admittedFor(filter);
    if (set.slots.length / this.size >= this.opts.graphAbove) return Promise.resolve(false); // the graph walk serves it
    if (set.lists) return Promise.resolve(true);
    if (set.listing) return set.listing;
    const used = this.used;
    const bytes = used * FILTERED_LIST_K * 8;
    let held = 0;
    for (const e of this.admittedByFilter.values()) if (e.lists) held += e.lists.ids.byteLength * 2;
    if (held + bytes > FILTERED_LISTS_BYTES) return Promise.resolve(false);
    const job: FilteredListsJob = {
      vectors: this.vectors,
      proj: this.proj,
      dim: this.dim,
      d: this.opts.projectDims,
      slotIds: this.slotIds.slice(0, used),
      admitted: set.slots.slice(),
      K: FILTERED_LIST_K,
      candidates: this.rerankCandidates(FILTERED_LIST_K),
      ids: new Int32Array(new SharedArrayBuffer(bytes / 2)).fill(-1),
      scores: new Float32Array(new SharedArrayBuffer(bytes / 2)),
    };
    set.listing = runIndexWorker('filtered-lists-worker.js', job).then(
      () => {
        // An add or delete meanwhile makes them stale (and the set is no longer the current one).
        if (set.mutations !== this.mutations) return false;
        set.lists = { ids: job.ids, scores: job.scores };
        return true;
      },
      (err: Error) => {
        process.stderr.write(`filtered neighbour lists failed, scanning instead: ${err.message}\n`);
        return false;
      },
    );
    return set.listing;
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
    const d = this.opts.projectDims;
    const basis = new Float32Array(new SharedArrayBuffer(d * this.dim * 4));
    const proj = new Float32Array(new SharedArrayBuffer(used * d * 4));
    const projFile = file ? `${file}.proj${d}` : undefined;
    if (file && nbFile && projFile && fs.existsSync(file) && fs.existsSync(nbFile) && (d === 0 || fs.existsSync(projFile))) {
      await index.readIndex(file, true);
      index.resizeIndex(capacity);
      const raw = fs.readFileSync(nbFile);
      nbIds.set(new Int32Array(raw.buffer, raw.byteOffset, used * NEIGHBOURS));
      nbScores.set(new Float32Array(raw.buffer, raw.byteOffset + used * NEIGHBOURS * 4, used * NEIGHBOURS));
      if (d > 0) {
        const p = fs.readFileSync(projFile);
        basis.set(new Float32Array(p.buffer, p.byteOffset, d * this.dim));
        proj.set(new Float32Array(p.buffer, p.byteOffset + d * this.dim * 4, used * d));
      }
    } else {
      const shared = new Float32Array(new SharedArrayBuffer(used * this.dim * 4));
      shared.set(this.vectors.subarray(0, used * this.dim));
      const out = file ?? path.join(os.tmpdir(), `marquee-hnsw-${process.pid}-${Date.now()}.bin`);
      if (file) fs.mkdirSync(path.dirname(file), { recursive: true });
      await runIndexWorker('cosine-index-worker.js', {
        vectors: shared,
        slotIds,
        dim: this.dim,
        m: this.opts.m,
        efConstruction: this.opts.efConstruction,
        file: `${out}.tmp`,
        neighbours: NEIGHBOURS,
        nbIds,
        nbScores,
        projDims: d,
        basis,
        proj,
      });
      fs.renameSync(`${out}.tmp`, out);
      await index.readIndex(out, true);
      index.resizeIndex(capacity);
      if (nbFile) {
        fs.writeFileSync(`${nbFile}.tmp`, Buffer.concat([Buffer.from(nbIds.buffer), Buffer.from(nbScores.buffer)]));
        fs.renameSync(`${nbFile}.tmp`, nbFile);
        if (projFile && d > 0) {
          fs.writeFileSync(`${projFile}.tmp`, Buffer.concat([Buffer.from(basis.buffer), Buffer.from(proj.buffer)]));
          fs.renameSync(`${projFile}.tmp`, projFile);
        }
      } else {
        fs.rmSync(out, { force: true });
      }
    }
    this.neighbours = { ids: nbIds, scores: nbScores, fresh: new Uint8Array(used).fill(1), count: used };
    if (d > 0) {
      this.proj = new Float32Array(new SharedArrayBuffer(this.slotIds.length * d * 4));
      this.proj.set(proj);
      this.basis = basis;
      this.mutations++;
    }
    // Catch up with whatever changed while the worker built.
    for (let s = 0; s < this.used; s++) {
      const id = this.slotIds[s];
      const builtWith = s < used ? slotIds[s] : -1;
      if (id >= 0 && id !== builtWith) {
        const v = this.vectors.subarray(s * this.dim, (s + 1) * this.dim);
        if (this.basis) project(this.basis, d, this.dim, this.vectors, s * this.dim, this.proj, s * d);
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
    const v = new Float32Array(new SharedArrayBuffer(cap * this.dim * 4));
    v.set(this.vectors);
    const ids = new Int32Array(cap).fill(-1);
    ids.set(this.slotIds);
    this.vectors = v;
    this.slotIds = ids;
    if (this.basis) {
      const p = new Float32Array(new SharedArrayBuffer(cap * this.opts.projectDims * 4));
      p.set(this.proj);
      this.proj = p;
    }
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
  projDims: number;
  basis: Float32Array;
  proj: Float32Array;
}

export interface FilteredListsJob {
  vectors: Float32Array;
  proj: Float32Array;
  dim: number;
  d: number;
  slotIds: Int32Array;
  admitted: Int32Array;
  K: number;
  candidates: number;
  ids: Int32Array;
  scores: Float32Array;
}
