import type { Database } from '../db/database';
import type { Readiness, ServerStatus } from '../domain/status';
import type { EmbeddingService } from './embedding.service';
import type { GenreModelService } from './genre-model.service';
import type { RecommendationService } from './recommendation.service';
import type { SimilarityService } from './similarity.service';
import { MARQUEE_VERSION } from '../version';

/** What the running server reports about itself: serverInfo and the /readyz probe. */
export class ServerStatusService {
  constructor(
    private readonly db: Database,
    private readonly embedding: EmbeddingService,
    private readonly models: GenreModelService,
    private readonly similarity: SimilarityService,
    private readonly recommendations: RecommendationService,
  ) {}

  /** Backbone, execution provider (starting the embedder if it is not running), active model, index and recommender state. */
  async status(): Promise<ServerStatus> {
    const embedder = await this.embedding.info().catch(() => null);
    const active = await this.models.activeVersion();
    return {
      version: MARQUEE_VERSION,
      database: this.db.kind,
      backbone: this.embedding.backbone,
      provider: embedder?.provider ?? null,
      skippedProviders: embedder?.skipped ?? [],
      activeModelVersion: active?.name ?? null,
      indexedPosters: this.similarity.indexSize,
      indexGraphReady: this.similarity.graphReady,
      indexFilteredLists: this.similarity.filteredLists,
      indexWarm: this.similarity.warm,
      recommender: this.recommendations.state,
    };
  }

  private migrationsChecked = false;

  /**
   * Ready when the database answers (within a second), no migration is pending, the similarity index
   * has loaded and a genre model is active. Never waits on the index: while it loads the answer is
   * "index loading" at once, and the database probe gives up after a second rather than queueing
   * behind the index's bulk read.
   */
  async readiness(): Promise<Readiness> {
    const database = this.db.kind;
    if (!this.similarity.loaded) {
      void this.similarity.ready().catch(() => undefined);
      return { ready: false, status: 'index loading', database };
    }
    try {
      const probe = async () => {
        await this.db.dataSource.query('SELECT 1');
        if (!this.migrationsChecked) {
          if (await this.db.pendingMigrations()) return 'migrations pending';
          this.migrationsChecked = true;
        }
        return (await this.models.activeVersion()) ? null : 'no active model';
      };
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<string>((resolve) => (timer = setTimeout(() => resolve('database busy'), 1000)));
      const problem = await Promise.race([probe(), timeout]).finally(() => clearTimeout(timer));
      if (problem) return { ready: false, status: problem, database };
      return { ready: true, database };
    } catch (err) {
      return { ready: false, status: 'database unreachable', error: (err as Error).message, database };
    }
  }
}
