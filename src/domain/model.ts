/** Genre models and training jobs as the services hand them out: plain data, no database entity. */
import type { ReportRow } from '../ml/genre/training/trainer';

/** One label of a prediction: its probability and whether it passes the model's threshold. */
export interface GenreScoreValue {
  genre: string;
  probability: number;
  predicted: boolean;
  /** The model's threshold for this label. */
  threshold: number;
}

export interface GenrePredictionResult {
  /** Name of the model version that predicted. */
  modelVersion: string;
  /** All 13 labels, GENRES order. */
  genres: GenreScoreValue[];
}

export interface ModelVersionInfo {
  id: number;
  name: string;
  backbone: string;
  kind: string;
  active: boolean;
  splitSeed: number;
  trainingMs: number;
  thresholds: number[];
  /** Test-split metrics of the chosen model under its threshold scheme. */
  metrics: ReportRow | null;
  /** The whole stored training report (comparison table, per-class report). */
  report: unknown;
  createdAt: Date;
}

/** INTERRUPTED: the job's training was stopped (shutdown, abort) or its process died; nothing was stored. */
export type TrainingJobStatus = 'QUEUED' | 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'INTERRUPTED';

export interface TrainingJobInfo {
  id: number;
  status: TrainingJobStatus;
  /** 0 to 1. */
  progress: number;
  stage: string | null;
  /** The chosen model's test-split metrics, once the job succeeded. */
  metrics: ReportRow | null;
  modelVersionId: number | null;
  error: string | null;
  /** How many times a process started it (more than 1: its process died and it ran again). */
  attempts: number;
  /** The process running (or that last ran) it: host:pid. */
  worker: string | null;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
}
