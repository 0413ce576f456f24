/**
 * People's likes as item indices of the catalogue: the sparse matrix every recommender is fitted on,
 * stored both ways (each person's items, each item's people) in compressed rows.
 */

export interface Csr {
  /** row r holds `index[start[r]] .. index[start[r + 1] - 1]` */
  readonly start: Int32Array;
  readonly index: Int32Array;
}

export interface LikeMatrix {
  readonly people: number;
  readonly items: number;
  /** each person's liked items (distinct, ascending) */
  readonly byPerson: Csr;
  /** each item's people (ascending) */
  readonly byItem: Csr;
  /** likes per item */
  readonly count: Int32Array;
  readonly likes: number;
}

export function row(m: Csr, r: number): Int32Array {
  return m.index.subarray(m.start[r], m.start[r + 1]);
}

/** Builds the matrix from per-person item index lists (duplicates and negative indices dropped). */
export function likeMatrix(perPerson: ReadonlyArray<ArrayLike<number>>, items: number): LikeMatrix {
  const lists = perPerson.map((l) => Int32Array.from(new Set(Array.from(l).filter((i) => i >= 0 && i < items))).sort());
  const pStart = new Int32Array(lists.length + 1);
  lists.forEach((l, p) => (pStart[p + 1] = pStart[p] + l.length));
  const pIndex = new Int32Array(pStart[lists.length]);
  lists.forEach((l, p) => pIndex.set(l, pStart[p]));
  const count = new Int32Array(items);
  for (const i of pIndex) count[i]++;
  const iStart = new Int32Array(items + 1);
  for (let i = 0; i < items; i++) iStart[i + 1] = iStart[i] + count[i];
  const iIndex = new Int32Array(pIndex.length);
  const fill = iStart.slice(0, items);
  lists.forEach((l, p) => {
    for (const i of l) iIndex[fill[i]++] = p;
  });
  return { people: lists.length, items, byPerson: { start: pStart, index: pIndex }, byItem: { start: iStart, index: iIndex }, count, likes: pIndex.length };
}
