import type { DataSource } from 'typeorm';
import type { ProgressConfig } from '../config';
import type { Change } from '../domain/change';
import type { GenrePredictionResult, GenreScoreValue, ModelVersionInfo } from '../domain/model';
import { AppError, notFound } from '../errors';
import { GenrePredictor, GenreModelArtifact } from '../ml/genre/genre-predictor';
import { GENRES, NUM_LABELS, multiHot } from '../ml/genre/labels';
import type { BackboneManifest } from '../ml/backbone/manifest';
import { eraSplit, ERA_TEST_BEFORE } from '../ml/genre/training/era-split';
import { evaluateArtifact, type ArtifactEvaluation, type ExplicitSplit, type TrainingProgress, type TrainingReport } from '../ml/genre/training/trainer';
import { trainOffThread } from '../ml/genre/training/training-thread';
import { Progress } from '../progress';
import type { EmbeddingPage, EmbeddingRepository } from '../repositories/embedding.repository';
import type { ModelVersionRepository, ModelVersionSummary } from '../repositories/model-version.repository';
import type { MovieRepository } from '../repositories/movie.repository';
import type { ChangeFeed } from './change-feed';
import { toModelVersionInfo } from './entity-mappers';
import type { PosterTextService } from './poster-text.service';

/**
 * Embeddings per query when a training loads its labelled set. The embedded database runs on the
 * event loop: a page of 2,000 (10 MB) held it for about a second on a loaded 2-core machine, stalling
 * every request during a retrain's first seconds (bench/isolation.ts); small pages let requests in between.
 */
const LABELLED_SET_PAGE = 200;

/** What the trainer reads of a labelled set; its X and Y move to the training thread (trainOffThread). */
const trainingInput = ({ X, Y, n, dim, texts }: LabelledSet) => ({ X, Y, n, dim, texts });

/** The two evaluation splits: random 70/10/20 (seed) and era (train/val from 2000 on, test before). */
export type EvaluationSplit = 'random' | 'era';

/** A poster to predict: its embedding, and where its text can come from when the model reads text. */
export interface PosterToPredict {
  vector: Float32Array;
  /** A stored movie: its stored OCR text. */
  movieId?: number;
  /** A new image: read by OCR when the stored movie (if any) has no text. */
  bytes?: Buffer;
}

