/**
 * A taste-model fit as a message: people's likes and the catalogue packed into a few typed arrays
 * (the poster embeddings as one Float32Array), so that a worker thread gets them without a copy, and
 * unpacked there into the arguments of fitTasteModel. One fitting code path: the worker calls the
 * same fitTasteModel as `evaluate-recs`.
 */
import type { CatalogItem, PersonLikes, TasteOptions } from './taste-model';

export interface TasteFitJob {
  /** person p liked likedIds[likedStart[p]] .. likedIds[likedStart[p + 1] - 1] */
  likedStart: Int32Array;
  likedIds: Int32Array;
  dislikedStart: Int32Array;
  dislikedIds: Int32Array;
  movieIds: Int32Array;
  /** NaN: no year */
  years: Float64Array;
  genres: string[][];
  /** floats per embedding (0 when no movie has one) */
  dim: number;
  /** movie i's embedding at i * dim, when hasEmbedding[i] */
  embeddings: Float32Array;
  hasEmbedding: Uint8Array;
  options: Partial<TasteOptions>;
}

function packLists(lists: ReadonlyArray<readonly number[]>): { start: Int32Array; ids: Int32Array } {
  const start = new Int32Array(lists.length + 1);
  lists.forEach((l, p) => (start[p + 1] = start[p] + l.length));
  const ids = new Int32Array(start[lists.length]);
  lists.forEach((l, p) => ids.set(l, start[p]));
  return { start, ids };
}

function unpackLists(start: Int32Array, ids: Int32Array, p: number): number[] {
  return Array.from(ids.subarray(start[p], start[p + 1]));
}

export function packTasteFit(people: readonly PersonLikes[], catalog: readonly CatalogItem[], options: Partial<TasteOptions> = {}): TasteFitJob {
  const liked = packLists(people.map((p) => p.liked));
  const disliked = packLists(people.map((p) => p.disliked));
  const dim = catalog.find((c) => c.embedding?.length)?.embedding?.length ?? 0;
  const embeddings = new Float32Array(catalog.length * dim);
  const hasEmbedding = new Uint8Array(catalog.length);
  catalog.forEach((c, i) => {
    if (!c.embedding?.length) return;
    if (c.embedding.length !== dim) throw new Error(`poster embeddings of different sizes (${dim} and ${c.embedding.length})`);
    embeddings.set(c.embedding, i * dim);
    hasEmbedding[i] = 1;
  });
  return {
    likedStart: liked.start,
    likedIds: liked.ids,
    dislikedStart: disliked.start,
    dislikedIds: disliked.ids,
    movieIds: Int32Array.from(catalog, (c) => c.movieId),
    years: Float64Array.from(catalog, (c) => c.year ?? NaN),
    genres: catalog.map((c) => [...c.genres]),
    dim,
    embeddings,
    hasEmbedding,
    options,
  };
}

/** The buffers a job's postMessage transfers (the sender's arrays are detached). */
export function jobBuffers(job: TasteFitJob): ArrayBuffer[] {
  const arrays = [job.likedStart, job.likedIds, job.dislikedStart, job.dislikedIds, job.movieIds, job.years, job.embeddings, job.hasEmbedding];
  return [...new Set(arrays.map((a) => a.buffer as ArrayBuffer))];
}

export function unpackTasteFit(job: TasteFitJob): { people: PersonLikes[]; catalog: CatalogItem[] } {
  const people = Array.from({ length: job.likedStart.length - 1 }, (_, p) => ({
    person: String(p),
    liked: unpackLists(job.likedStart, job.likedIds, p),
    disliked: unpackLists(job.dislikedStart, job.dislikedIds, p),
  }));
  const catalog = Array.from(job.movieIds, (movieId, i) => ({
    movieId,
    genres: job.genres[i],
    year: Number.isNaN(job.years[i]) ? null : job.years[i],
    embedding: job.hasEmbedding[i] ? job.embeddings.subarray(i * job.dim, (i + 1) * job.dim) : null,
  }));
  return { people, catalog };
}
