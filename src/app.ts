import 'reflect-metadata';
import type { Config, MlConfig } from './config';
import { ServiceContainer } from './container';
import { Database } from './db/database';
import { InProcessQueue } from './jobs/in-process-queue';
import { JobQueue } from './jobs/job-queue';
import { JobRunner } from './jobs/job-runner';
import { loadBackbone, manifestDirs, type BackboneManifest } from './ml/backbone/manifest';
import type { ImageEmbedderFactory } from './ml/embedding/image-embedder';
import { ChangeChannelRepository } from './repositories/change-channel.repository';
import { ApiKeyRepository } from './repositories/api-key.repository';
import { InteractionRepository } from './repositories/interaction.repository';
import { EmbeddingRepository } from './repositories/embedding.repository';
import { ModelVersionRepository } from './repositories/model-version.repository';
import { MovieRepository } from './repositories/movie.repository';
import { PosterTextRepository } from './repositories/poster-text.repository';
import { TrainingJobRepository } from './repositories/training-job.repository';
import { ApiKeyService } from './services/api-key.service';
import { ChangeFeed } from './services/change-feed';
import { DemoService } from './services/demo.service';
import { BackboneTuningService } from './services/backbone-tuning.service';
import { EmbeddingService } from './services/embedding.service';
import { EvaluationService } from './services/evaluation.service';
import { GenreEvidenceService } from './services/genre-evidence.service';
import { GenreModelService } from './services/genre-model.service';
import { ImportService } from './services/import/import.service';
import { RatingsImportService } from './services/import/ratings-import.service';
import { MovieCatalog } from './services/movie-catalog';
import { MovieAdminService } from './services/movie-admin.service';
import { MovieService } from './services/movie.service';
import { PosterQueryService } from './services/poster-query.service';
import { PosterStore } from './services/poster-store';
import { PosterTextService } from './services/poster-text.service';
import { RatingService } from './services/rating.service';
import { RecommendationService } from './services/recommendation.service';
import { RecsEvaluationService } from './services/recs-evaluation.service';
import { ServerStatusService } from './services/server-status.service';
import { SimilarityService } from './services/similarity.service';
import { TrainingJobService } from './services/training-job.service';

/**
 * The composition root: opens the database and wires repositories and services, each given the
 * Config section it needs. The CLI and the HTTP server both start from here; nothing else constructs
 * services. `container` holds every service by its class, for type-graphql to inject into resolvers.
 */
export class App {
  readonly posters: PosterStore;
  readonly movies: MovieService;
  readonly importer: ImportService;
  readonly ratingsImport: RatingsImportService;
  readonly ratings: RatingService;
  readonly recommendations: RecommendationService;
  readonly apiKeys: ApiKeyService;
  readonly embedding: EmbeddingService;
  readonly posterTexts: PosterTextService;
  readonly models: GenreModelService;
  readonly similarity: SimilarityService;
  readonly evidence: GenreEvidenceService;
  readonly posterQueries: PosterQueryService;
  readonly movieAdmin: MovieAdminService;
  readonly training: TrainingJobService;
  readonly evaluation: EvaluationService;
  readonly recsEvaluation: RecsEvaluationService;
  readonly status: ServerStatusService;
  readonly demo: DemoService;
  readonly tuning: BackboneTuningService;
  /** What this process changed, told to the others (LISTEN/NOTIFY on PostgreSQL), and theirs to this one. */
  readonly changes: ChangeFeed;
  /** The job queue's side in this process: enqueues, and runs jobs in a worker or an embedded server. */
  readonly jobs: JobRunner;
  readonly container = new ServiceContainer();

