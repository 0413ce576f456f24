import fs from 'node:fs';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

// eslint-disable-next-line @typescript-eslint/no-require-imports -- its contrib types are published as ESM only; its CommonJS build is what we load
const { pg_trgm } = require('@electric-sql/pglite/contrib/pg_trgm') as { pg_trgm: import('@electric-sql/pglite').Extension };

/**
 * The zero-setup database: PGlite (PostgreSQL in WASM) on disk, served in-process over the
 * PostgreSQL wire protocol. We do not hand PGlite to TypeORM directly: its driver shares one
 * session between every query runner, so concurrent requests would see each other's uncommitted
 * writes. Over the socket server, each pooled `pg` connection is its own client and the server's
 * multiplexer serialises transactions, which gives real isolation and one driver path for both databases.
 */
export class EmbeddedPostgres {
  private constructor(
    readonly db: PGlite,
    private readonly server: PGLiteSocketServer,
    readonly url: string,
  ) {}

  static async start(dataDir: string, maxConnections = 16): Promise<EmbeddedPostgres> {
    const dir = path.join(dataDir, 'pglite');
    fs.mkdirSync(dir, { recursive: true });
    const db = await PGlite.create({ dataDir: dir, extensions: { vector, pg_trgm } });
    const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections });
    await server.start();
    // After start() the server reports the port the OS assigned.
    return new EmbeddedPostgres(db, server, `postgres://postgres@${server.getServerConn()}/postgres`);
  }

  async stop(): Promise<void> {
    await this.server.stop();
    await this.db.close();
  }
}
