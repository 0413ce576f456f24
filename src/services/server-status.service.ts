import type { Database } from '../db/database';
import type { Readiness, ServerStatus } from '../domain/status';
import type { EmbeddingService } from './embedding.service';
import type { GenreModelService } from './genre-model.service';
import type { SimilarityService } from './similarity.service';

// eslint-disable-next-line @typescript-eslint/no-require-imports -- read at run time: an import would copy package.json into dist/
const { version } = require('../../../package.json') as { version: string };

/** What the running server reports about itself: serverInfo and the /readyz probe. */
export class ServerStatusService {
  constructor(
    private readonly db: Database,
    private readonly embedding: EmbeddingService,
    private readonly models: GenreModelService,
    private readonly similarity: SimilarityService,
  ) {}

  /** Backbone, execution provider (starting the embedder if it is not running), active model and index state. */
  async status(): Promise<ServerStatus> {
    const embedder = await this.embedding.info().catch(() => null);
    const active = await this.models.activeVersion();
    return {
      version,
      database: this.db.kind,
      backbone: this.embedding.backbone,
      provider: embedder?.provider ?? null,
      skippedProviders: embedder?.skipped ?? [],
      activeModelVersion: active?.name ?? null,
      indexedPosters: this.similarity.indexSize,
      indexGraphReady: this.similarity.graphReady,
    };
  }

  /** Ready when the database answers and no migration is pending. */
  async readiness(): Promise<Readiness> {
    try {
      await this.db.dataSource.query('SELECT 1');
      if (await this.db.pendingMigrations()) return { ready: false, status: 'migrations pending' };
      return { ready: true, database: this.db.kind };
    } catch (err) {
      return { ready: false, status: 'database unreachable', error: (err as Error).message };
    }
  }
}
