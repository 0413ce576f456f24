import { dot } from '../math/vectors';
import { TopK } from './top-k';

/** The slots a filter admits and, once a scan needed them, their projections side by side. */
export interface AdmittedSet {
  slots: Int32Array;
  packed?: Float32Array;
}

/** Copies the admitted slots' projections (`d` floats each in `proj`) side by side, for a cache-friendly scan. */
export function packProjections(set: AdmittedSet, proj: Float32Array, d: number): Float32Array {
  const packed = new Float32Array(set.slots.length * d);
  for (let i = 0; i < set.slots.length; i++) packed.set(proj.subarray(set.slots[i] * d, (set.slots[i] + 1) * d), i * d);
  return packed;
}

/**
 * The k best admitted slots for a query, scored exactly. A large set is first ranked by the packed
 * projections (the query's projection `qp`, `d` floats at `qpOff`) and only its best `candidates` are
 * scored at full precision; `skip` drops slots (the query's own) from the result.
 */
export function scanAdmitted(
  set: AdmittedSet,
  vectors: Float32Array,
  dim: number,
  query: { v: Float32Array; off: number; qp?: Float32Array; qpOff: number; d: number },
  k: number,
  candidates: number,
  skip?: (slot: number) => boolean,
): TopK {
  const { slots, packed } = set;
  const n = slots.length;
  let chosen: ArrayLike<number> = slots;
  let m = n;
  if (packed && query.qp && n > 2 * candidates) {
    const { qp, qpOff, d } = query;
    const top = new TopK(candidates);
    for (let i = 0; i < n; i++) {
      const score = dot(qp, qpOff, packed, i * d, d);
      if (score > top.worst) top.push(slots[i], score);
    }
    chosen = top.ids;
    m = top.ids.length;
  }
  const top = new TopK(k);
  for (let i = 0; i < m; i++) {
    const s = chosen[i];
    if (!skip?.(s)) top.push(s, dot(query.v, query.off, vectors, s * dim, dim));
  }
  return top;
}
