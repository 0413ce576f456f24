import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { MIGRATIONS } from '../../migrations';
import {
  ApiKeyEntity,
  InteractionEntity,
  ModelVersionEntity,
  MovieEntity,
  MoviePredictionEntity,
  PosterEmbeddingEntity,
  PosterTextEntity,
  TrainingJobEntity,
} from './entities';
import { EmbeddedPostgres } from './embedded-postgres';

export interface DatabaseOptions {
  /** postgres://… for a server; unset for the embedded PGlite in dataDir. */
  url?: string;
  dataDir: string;
  poolSize?: number;
  /** Apply pending migrations on open (the server and CLI do; `migrate` tests may not). */
  migrate?: boolean;
}

/** An open database: the TypeORM DataSource plus, for the embedded mode, the PGlite it runs on. */
export class Database {
  private constructor(
    readonly dataSource: DataSource,
    readonly embedded: EmbeddedPostgres | undefined,
  ) {}

  get kind(): 'postgres' | 'pglite' {
    return this.embedded ? 'pglite' : 'postgres';
  }

  static async open(opts: DatabaseOptions): Promise<Database> {
    const poolSize = opts.poolSize ?? 10;
    const embedded = opts.url ? undefined : await EmbeddedPostgres.start(opts.dataDir, poolSize + 4);
    const dataSource = new DataSource({
      type: 'postgres',
      url: opts.url ?? embedded!.url,
      entities: [
        MovieEntity,
        PosterEmbeddingEntity,
        ModelVersionEntity,
        MoviePredictionEntity,
        TrainingJobEntity,
        ApiKeyEntity,
        PosterTextEntity,
        InteractionEntity,
      ],
      migrations: MIGRATIONS,
      migrationsTransactionMode: 'each',
      synchronize: false,
      logging: ['error'],
      extra: { max: poolSize },
    });
    try {
      await dataSource.initialize();
      if (opts.migrate !== false) await dataSource.runMigrations();
    } catch (err) {
      if (dataSource.isInitialized) await dataSource.destroy();
      await embedded?.stop();
      throw err;
    }
    return new Database(dataSource, embedded);
  }

  async pendingMigrations(): Promise<boolean> {
    return this.dataSource.showMigrations();
  }

  async close(): Promise<void> {
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
    await this.embedded?.stop();
  }
}