  private constructor(
    readonly config: Config,
    readonly db: Database,
    createEmbedder: ImageEmbedderFactory,
  ) {
    const ds = db.dataSource;
    const movieRepo = new MovieRepository(ds);
    const embeddingRepo = new EmbeddingRepository(ds);
    this.posters = new PosterStore(config.storage.dataDir);
    this.changes = new ChangeFeed(config.database.url ? new ChangeChannelRepository(ds, config.database.url) : undefined);
    this.movies = new MovieService(movieRepo);
    this.importer = new ImportService(ds, movieRepo, this.posters, config.import, config.progress, this.changes);
    const interactionRepo = new InteractionRepository(ds);
    this.ratingsImport = new RatingsImportService(ds, interactionRepo, movieRepo, config.import, config.progress, () => this.ratings.changed());
    this.apiKeys = new ApiKeyService(new ApiKeyRepository(ds));
    this.embedding = new EmbeddingService(config.ml.backbone, createEmbedder, config.progress, embeddingRepo, this.posters, this.changes);
    this.posterTexts = new PosterTextService(config.ocr, config.progress, new PosterTextRepository(ds), this.posters);
    const manifest = () => configuredBackbone(config.ml);
    const catalog = new MovieCatalog(movieRepo);
    this.similarity = new SimilarityService(catalog, movieRepo, embeddingRepo, config.ml.backbone, config.storage.dataDir, config.index);
    this.models = new GenreModelService(
      ds,
      new ModelVersionRepository(ds),
      embeddingRepo,
      movieRepo,
      config.ml.backbone,
      config.progress,
      this.posterTexts,
      manifest,
      this.changes,
      () => this.similarity.residentEmbeddings(),
    );
    this.evidence = new GenreEvidenceService(this.similarity);
    this.ratings = new RatingService(interactionRepo, movieRepo, catalog);
    this.recommendations = new RecommendationService(interactionRepo, this.ratings, this.similarity, config.recommendations);
    this.posterQueries = new PosterQueryService(this.embedding, this.similarity, config.net);
    this.movieAdmin = new MovieAdminService(movieRepo, this.posters, this.embedding, this.models, this.similarity, config.net, this.changes);
    const shared = db.kind === 'postgres';
    const queue = config.database.url ? new JobQueue({ url: config.database.url, expireInSeconds: config.jobs.timeoutS }) : new InProcessQueue();
    this.jobs = new JobRunner(queue, config.jobs, shared);
    this.training = new TrainingJobService(new TrainingJobRepository(ds), this.models, this.jobs, { shared });
    // A retrain refreshes what was learnt: the recommender refits with it, on what is stored now (ratings,
    // the catalogue, poster embeddings). A retrain that another process ran and activated arrives as a
    // model change; `marquee fit-recs` in another process as a recommender change.
    this.training.onSucceeded(() => this.recommendations.scheduleRefit());
    this.changes.subscribe((change) => {
      if (change.kind === 'model' || change.kind === 'recommender') this.recommendations.scheduleRefit();
    });
    this.jobs.bind({ training: this.training, embedding: this.embedding, models: this.models, importer: this.importer });
    this.evaluation = new EvaluationService(this.embedding, this.models, config.net, config.progress);
    this.recsEvaluation = new RecsEvaluationService(movieRepo, embeddingRepo, config.ml.backbone);
    this.tuning = new BackboneTuningService(config.ml, config.storage, config.progress, embeddingRepo, movieRepo, this.posters, manifest);
    this.status = new ServerStatusService(db, this.embedding, this.models, this.similarity, this.recommendations);
    this.changes.subscribe((change) => this.models.applyChange(change));
    this.changes.subscribe((change) => this.similarity.applyChange(change));
    this.demo = new DemoService(this.importer, this.embedding, this.models);
    this.container
      .register(PosterStore, this.posters)
      .register(MovieService, this.movies)
      .register(ImportService, this.importer)
      .register(RatingsImportService, this.ratingsImport)
      .register(ApiKeyService, this.apiKeys)
      .register(EmbeddingService, this.embedding)
      .register(PosterTextService, this.posterTexts)
      .register(GenreModelService, this.models)
      .register(SimilarityService, this.similarity)
      .register(RatingService, this.ratings)
      .register(RecommendationService, this.recommendations)
      .register(GenreEvidenceService, this.evidence)
      .register(PosterQueryService, this.posterQueries)
      .register(MovieAdminService, this.movieAdmin)
      .register(TrainingJobService, this.training)
      .register(EvaluationService, this.evaluation)
      .register(ServerStatusService, this.status);
  }

  /**
   * Opens the database and builds the services. `embedder` replaces the ONNX Runtime embedder (started
   * on first use, on the configured backbone and device).
   */
  static async open(
    config: Config,
    opts: { migrate?: boolean; embedder?: ImageEmbedderFactory; share?: 'serve' | 'command' | 'exclusive'; command?: string } = {},
  ): Promise<App> {
    const db = await Database.open({
      url: config.database.url,
      dataDir: config.storage.dataDir,
      // A guest on a running server's database leaves migrations to the server (it applied them at start).
      migrate: opts.migrate,
      share: opts.share,
      command: opts.command,
    });
    const app = new App(config, db, opts.embedder ?? onnxEmbedder(config.ml));
    app.posters.removeStaleTemp();
    return app;
  }

  /**
   * For a server: loads ONNX Runtime in the background now, so the first image query does not also wait
   * for the library (the model itself still starts on first use).
   */
  preloadEmbedderLibrary(): void {
    void import('./ml/embedding/onnx-image-embedder.js').catch(() => undefined);
  }

  async close(): Promise<void> {
    await this.changes.stop();
    await this.jobs.stop();
    await this.training.idle();
    await this.recommendations.close();
    await this.embedding.close();
    await this.posterTexts.close();
    await this.db.close();
  }
}

/** The real embedder, loaded on first use: ONNX Runtime is required only when something is embedded. */
/** The manifest of the configured backbone: built in, in MARQUEE_BACKBONES_DIR, or registered in `<models dir>/manifests`. */
function configuredBackbone(ml: MlConfig): BackboneManifest {
  return loadBackbone(ml.backbone, manifestDirs(ml.backbonesDir, ml.modelsDir));
}

function onnxEmbedder(ml: MlConfig): ImageEmbedderFactory {
  return async () => {
    const { OnnxImageEmbedder } = await import('./ml/embedding/onnx-image-embedder.js');
    return OnnxImageEmbedder.create({ modelsDir: ml.modelsDir, backbone: configuredBackbone(ml), device: ml.device });
  };
}
