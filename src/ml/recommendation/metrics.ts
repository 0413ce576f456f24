/**
 * Top-k ranking metrics for one person (ranked recommendations against the set of movies they went
 * on to like), and their mean over people. Binary relevance throughout: a later like is a hit.
 */

export interface RankingScores {
  /** at least one hit in the top 10 */
  hit10: number;
  precision10: number;
  /** DCG@10 over the ideal DCG of min(10, |relevant|) hits */
  ndcg10: number;
  /** share of the relevant movies that the top 100 holds */
  recall100: number;
}

export function scoreRanking(ranked: readonly number[], relevant: ReadonlySet<number>): RankingScores {
  let hits10 = 0;
  let dcg = 0;
  let hits100 = 0;
  for (let r = 0; r < Math.min(100, ranked.length); r++) {
    if (!relevant.has(ranked[r])) continue;
    hits100++;
    if (r < 10) {
      hits10++;
      dcg += 1 / Math.log2(r + 2);
    }
  }
  let idcg = 0;
  for (let r = 0; r < Math.min(10, relevant.size); r++) idcg += 1 / Math.log2(r + 2);
  return {
    hit10: hits10 > 0 ? 1 : 0,
    precision10: hits10 / 10,
    ndcg10: idcg > 0 ? dcg / idcg : 0,
    recall100: relevant.size ? hits100 / relevant.size : 0,
  };
}

export function meanScores(all: readonly RankingScores[]): RankingScores {
  const n = all.length || 1;
  const sum = (f: (s: RankingScores) => number) => all.reduce((a, s) => a + f(s), 0) / n;
  return { hit10: sum((s) => s.hit10), precision10: sum((s) => s.precision10), ndcg10: sum((s) => s.ndcg10), recall100: sum((s) => s.recall100) };
}
