/**
 * RP3β (Paudel et al. 2017; Christoffel et al. 2015): item-item weights from a three-step random walk
 * item → person who liked it → another item that person liked, W_ij = Σ_u 1/(|U_i|·|I_u|), divided by
 * the destination's popularity to the power β. People with short lists speak louder than those who
 * like everything, and β trades the walk's pull towards popular movies against novelty. A strong
 * baseline on small data (Dacrema et al. 2019), and the same neighbour lists a query walks.
 */
import { TopK } from '../index/top-k';
import type { NeighbourLists } from './item-knn';
import { LikeMatrix, row } from './likes';

export interface Rp3Options {
  beta: number;
  neighbours: number;
}

export function fitRp3beta(m: LikeMatrix, o: Rp3Options): NeighbourLists {
  const acc = new Float64Array(m.items);
  const co = new Int32Array(m.items);
  const touched: number[] = [];
  const start = new Int32Array(m.items + 1);
  const item: number[] = [];
  const sim: number[] = [];
  const people: number[] = [];
  for (let i = 0; i < m.items; i++) {
    start[i] = item.length;
    if (!m.count[i]) continue;
    for (const p of row(m.byItem, i)) {
      const likes = row(m.byPerson, p);
      const w = 1 / likes.length;
      for (const j of likes) {
        if (j === i) continue;
        if (co[j] === 0) touched.push(j);
        co[j]++;
        acc[j] += w;
      }
    }
    const top = new TopK(o.neighbours);
    for (const j of touched) top.push(j, acc[j] / m.count[i] / Math.pow(m.count[j], o.beta));
    for (const h of top.result()) {
      item.push(h.id);
      sim.push(h.score);
      people.push(co[h.id]);
    }
    for (const j of touched) {
      co[j] = 0;
      acc[j] = 0;
    }
    touched.length = 0;
  }
  start[m.items] = item.length;
  return { start, item: Int32Array.from(item), sim: Float32Array.from(sim), people: Int32Array.from(people) };
}
