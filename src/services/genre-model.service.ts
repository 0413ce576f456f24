import type { DataSource } from 'typeorm';
import type { ProgressConfig } from '../config';
import type { GenrePredictionResult, GenreScoreValue, ModelVersionInfo } from '../domain/model';
import { AppError, notFound } from '../errors';
import { GenrePredictor, GenreModelArtifact } from '../ml/genre/genre-predictor';
import { GENRES, NUM_LABELS, multiHot } from '../ml/genre/labels';
import { evaluateArtifact, trainGenreModels, type ArtifactEvaluation, type TrainingProgress, type TrainingReport } from '../ml/genre/training/trainer';
import { Progress } from '../progress';
import type { EmbeddingRepository } from '../repositories/embedding.repository';
import type { ModelVersionRepository, ModelVersionSummary } from '../repositories/model-version.repository';
import type { MovieRepository } from '../repositories/movie.repository';
import { toModelVersionInfo } from './entity-mappers';

export interface TrainOutcome {
  versionId: number;
  name: string;
  report: TrainingReport;
  activated: boolean;
}

interface ActiveModel {
  version: ModelVersionSummary;
  predictor: GenrePredictor;
}

/**
 * Genre models: training new versions on stored embeddings, storing every movie's predictions
 * per version, activation (and rollback), and scoring new embeddings with the active version.
 */
export class GenreModelService {
  private activeCache?: Promise<ActiveModel | null>;

  constructor(
    private readonly ds: DataSource,
    private readonly versions: ModelVersionRepository,
    private readonly embeddings: EmbeddingRepository,
    private readonly movies: MovieRepository,
    private readonly backbone: string,
    private readonly progress: ProgressConfig,
  ) {}

  /** The active version and its predictor (cached until the next activation). */
  private active(): Promise<ActiveModel | null> {
    if (!this.activeCache) {
      this.activeCache = this.versions.active(this.backbone).then((v) => (v ? { version: v, predictor: GenrePredictor.fromArtifact(v.artifact) } : null));
      this.activeCache.catch(() => (this.activeCache = undefined));
    }
    return this.activeCache;
  }

  /** The version predictions use now, or null before the first training. */
  async activeVersion(): Promise<ModelVersionInfo | null> {
    const a = await this.active();
    return a && toModelVersionInfo(a.version);
  }

  /** Every stored version, newest first. */
  async listVersions(): Promise<ModelVersionInfo[]> {
    return (await this.versions.list()).map(toModelVersionInfo);
  }

  private async requireActive(): Promise<ActiveModel> {
    const a = await this.active();
    if (!a) throw new AppError('SERVICE_UNAVAILABLE', 'no genre model is active yet: run `marquee train --activate` or the retrain mutation', 'NO_ACTIVE_MODEL');
    return a;
  }

  /** Scores (all 13 labels, GENRES order) with `predicted` from the model's thresholds. */
  private toScores(predictor: GenrePredictor, probs: ArrayLike<number>): GenreScoreValue[] {
    return GENRES.map((genre, j) => ({ genre, probability: probs[j], predicted: probs[j] >= predictor.thresholds[j] }));
  }

  async predictVector(vector: Float32Array): Promise<GenrePredictionResult> {
    const { version, predictor } = await this.requireActive();
    return { modelVersion: version.name, genres: this.toScores(predictor, predictor.predict(vector, 1)) };
  }

  /** Stored predictions of the active version for these movies (absent when a movie has none yet). */
  async storedPredictions(movieIds: readonly number[]): Promise<Map<number, GenreScoreValue[]>> {
    const active = await this.active();
    if (!active) return new Map();
    const rows = await this.versions.predictions(active.version.id, movieIds);
    return new Map([...rows].map(([id, scores]) => [id, this.toScores(active.predictor, scores)]));
  }

  /** Predicts and stores the active version's scores for one newly embedded movie. */
  async predictAndStore(movieId: number, vector: Float32Array): Promise<void> {
    const active = await this.active();
    if (!active) return;
    await this.versions.upsertPredictions(active.version.id, [movieId], active.predictor.predict(vector, 1), NUM_LABELS);
  }

  /**
   * Stores the active version's predictions for embedded movies that have none yet (movies
   * imported and embedded after the version was trained). Returns how many were added.
   */
  async predictMissing(): Promise<number> {
    const active = await this.active();
    if (!active) return 0;
    let added = 0;
    for await (const page of this.embeddings.withoutPrediction(this.backbone, active.version.id)) {
      await this.versions.upsertPredictions(active.version.id, page.ids, active.predictor.predict(page.vectors, page.ids.length), NUM_LABELS);
      added += page.ids.length;
    }
    return added;
  }

