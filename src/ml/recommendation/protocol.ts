/**
 * The offline protocol of ../shared/data/ratings/README.md, as `marquee evaluate-recs` runs it.
 *
 * People, not ratings, are split: a seeded assignment to `folds` folds, each fold evaluated by methods
 * fitted on the people of the other folds, so every person is evaluated once and never trains the
 * model that scores them. An evaluated person's `given` earliest likes go in as `liked`; the top 100
 * (ranked over the whole catalogue) is scored against their later likes.
 *
 * Cold start: a seeded share of the rated movies is made "new": every rating of them leaves the
 * training data and the evaluated person's query, and recommendations are restricted to the new
 * movies plus the catalogue's real new releases (no rating at all), then scored against the person's
 * likes of the held-out movies by recall@100.
 */
import { mulberry32, shuffleInPlace } from '../math/random';
import { meanScores, RankingScores, scoreRanking } from './metrics';
import type { RankerSpec } from './ranker';
import type { CatalogItem, PersonLikes } from './taste-model';

export interface RatingEvent {
  person: string;
  movieId: number;
  rating: number;
  /** seconds */
  timestamp: number;
}

export interface ProtocolOptions {
  folds: number;
  /** earliest likes given as `liked` */
  given: number;
  seed: number;
  /** a rating at or above is a like */
  likeAt: number;
  /** a rating at or below is a dislike */
  dislikeAt: number;
  /** share of the rated movies held out as new (cold start) */
  coldShare: number;
  /** movies from this year on are real new releases (in the cold-start candidate pool) */
  newFrom: number;
}

export const DEFAULT_PROTOCOL: ProtocolOptions = { folds: 5, given: 5, seed: 1, likeAt: 4, dislikeAt: 2, coldShare: 0.2, newFrom: 2014 };

interface History {
  person: string;
  /** likes sorted by time */
  likes: number[];
  dislikes: number[];
  fold: number;
}

export interface MethodResult {
  method: string;
  scores: RankingScores;
  /** distinct movies in all top-10 lists over the catalogue size */
  coverage10: number;
  people: number;
  ms: number;
}

export interface SegmentResult {
  segment: 'warm' | 'cold';
  people: number;
  candidates: number;
  methods: MethodResult[];
}

export type Progress = (line: string) => void;

function histories(ratings: readonly RatingEvent[], o: ProtocolOptions): History[] {
  const by = new Map<string, RatingEvent[]>();
  for (const r of ratings) {
    let l = by.get(r.person);
    if (!l) by.set(r.person, (l = []));
    l.push(r);
  }
  const people = [...by.keys()].sort();
  const order = shuffleInPlace(
    Int32Array.from(people, (_, i) => i),
    mulberry32(o.seed),
  );
  const fold = new Int32Array(people.length);
  order.forEach((p, rank) => (fold[p] = rank % o.folds));
  return people.map((person, p) => {
    // time order, then movie id for ties (several ratings in one second are common)
    const rs = by.get(person)!.sort((a, b) => a.timestamp - b.timestamp || a.movieId - b.movieId);
    return {
      person,
      likes: rs.filter((r) => r.rating >= o.likeAt).map((r) => r.movieId),
      dislikes: rs.filter((r) => r.rating <= o.dislikeAt).map((r) => r.movieId),
      fold: fold[p],
    };
  });
}

interface Case {
  given: number[];
  relevant: Set<number>;
}

function runSegment(
  segment: 'warm' | 'cold',
  hs: History[],
  catalog: CatalogItem[],
  methods: RankerSpec[],
  o: ProtocolOptions,
  trainOf: (h: History) => PersonLikes,
  caseOf: (h: History) => Case | null,
  accept: ((movieId: number) => boolean) | undefined,
  candidates: number,
  progress: Progress,
): SegmentResult {
  const cases = hs.map((h) => caseOf(h));
  const results: MethodResult[] = [];
  for (const m of methods) {
    const t0 = Date.now();
    const scores: RankingScores[] = [];
    const seen = new Set<number>();
    for (let f = 0; f < o.folds; f++) {
      const train = hs.filter((h) => h.fold !== f).map(trainOf);
      const ranker = m.fit(train, catalog);
      hs.forEach((h, i) => {
        const c = cases[i];
        if (h.fold !== f || !c) return;
        const ranked = ranker.rank(c.given, 100, accept);
        for (const id of ranked.slice(0, 10)) seen.add(id);
        scores.push(scoreRanking(ranked, c.relevant));
      });
    }
    const r = { method: m.name, scores: meanScores(scores), coverage10: seen.size / catalog.length, people: scores.length, ms: Date.now() - t0 };
    progress(`${segment}: ${m.name} · ${formatRow(r)} · ${(r.ms / 1000).toFixed(1)} s`);
    results.push(r);
  }
  return { segment, people: cases.filter((c) => c).length, candidates, methods: results };
}

