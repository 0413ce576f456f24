/**
 * Item-based collaborative filtering over co-likes: for every liked item, its most similar items by
 * cosine of their like vectors, damped by shrinkage (c / (c + λ), c = people who liked both) so that a
 * pair liked together by two people does not outrank one liked together by fifty. Lists are computed
 * once at fit time, so a query only walks the lists of its liked items.
 */
import { LikeMatrix, row } from './likes';
import { TopK } from '../index/top-k';

export interface ItemKnnOptions {
  /** neighbours kept per item */
  neighbours: number;
  /** shrinkage λ in c / (c + λ) */
  shrinkage: number;
}

/** Per item (compressed rows over all catalogue items; items nobody liked have none). */
export interface NeighbourLists {
  readonly start: Int32Array;
  readonly item: Int32Array;
  readonly sim: Float32Array;
  /** people who liked both */
  readonly people: Int32Array;
}

export function fitItemKnn(m: LikeMatrix, o: ItemKnnOptions): NeighbourLists {
  const co = new Int32Array(m.items);
  const touched: number[] = [];
  const start = new Int32Array(m.items + 1);
  const item: number[] = [];
  const sim: number[] = [];
  const people: number[] = [];
  for (let i = 0; i < m.items; i++) {
    start[i] = item.length;
    if (!m.count[i]) continue;
    for (const p of row(m.byItem, i))
      for (const j of row(m.byPerson, p)) {
        if (j === i) continue;
        if (co[j] === 0) touched.push(j);
        co[j]++;
      }
    const top = new TopK(o.neighbours);
    for (const j of touched) {
      const c = co[j];
      top.push(j, (c / Math.sqrt(m.count[i] * m.count[j])) * (c / (c + o.shrinkage)));
    }
    for (const h of top.result()) {
      item.push(h.id);
      sim.push(h.score);
      people.push(co[h.id]);
    }
    for (const j of touched) co[j] = 0;
    touched.length = 0;
  }
  start[m.items] = item.length;
  return { start, item: Int32Array.from(item), sim: Float32Array.from(sim), people: Int32Array.from(people) };
}