  /** Every stored embedding of the backbone with its movie's labels, in movie-id order. */
  async loadLabelledSet(): Promise<{ X: Float32Array; Y: Uint8Array; n: number; dim: number; movieIds: Int32Array }> {
    const labelsOf = await this.movies.labelsById();
    const parts: Array<{ ids: Int32Array; vectors: Float32Array; dim: number }> = [];
    for await (const page of this.embeddings.loadAll(this.backbone)) parts.push(page);
    const n = parts.reduce((s, p) => s + p.ids.length, 0);
    if (n === 0) throw new AppError('BAD_USER_INPUT', `no embeddings for backbone ${this.backbone}: run \`marquee embed\` first`, 'NO_EMBEDDINGS');
    const dim = parts[0].dim;
    const X = new Float32Array(n * dim);
    const Y = new Uint8Array(n * NUM_LABELS);
    const movieIds = new Int32Array(n);
    let row = 0;
    for (const p of parts) {
      X.set(p.vectors, row * dim);
      for (let i = 0; i < p.ids.length; i++, row++) {
        movieIds[row] = p.ids[i];
        Y.set(multiHot(labelsOf.get(p.ids[i]) ?? []), row * NUM_LABELS);
      }
    }
    return { X, Y, n, dim, movieIds };
  }

  /**
   * Trains a new version on the stored embeddings, stores it with its split, metrics and every
   * movie's predictions, and activates it when asked (or when no version is active yet).
   * Nothing becomes visible unless all of it succeeds.
   */
  async train(opts: { epochs?: number; seed?: number; activate?: boolean; onProgress?: (p: TrainingProgress) => void; progress?: boolean } = {}): Promise<TrainOutcome> {
    const data = await this.loadLabelledSet();
    const bar = opts.progress ? new Progress('train', undefined, 'steps', this.progress) : undefined;
    const result = await trainGenreModels(data, {
      seed: opts.seed ?? 42,
      epochs: opts.epochs,
      onProgress: (p) => {
        opts.onProgress?.(p);
        bar?.update(p.done, p.total ? p.done / p.total : undefined);
      },
    });
    const ids = (idx: Int32Array) => Array.from(idx, (i) => data.movieIds[i]);
    const artifact = result.artifact;
    const probs = GenrePredictor.fromArtifact(artifact).predict(data.X, data.n);
    const name = await this.versions.nextName(`${this.backbone}-${result.report.chosen.model}`);
    const hadActive = (await this.active()) !== null;
    const activate = opts.activate || !hadActive;
    const versionId = await this.ds.transaction(async (em) => {
      const id = await this.versions.insert({
        name, backbone: this.backbone, modelKind: artifact.type, artifact, thresholds: artifact.thresholds,
        splitSeed: result.split.seed, split: { train: ids(result.split.train), val: ids(result.split.val), test: ids(result.split.test) },
        metrics: result.report, trainingMs: Math.round(result.trainingMs),
      }, em);
      const CHUNK = 2000;
      for (let s = 0; s < data.n; s += CHUNK) {
        const e = Math.min(data.n, s + CHUNK);
        await this.versions.upsertPredictions(id, data.movieIds.subarray(s, e), probs.subarray(s * NUM_LABELS, e * NUM_LABELS), NUM_LABELS, em);
      }
      if (activate) await this.versions.activate(id, em);
      return id;
    });
    this.activeCache = undefined;
    return { versionId, name, report: result.report, activated: activate };
  }

  async activate(id: number): Promise<ModelVersionInfo> {
    const v = await this.versions.get(id);
    if (!v) throw notFound(`no model version ${id}`);
    await this.versions.activate(id);
    this.activeCache = undefined;
    await this.predictMissing();
    return toModelVersionInfo((await this.versions.get(id))!);
  }

  /** Test-split report stored with the active version at training time. */
  async activeReport(): Promise<{ version: ModelVersionInfo; report: TrainingReport }> {
    const { version } = await this.requireActive();
    return { version: toModelVersionInfo(version), report: version.metrics as TrainingReport };
  }

  /** Evaluates the active version on labelled embeddings that were never imported. */
  async evaluateOn(X: Float32Array, Y: Uint8Array, n: number): Promise<{ version: string; evaluation: ArtifactEvaluation }> {
    const full = await this.versions.active(this.backbone);
    if (!full) throw new AppError('SERVICE_UNAVAILABLE', 'no genre model is active yet', 'NO_ACTIVE_MODEL');
    return { version: full.name, evaluation: evaluateArtifact(full.artifact as GenreModelArtifact, X, Y, n) };
  }
}
