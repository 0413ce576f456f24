/**
 * Entities -> the plain records services hand out (src/domain). Entities never leave the service
 * layer; the GraphQL side maps these records to schema types in src/schema/mapper.ts.
 */
import type { MovieEntity, TrainingJobEntity } from '../db/entities';
import type { ModelVersionInfo, TrainingJobInfo } from '../domain/model';
import type { MovieRecord } from '../domain/movie';
import { chosenRow, type ReportRow } from '../ml/genre/training/trainer';
import type { ModelVersionSummary } from '../repositories/model-version.repository';
import { PosterStore } from './poster-store';

export function toMovieRecord(e: MovieEntity): MovieRecord {
  return {
    id: e.id,
    imdbId: e.imdbId,
    title: e.title,
    year: e.year,
    ageRating: e.ageRating,
    runtimeMinutes: e.runtimeMinutes,
    storyline: e.storyline,
    posterSha256: e.posterSha256,
    posterMime: e.posterMime,
    posterFile: e.posterSha256 && e.posterMime ? PosterStore.fileName(e.posterSha256, e.posterMime) : null,
    rawGenres: e.rawGenres,
    labels: e.labels,
  };
}

export function toModelVersionInfo(v: ModelVersionSummary): ModelVersionInfo {
  return {
    id: v.id,
    name: v.name,
    backbone: v.backbone,
    kind: v.modelKind,
    active: v.active,
    splitSeed: v.splitSeed,
    trainingMs: v.trainingMs,
    thresholds: v.thresholds.map(Number),
    metrics: chosenRow(v.metrics as Parameters<typeof chosenRow>[0]),
    report: v.metrics,
    createdAt: v.createdAt,
  };
}

export function toTrainingJobInfo(j: TrainingJobEntity): TrainingJobInfo {
  return {
    id: j.id,
    status: j.status,
    progress: j.progress,
    stage: j.stage,
    // The job stores the chosen report row when it succeeds (TrainingJobService).
    metrics: (j.metrics as ReportRow | null) ?? null,
    modelVersionId: j.modelVersionId,
    error: j.error,
    attempts: j.attempts,
    worker: j.worker,
    createdAt: j.createdAt,
    startedAt: j.startedAt,
    finishedAt: j.finishedAt,
  };
}
