import 'reflect-metadata';
import { Config } from './config';
import { Database } from './db/database';
import { ApiKeyRepository } from './repositories/api-key.repository';
import { EmbeddingRepository } from './repositories/embedding.repository';
import { ModelVersionRepository } from './repositories/model-version.repository';
import { MovieRepository } from './repositories/movie.repository';
import { TrainingJobRepository } from './repositories/training-job.repository';
import { ApiKeyService } from './services/api-key.service';
import { EmbeddingService } from './services/embedding.service';
import { EvaluationService } from './services/evaluation.service';
import { GenreModelService } from './services/genre-model.service';
import { ImportService } from './services/import/import.service';
import { MovieCatalog } from './services/movie-catalog';
import { MovieAdminService } from './services/movie-admin.service';
import { MovieService } from './services/movie.service';
import { PosterQueryService } from './services/poster-query.service';
import { PosterStore } from './services/poster-store';
import { SimilarityService } from './services/similarity.service';
import { TrainingJobService } from './services/training-job.service';

/**
 * The composition root: opens the database and wires repositories and services.
 * The CLI and the HTTP server both start from here; nothing else constructs services.
 */
export class App {
  readonly posters: PosterStore;
  readonly movies: MovieService;
  readonly importer: ImportService;
  readonly apiKeys: ApiKeyService;
  readonly embedding: EmbeddingService;
  readonly models: GenreModelService;
  readonly similarity: SimilarityService;
  readonly catalog: MovieCatalog;
  readonly posterQueries: PosterQueryService;
  readonly movieAdmin: MovieAdminService;
  readonly training: TrainingJobService;
  readonly evaluation: EvaluationService;

  private constructor(
    readonly config: Config,
    readonly db: Database,
  ) {
    const ds = db.dataSource;
    const movieRepo = new MovieRepository(ds);
    const embeddingRepo = new EmbeddingRepository(ds);
    this.posters = new PosterStore(config.storage.dataDir);
    this.movies = new MovieService(movieRepo);
    this.importer = new ImportService(db, this.posters, config.import, config.progress);
    this.apiKeys = new ApiKeyService(new ApiKeyRepository(ds));
    this.embedding = new EmbeddingService(config.ml, config.progress, embeddingRepo, this.posters);
    this.models = new GenreModelService(ds, new ModelVersionRepository(ds), embeddingRepo, movieRepo, config.ml.backbone, config.progress);
    this.catalog = new MovieCatalog(movieRepo);
    this.similarity = new SimilarityService(this.catalog, embeddingRepo, config.ml.backbone, config.storage.dataDir);
    this.posterQueries = new PosterQueryService(this.embedding, this.similarity, config.net);
    this.movieAdmin = new MovieAdminService(movieRepo, this.posters, this.embedding, this.models, this.similarity, config.net);
    this.training = new TrainingJobService(new TrainingJobRepository(ds), this.models);
    this.evaluation = new EvaluationService(this.embedding, this.models, config.net, config.progress);
  }

  static async open(config: Config, opts: { migrate?: boolean } = {}): Promise<App> {
    const db = await Database.open({ url: config.database.url, dataDir: config.storage.dataDir, migrate: opts.migrate });
    return new App(config, db);
  }

  async close(): Promise<void> {
    await this.training.idle();
    await this.embedding.close();
    await this.db.close();
  }
}
