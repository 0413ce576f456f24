import type { GenreSupportValue, PredictionEvidenceResult } from '../domain/evidence';
import type { ScoredMovie } from '../domain/movie';
import { GENRES } from '../ml/genre/labels';
import type { SimilarityService } from './similarity.service';

/**
 * The evidence behind a genre prediction: the k labelled posters nearest to the predicted one (from
 * the same cosine index as similarPosters) with their genres, and for each genre how many of them
 * carry it. A stored movie is never its own evidence.
 */
export class GenreEvidenceService {
  constructor(private readonly similarity: SimilarityService) {}

  /** Evidence for a poster's embedding; `self` (a stored movie the poster belongs to) is left out. */
  async forVector(vector: Float32Array, k: number, predicted: readonly string[], self?: number): Promise<PredictionEvidenceResult> {
    const hits = await this.similarity.similarToVector(vector, this.fetchSize(k), undefined, self === undefined ? undefined : new Set([self]));
    return this.evidence(hits, k, predicted);
  }

  /** Evidence for a stored movie's poster, or null when it has no embedding yet. */
  async forMovie(movieId: number, k: number, predicted: readonly string[]): Promise<PredictionEvidenceResult | null> {
    try {
      return this.evidence(await this.similarity.similarToMovie(movieId, this.fetchSize(k)), k, predicted);
    } catch (err) {
      // No vector in the index: not embedded yet (or imported after the catalogue was loaded).
      const reason = (err as { reason?: string }).reason;
      if (reason === 'NO_EMBEDDING' || reason === 'NOT_FOUND') return null;
      throw err;
    }
  }

  /** A few spare hits: movies without any genre label are not evidence and are skipped. */
  private fetchSize(k: number): number {
    return Math.min(k + 10, 2 * k + 10);
  }

  private evidence(hits: ScoredMovie[], k: number, predicted: readonly string[]): PredictionEvidenceResult {
    const neighbours = hits
      .filter((h) => h.movie.labels.length > 0)
      .slice(0, k)
      .map((h) => ({ movie: h.movie, similarity: h.score, labels: h.movie.labels }));
    const counts = new Map<string, number>(predicted.map((g) => [g, 0]));
    for (const n of neighbours) for (const g of n.labels) counts.set(g, (counts.get(g) ?? 0) + 1);
    const support: GenreSupportValue[] = GENRES.filter((g) => counts.has(g))
      .map((genre) => ({ genre, neighbours: counts.get(genre)! }))
      .sort((a, b) => b.neighbours - a.neighbours); // stable: ties keep GENRES order
    return { k, neighbours, support };
  }
}
