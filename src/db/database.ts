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
  /**
   * Embedded only. `serve`: own the directory and let commands connect through our socket;
   * `command`: own it, or connect through the socket of the server that owns it; `exclusive`
   * (default): own it or fail.
   */
  share?: 'serve' | 'command' | 'exclusive';
  /** Our command line, named to a process that finds the directory locked. */
  command?: string;
}

/** An open database: the TypeORM DataSource plus, for the embedded mode, the PGlite it runs on. */
export class Database {
  private constructor(
    readonly dataSource: DataSource,
    readonly embedded: EmbeddedPostgres | undefined,
    /** Set when we connected through the socket of the server that owns the embedded directory: its pid. */
    readonly guestOf: number | undefined,
  ) {}

  get kind(): 'postgres' | 'pglite' {
    return this.embedded || this.guestOf !== undefined ? 'pglite' : 'postgres';
  }

  static async open(opts: DatabaseOptions): Promise<Database> {
    const share = opts.share ?? 'exclusive';
    let poolSize = opts.poolSize ?? 10;
    let embedded: EmbeddedPostgres | undefined;
    let guestOf: number | undefined;
    let url = opts.url;
    if (!url) {
      const opened = await EmbeddedPostgres.open(opts.dataDir, {
        maxConnections: poolSize + 4,
        command: opts.command,
        shareSocket: share === 'serve',
        joinServer: share === 'command',
      });
      if (opened instanceof EmbeddedPostgres) {
        embedded = opened;
        url = opened.url;
      } else {
        guestOf = opened.guestOf.pid;
        url = opened.url;
        poolSize = 4; // a guest on the server's socket leaves the server its connections
      }
    }
    const dataSource = new DataSource({
      type: 'postgres',
      url,
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
    return new Database(dataSource, embedded, guestOf);
  }

  async pendingMigrations(): Promise<boolean> {
    return this.dataSource.showMigrations();
  }

  async close(): Promise<void> {
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
    await this.embedded?.stop();
  }
}
