/**
 * Service results (plain records from src/domain) -> GraphQL schema types, and GraphQL inputs ->
 * service arguments. The one place the API's shape meets the services' (as Immich keeps its mappers
 * beside its response DTOs). Resolvers get it injected.
 */
import type { PredictionEvidenceResult } from '../domain/evidence';
import type { GenrePredictionResult, GenreScoreValue, ModelVersionInfo, TrainingJobInfo } from '../domain/model';
import type { AlsoLikedMovie, MovieFilterSpec, MovieRecord, RecommendedMovie, ScoredMovie } from '../domain/movie';
import type { RatingWithMovie } from '../domain/rating';
import type { ServerStatus } from '../domain/status';
import type { ModelMetrics, ModelVersion, ServerInfo, TrainingJob, TrainingJobStatus } from './admin';
import type { PredictionEvidence } from './evidence';
import type { Genre, GenreCount, GenrePrediction, GenreScore } from './genre';
import { Movie, type MovieFilter } from './movie';
import type { Recommendation, SimilarMovie } from './prediction';
import type { AlsoLiked, Rating, RecommendationReason } from './rating';

export class SchemaMapper {
  // Catalog records are shared and never change in place, so each one's GraphQL view is built once.
  private readonly movies = new WeakMap<MovieRecord, Movie>();

  /** `publicUrl`: Config server.publicUrl, the prefix of every posterUrl ('' for relative paths). */
  constructor(private readonly publicUrl: string) {}

  movie(m: MovieRecord): Movie {
    let view = this.movies.get(m);
    if (!view) {
      view = Object.assign(new Movie(), {
        id: String(m.id),
        imdbId: m.imdbId,
        title: m.title,
        year: m.year,
        ageRating: m.ageRating,
        runtimeMinutes: m.runtimeMinutes,
        storyline: m.storyline,
        posterUrl: m.posterFile && `${this.publicUrl}/posters/${m.posterFile}`,
        genres: m.labels as Genre[],
        rawGenres: m.rawGenres,
      });
      this.movies.set(m, view);
    }
    return view;
  }

  similar(hits: ScoredMovie[]): SimilarMovie[] {
    return hits.map((h) => ({ movie: this.movie(h.movie), score: h.score }));
  }

  recommendation(r: RecommendedMovie): Recommendation {
    return { movie: this.movie(r.movie), score: r.score, because: r.because.map((m) => this.movie(m)), reason: r.reason as RecommendationReason };
  }

  rating(r: RatingWithMovie): Rating {
    return { userId: r.person, movie: this.movie(r.movie), rating: r.rating, like: r.liked, ratedAt: r.ratedAt };
  }

  alsoLiked(a: AlsoLikedMovie): AlsoLiked {
    return { movie: this.movie(a.movie), score: a.score, people: a.people };
  }

  genreScores(scores: GenreScoreValue[]): GenreScore[] {
    return scores.map((s) => ({ genre: s.genre as Genre, probability: s.probability, predicted: s.predicted, threshold: s.threshold }));
  }

  /** `poster`: the embedding and stored movie behind the prediction, kept for its evidence field. */
  genrePrediction(p: GenrePredictionResult, poster: { vector: Float32Array; movieId?: number }): GenrePrediction {
    return { modelVersion: p.modelVersion, genres: this.genreScores(p.genres), vector: poster.vector, movieId: poster.movieId };
  }

  evidence(e: PredictionEvidenceResult): PredictionEvidence {
    return {
      k: e.k,
      neighbours: e.neighbours.map((n) => ({ movie: this.movie(n.movie), similarity: n.similarity, genres: n.labels as Genre[] })),
      support: e.support.map((s) => ({ genre: s.genre as Genre, neighbours: s.neighbours })),
    };
  }

  genreCount(c: { label: string; count: number }): GenreCount {
    return { genre: c.label as Genre, count: c.count };
  }

  modelMetrics(row: ModelMetrics | null): ModelMetrics | null {
    if (!row) return null;
    const { model, scheme, f1Macro, f1Micro, precisionMacro, recallMacro, hamming } = row;
    return { model, scheme, f1Macro, f1Micro, precisionMacro, recallMacro, hamming };
  }

  modelVersion(v: ModelVersionInfo): ModelVersion {
    return {
      id: String(v.id),
      name: v.name,
      backbone: v.backbone,
      kind: v.kind,
      active: v.active,
      splitSeed: v.splitSeed,
      trainingMs: v.trainingMs,
      thresholds: v.thresholds,
      metrics: this.modelMetrics(v.metrics),
      report: v.report,
      createdAt: v.createdAt,
    };
  }

  trainingJob(j: TrainingJobInfo): TrainingJob {
    return {
      id: String(j.id),
      status: j.status as TrainingJobStatus,
      progress: j.progress,
      stage: j.stage,
      metrics: this.modelMetrics(j.metrics),
      modelVersionId: j.modelVersionId ? String(j.modelVersionId) : null,
      error: j.error,
      attempts: j.attempts,
      worker: j.worker,
      createdAt: j.createdAt,
      startedAt: j.startedAt,
      finishedAt: j.finishedAt,
    };
  }

  serverInfo(s: ServerStatus): ServerInfo {
    const { fitMs, ...recommender } = s.recommender;
    return {
      ...s,
      skippedProviders: s.skippedProviders.map((p) => ({ provider: p.provider, reason: p.reason })),
      recommender: { ...recommender, fitSeconds: fitMs === null ? null : fitMs / 1000 },
    };
  }

  /** MovieFilter input -> the services' filter (undefined when absent). */
  filter(f: MovieFilter | null | undefined): MovieFilterSpec | undefined {
    if (!f) return undefined;
    return {
      labels: f.genres ?? undefined,
      yearFrom: f.yearFrom ?? undefined,
      yearTo: f.yearTo ?? undefined,
      search: f.search ?? undefined,
    };
  }
}
