import { Config } from './config';
import { Database } from './db/database';
import { MovieRepository } from './repositories/movie.repository';
import { ImportService } from './services/import/import.service';
import { MovieService } from './services/movie.service';
import { PosterStore } from './services/poster-store';

/**
 * The composition root: opens the database and wires repositories and services.
 * The CLI and the HTTP server both start from here; nothing else constructs services.
 */
export class App {
  readonly posters: PosterStore;
  readonly movies: MovieService;
  readonly importer: ImportService;

  private constructor(
    readonly config: Config,
    readonly db: Database,
  ) {
    this.posters = new PosterStore(config.dataDir);
    this.movies = new MovieService(new MovieRepository(db.dataSource));
    this.importer = new ImportService(db, this.posters);
  }

  static async open(config: Config, opts: { migrate?: boolean } = {}): Promise<App> {
    const db = await Database.open({ url: config.databaseUrl, dataDir: config.dataDir, migrate: opts.migrate });
    return new App(config, db);
  }

  /** GraphQL resolver classes beyond the core movie queries (filled in as services are wired). */
  resolvers(): Function[] {
    return [];
  }

  async close(): Promise<void> {
    await this.db.close();
  }
}