export interface LabelledSet {
  X: Float32Array;
  Y: Uint8Array;
  n: number;
  dim: number;
  movieIds: Int32Array;
  /** Release year of each row (0 when unknown). */
  years: Int32Array;
  /** OCR text of each row (null when not read); undefined when the deployment has OCR off or no text is stored. */
  texts?: Array<string | null>;
}

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
    private readonly posterTexts: PosterTextService,
    /** The backbone's manifest (a tuned backbone's records the split it was tuned on). */
    private readonly manifest: () => BackboneManifest,
    private readonly changes: ChangeFeed,
    /** The embeddings this process already holds (the similarity index), read instead of the database when there. */
    private readonly residentEmbeddings: () => Promise<EmbeddingPage | undefined> = () => Promise.resolve(undefined),
  ) {}

  /** Reads the active version again on next use (another process activated one). */
  forgetActive(): void {
    this.activeCache = undefined;
  }

  /** Follows another process's activation (ChangeFeed). */
  applyChange(change: Change): void {
    if ((change.kind === 'model' && change.backbone === this.backbone) || change.kind === 'resync') this.forgetActive();
  }

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
    if (!a)
      throw new AppError('SERVICE_UNAVAILABLE', 'no genre model is active yet: run `marquee train --activate` or the retrain mutation', 'NO_ACTIVE_MODEL');
    return a;
  }

  /** Scores (all 13 labels, GENRES order) with `predicted` from the model's thresholds. */
  private toScores(predictor: GenrePredictor, probs: ArrayLike<number>): GenreScoreValue[] {
    return GENRES.map((genre, j) => ({ genre, probability: probs[j], predicted: probs[j] >= predictor.thresholds[j], threshold: predictor.thresholds[j] }));
  }

  /** Scores a poster with the active model; reads its text (stored, else OCR) only when the model uses text. */
  async predictPoster(poster: PosterToPredict): Promise<GenrePredictionResult> {
    const { version, predictor } = await this.requireActive();
    const text = predictor.usesText ? await this.textOf(poster) : null;
    return { modelVersion: version.name, genres: this.toScores(predictor, predictor.predict(poster.vector, 1, [text])) };
  }

  private async textOf(poster: PosterToPredict): Promise<string | null> {
    if (!this.posterTexts.enabled) return null;
    if (poster.movieId !== undefined) {
      const stored = (await this.posterTexts.texts([poster.movieId])).get(poster.movieId);
      if (stored !== undefined) return stored;
    }
    return poster.bytes ? this.posterTexts.readImage(poster.bytes) : null;
  }

  /** Stored texts of these movies for a model that reads text (null entries otherwise). */
  private async textsFor(predictor: GenrePredictor, movieIds: ArrayLike<number>): Promise<Array<string | null> | undefined> {
    if (!predictor.usesText || !this.posterTexts.enabled) return undefined;
    const ids = Array.from(movieIds);
    const found = await this.posterTexts.texts(ids);
    return ids.map((id) => found.get(id) ?? null);
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
    await this.versions.upsertPredictions(
      active.version.id,
      [movieId],
      active.predictor.predict(vector, 1, await this.textsFor(active.predictor, [movieId])),
      NUM_LABELS,
    );
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
      const texts = await this.textsFor(active.predictor, page.ids);
      await this.versions.upsertPredictions(active.version.id, page.ids, active.predictor.predict(page.vectors, page.ids.length, texts), NUM_LABELS);
      added += page.ids.length;
    }
    return added;
  }

  /**
   * Every stored embedding of the backbone with its movie's labels and year, in movie-id order, and
   * the posters' OCR texts when `text` is asked for, OCR is on and any text is stored.
   */
  async loadLabelledSet(opts: { text?: boolean } = {}): Promise<LabelledSet> {
    const labelsOf = await this.movies.labelsById();
    const yearOf = await this.movies.yearsById();
    const resident = await this.residentEmbeddings();
    const parts: EmbeddingPage[] = resident ? [resident] : [];
    if (!resident) for await (const page of this.embeddings.loadAll(this.backbone, LABELLED_SET_PAGE)) parts.push(page);
    const n = parts.reduce((s, p) => s + p.ids.length, 0);
    if (n === 0) throw new AppError('BAD_USER_INPUT', `no embeddings for backbone ${this.backbone}: run \`marquee embed\` first`, 'NO_EMBEDDINGS');
    const dim = parts[0].dim;
    const X = new Float32Array(n * dim);
    const Y = new Uint8Array(n * NUM_LABELS);
    const movieIds = new Int32Array(n);
    const years = new Int32Array(n);
    let row = 0;
    for (const p of parts) {
      X.set(p.vectors, row * dim);
      for (let i = 0; i < p.ids.length; i++, row++) {
        movieIds[row] = p.ids[i];
        years[row] = yearOf.get(p.ids[i]) ?? 0;
        Y.set(multiHot(labelsOf.get(p.ids[i]) ?? []), row * NUM_LABELS);
      }
    }
    let texts: Array<string | null> | undefined;
    if (opts.text && this.posterTexts.enabled) {
      const stored = await this.posterTexts.allTexts();
      if (stored.size > 0) texts = Array.from(movieIds, (id) => stored.get(id) ?? null);
    }
    return { X, Y, n, dim, movieIds, years, texts };
  }

  /**
   * The split named: random (the seeded 70/10/20, undefined here: the trainer's own) or era. A
   * backbone tuned on one split is refused on the other (its test posters were in the tuning set).
   */
  private splitFor(split: EvaluationSplit, data: LabelledSet, seed: number): ExplicitSplit | undefined {
    const name = split === 'era' ? `era-${ERA_TEST_BEFORE}-${seed}` : `random-${seed}`;
    const tuning = this.manifest().tuning;
    if (tuning?.split && tuning.split !== name) {
      throw new AppError(
        'BAD_USER_INPUT',
        `backbone ${this.backbone} was tuned on split ${tuning.split}: its scores on ${name} would be leaked; evaluate it on ${tuning.split}, or tune one on ${name}`,
        'BACKBONE_TUNED_ON_OTHER_SPLIT',
        { backbone: this.backbone, tunedOn: tuning.split, split: name },
      );
    }
    return split === 'era' ? { name, ...eraSplit(data.years, data.Y, NUM_LABELS, seed) } : undefined;
  }

  /** Trains (without storing anything) on a split and returns the comparison table; `marquee evaluate` and the lever table. */
  async evaluateSplit(
    split: EvaluationSplit,
    opts: { text?: boolean; seed?: number; epochs?: number; progress?: boolean } = {},
  ): Promise<{ report: TrainingReport }> {
    const seed = opts.seed ?? 42;
    const data = await this.loadLabelledSet({ text: opts.text ?? true });
    const explicit = this.splitFor(split, data, seed);
    const bar = opts.progress ? new Progress(`evaluate ${split}`, undefined, 'steps', this.progress) : undefined;
    const result = await trainOffThread(trainingInput(data), {
      seed,
      epochs: opts.epochs,
      split: explicit,
      onProgress: (p) => bar?.update(p.done, p.total ? p.done / p.total : undefined),
    });
    return { report: result.report };
  }

  /**
   * Trains a new version on the stored embeddings, stores it with its split, metrics and every
   * movie's predictions, and activates it when asked (or when no version is active yet).
   * Nothing becomes visible unless all of it succeeds. The training and the predictions run in a
   * worker thread (this thread loads and stores); `signal` ends it at once, rejecting with its reason.
   */
  async train(
    opts: {
      epochs?: number;
      seed?: number;
      activate?: boolean;
      text?: boolean;
      onProgress?: (p: TrainingProgress) => void;
      progress?: boolean;
      signal?: AbortSignal;
    } = {},
  ): Promise<TrainOutcome> {
    const data = await this.loadLabelledSet({ text: opts.text ?? true });
    this.splitFor('random', data, opts.seed ?? 42);
    const bar = opts.progress ? new Progress('train', undefined, 'steps', this.progress) : undefined;
    const result = await trainOffThread(
      trainingInput(data),
      {
        seed: opts.seed ?? 42,
        epochs: opts.epochs,
        onProgress: (p) => {
          opts.onProgress?.(p);
          bar?.update(p.done, p.total ? p.done / p.total : undefined);
        },
      },
      { signal: opts.signal, predict: true },
    );
    const ids = (idx: Int32Array) => Array.from(idx, (i) => data.movieIds[i]);
    const artifact = result.artifact;
    const probs = result.probs!;
    const name = await this.versions.nextName(`${this.backbone}-${result.report.chosen.model}`);
    const hadActive = (await this.active()) !== null;
    const activate = opts.activate || !hadActive;
    const versionId = await this.ds.transaction(async (em) => {
      const id = await this.versions.insert(
        {
          name,
          backbone: this.backbone,
          modelKind: artifact.type,
          artifact,
          thresholds: artifact.thresholds,
          splitSeed: result.split.seed,
          split: { train: ids(result.split.train), val: ids(result.split.val), test: ids(result.split.test) },
          metrics: result.report,
          trainingMs: Math.round(result.trainingMs),
        },
        em,
      );
      const CHUNK = 2000;
      for (let s = 0; s < data.n; s += CHUNK) {
        const e = Math.min(data.n, s + CHUNK);
        await this.versions.upsertPredictions(id, data.movieIds.subarray(s, e), probs.subarray(s * NUM_LABELS, e * NUM_LABELS), NUM_LABELS, em);
      }
      if (activate) await this.versions.activate(id, em);
      return id;
    });
    this.activeCache = undefined;
    if (activate) await this.changes.publish({ kind: 'model', backbone: this.backbone });
    return { versionId, name, report: result.report, activated: activate };
  }

  async activate(id: number): Promise<ModelVersionInfo> {
    const v = await this.versions.get(id);
    if (!v) throw notFound(`no model version ${id}`);
    await this.versions.activate(id);
    this.activeCache = undefined;
    await this.changes.publish({ kind: 'model', backbone: v.backbone });
    await this.predictMissing();
    return toModelVersionInfo((await this.versions.get(id))!);
  }

  /** Test-split report stored with the active version at training time. */
  async activeReport(): Promise<{ version: ModelVersionInfo; report: TrainingReport }> {
    const { version } = await this.requireActive();
    return { version: toModelVersionInfo(version), report: version.metrics as TrainingReport };
  }

  /** Evaluates the active version on labelled embeddings that were never imported. */
  async evaluateOn(X: Float32Array, Y: Uint8Array, n: number, texts?: Array<string | null>): Promise<{ version: string; evaluation: ArtifactEvaluation }> {
    const full = await this.versions.active(this.backbone);
    if (!full) throw new AppError('SERVICE_UNAVAILABLE', 'no genre model is active yet', 'NO_ACTIVE_MODEL');
    return { version: full.name, evaluation: evaluateArtifact(full.artifact as GenreModelArtifact, X, Y, n, texts) };
  }
}