/** The warm segment: later likes of people the methods never saw, ranked over the whole catalogue. */
export function evaluateWarm(
  ratings: readonly RatingEvent[],
  catalog: CatalogItem[],
  methods: RankerSpec[],
  o: ProtocolOptions,
  progress: Progress = () => undefined,
): SegmentResult {
  const hs = histories(ratings, o);
  return runSegment(
    'warm',
    hs,
    catalog,
    methods,
    o,
    (h) => ({ person: h.person, liked: h.likes, disliked: h.dislikes }),
    (h) => (h.likes.length > o.given ? { given: h.likes.slice(0, o.given), relevant: new Set(h.likes.slice(o.given)) } : null),
    undefined,
    catalog.length,
    progress,
  );
}

/** The movies held out as new in the cold-start segment: a seeded share of the rated catalogue movies. */
export function coldMovies(ratings: readonly RatingEvent[], o: ProtocolOptions): Set<number> {
  const rated = [...new Set(ratings.map((r) => r.movieId))].sort((a, b) => a - b);
  const order = shuffleInPlace(
    Int32Array.from(rated, (_, i) => i),
    mulberry32(o.seed + 1),
  );
  return new Set(Array.from(order.subarray(0, Math.round(o.coldShare * rated.length)), (i) => rated[i]));
}

export function evaluateCold(
  ratings: readonly RatingEvent[],
  catalog: CatalogItem[],
  methods: RankerSpec[],
  o: ProtocolOptions,
  progress: Progress = () => undefined,
): SegmentResult {
  const cold = coldMovies(ratings, o);
  const hs = histories(ratings, o);
  const rated = new Set(ratings.map((r) => r.movieId));
  const pool = new Set(catalog.filter((c) => cold.has(c.movieId) || (!rated.has(c.movieId) && (c.year ?? 0) >= o.newFrom)).map((c) => c.movieId));
  const warmOnly = (ids: number[]) => ids.filter((id) => !cold.has(id));
  return runSegment(
    'cold',
    hs,
    catalog,
    methods,
    o,
    (h) => ({ person: h.person, liked: warmOnly(h.likes), disliked: warmOnly(h.dislikes) }),
    (h) => {
      const given = warmOnly(h.likes).slice(0, o.given);
      const relevant = new Set(h.likes.filter((id) => cold.has(id)));
      return given.length === o.given && relevant.size ? { given, relevant } : null;
    },
    (id) => pool.has(id),
    pool.size,
    progress,
  );
}

export function formatRow(r: MethodResult): string {
  const s = r.scores;
  return `hit ${s.hit10.toFixed(3)} · P@10 ${s.precision10.toFixed(4)} · NDCG@10 ${s.ndcg10.toFixed(4)} · R@100 ${s.recall100.toFixed(4)} · cov ${r.coverage10.toFixed(3)}`;
}

/** A markdown table of one segment. */
export function formatSegment(s: SegmentResult): string {
  const head = `| method (${s.segment}: ${s.people} people, ${s.candidates} candidates) | hit@10 | precision@10 | NDCG@10 | recall@100 | coverage@10 | s |`;
  const rows = s.methods.map(
    (m) =>
      `| ${m.method} | ${m.scores.hit10.toFixed(3)} | ${m.scores.precision10.toFixed(4)} | ${m.scores.ndcg10.toFixed(4)} | ${m.scores.recall100.toFixed(4)} | ${m.coverage10.toFixed(3)} | ${(m.ms / 1000).toFixed(1)} |`,
  );
  return [head, '| --- | ---: | ---: | ---: | ---: | ---: | ---: |', ...rows].join('\n');
}
