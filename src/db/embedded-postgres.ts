import fs from 'node:fs';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { DataDirLock, lockedError, type LockHolder } from './data-dir-lock';
import { SequencedQueryQueue } from './pglite-query-queue';

// eslint-disable-next-line @typescript-eslint/no-require-imports -- its contrib types are published as ESM only; its CommonJS build is what we load
const { pg_trgm } = require('@electric-sql/pglite/contrib/pg_trgm') as { pg_trgm: import('@electric-sql/pglite').Extension };

/** Connections kept free on a server's socket for commands run while it serves (`marquee import`, `apikey create`, …). */
export const GUEST_CONNECTIONS = 16;

export interface EmbeddedOptions {
  maxConnections?: number;
  /** Our command line, shown to a process that finds the directory locked. */
  command?: string;
  /** A server: other commands may connect through its socket while it runs. */
  shareSocket?: boolean;
  /** Whether we may connect through the socket of a server that holds the directory (commands; not a second server). */
  joinServer?: boolean;
}

/**
 * The zero-setup database: PGlite (PostgreSQL in WASM) on disk, served in-process over the
 * PostgreSQL wire protocol. We do not hand PGlite to TypeORM directly: its driver shares one
 * session between every query runner, so concurrent requests would see each other's uncommitted
 * writes. Over the socket server, each pooled `pg` connection is its own client and the server's
 * multiplexer serialises transactions, which gives real isolation and one driver path for both databases.
 *
 * One process owns a data directory (DataDirLock). A command started while a server owns it
 * connects through the server's socket instead (`EmbeddedPostgres.open` answers the server's URL).
 */
export class EmbeddedPostgres {
  private constructor(
    readonly db: PGlite,
    private readonly server: PGLiteSocketServer,
    readonly url: string,
    private readonly lock: DataDirLock,
  ) {}

  /** Starts PGlite on the directory, or answers the URL of the running server that holds it. */
  static async open(dataDir: string, opts: EmbeddedOptions = {}): Promise<EmbeddedPostgres | { guestOf: LockHolder; url: string }> {
    const lock = DataDirLock.acquire(dataDir, opts.command ?? `marquee ${process.argv.slice(2).join(' ')}`.trim());
    if (!(lock instanceof DataDirLock)) {
      if (opts.joinServer && lock.url) return { guestOf: lock, url: lock.url };
      throw lockedError(
        dataDir,
        lock,
        lock.url && !opts.joinServer ? 'a second server cannot share it: stop that one or use another MARQUEE_DATA_DIR' : 'wait for it to finish, or stop it',
      );
    }
    try {
      const dir = path.join(dataDir, 'pglite');
      fs.mkdirSync(dir, { recursive: true });
      const db = await PGlite.create({ dataDir: dir, extensions: { vector, pg_trgm } });
      const maxConnections = (opts.maxConnections ?? 16) + (opts.shareSocket ? GUEST_CONNECTIONS : 0);
      const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections });
      // Its own queue interleaves the connections' extended-protocol messages (see SequencedQueryQueue).
      (server as unknown as { queryQueue: SequencedQueryQueue }).queryQueue = new SequencedQueryQueue(db);
      await server.start();
      // After start() the server reports the port the OS assigned.
      const url = `postgres://postgres@${server.getServerConn()}/postgres`;
      if (opts.shareSocket) lock.publish(url);
      return new EmbeddedPostgres(db, server, url, lock);
    } catch (err) {
      lock.release();
      throw err;
    }
  }

  /** Starts PGlite on the directory as its only owner. */
  static async start(dataDir: string, maxConnections = 16): Promise<EmbeddedPostgres> {
    const e = await EmbeddedPostgres.open(dataDir, { maxConnections });
    if (!(e instanceof EmbeddedPostgres)) throw new Error('unreachable: open without joinServer answered a guest URL');
    return e;
  }

  async stop(): Promise<void> {
    try {
      await this.server.stop();
      await this.db.close();
    } finally {
      this.lock.release();
    }
  }
}
