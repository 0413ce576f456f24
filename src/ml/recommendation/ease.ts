/**
 * EASE (Steck 2019, "Embarrassingly Shallow Autoencoders"): the item-item weights B that best
 * reconstruct each person's likes from their other likes, with ridge λ and a zero diagonal, in
 * closed form: P = (XᵀX + λI)⁻¹, B_ij = −P_ij / P_jj. Unlike item-kNN it weighs a co-like against
 * everything else the two items' fans liked, so very popular movies stop explaining everything.
 *
 * Only items with at least `minLikes` likes enter (the inverse is cubic in their number, and an item
 * liked once carries no co-like pattern worth a weight). Each row is then cut to its `neighbours`
 * largest positive weights, the same lists a query walks for item-kNN.
 */
import { invertSpdInPlace } from '../math/cholesky';
import { NeighbourLists } from './item-knn';
import { LikeMatrix, row } from './likes';
import { TopK } from '../index/top-k';

export interface EaseOptions {
  /** ridge λ on the Gram matrix of co-like counts */
  lambda: number;
  minLikes: number;
  neighbours: number;
}

export function fitEase(m: LikeMatrix, o: EaseOptions): NeighbourLists {
  const items: number[] = [];
  const pos = new Int32Array(m.items).fill(-1);
  for (let i = 0; i < m.items; i++)
    if (m.count[i] >= o.minLikes) {
      pos[i] = items.length;
      items.push(i);
    }
  const n = items.length;
  const g = new Float64Array(n * n);
  for (let p = 0; p < m.people; p++) {
    const mine = Array.from(row(m.byPerson, p), (i) => pos[i]).filter((x) => x >= 0);
    for (const a of mine) for (const b of mine) g[a * n + b] += 1;
  }
  for (let a = 0; a < n; a++) g[a * n + a] += o.lambda;
  if (n) invertSpdInPlace(g, n);
  const start = new Int32Array(m.items + 1);
  const item: number[] = [];
  const sim: number[] = [];
  const people: number[] = [];
  const co = new Int32Array(m.items);
  for (let i = 0; i < m.items; i++) {
    start[i] = item.length;
    const a = pos[i];
    if (a < 0) continue;
    const top = new TopK(o.neighbours);
    for (let b = 0; b < n; b++) {
      if (b === a) continue;
      const w = -g[a * n + b] / g[b * n + b];
      if (w > 0) top.push(items[b], w);
    }
    const hits = top.result();
    // people who liked both, for alsoLiked
    for (const p of row(m.byItem, i)) for (const j of row(m.byPerson, p)) co[j]++;
    for (const h of hits) {
      item.push(h.id);
      sim.push(h.score);
      people.push(co[h.id]);
    }
    for (const p of row(m.byItem, i)) for (const j of row(m.byPerson, p)) co[j] = 0;
  }
  start[m.items] = item.length;
  return { start, item: Int32Array.from(item), sim: Float32Array.from(sim), people: Int32Array.from(people) };
}
