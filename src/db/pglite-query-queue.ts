import type { PGlite } from '@electric-sql/pglite';

interface Queued {
  handlerId: number;
  message: Uint8Array;
  onData: (data: Uint8Array) => void;
  resolve: (bytes: number) => void;
  reject: (err: unknown) => void;
}

// Frontend messages that end an extended-protocol sequence (Sync) or are a whole query by themselves (Query).
const SYNC = 0x53; // 'S'
const QUERY = 0x51; // 'Q'
const TERMINATE = 0x58; // 'X'

/**
 * The query queue of the PGlite socket server, replacing its own. PGlite is one PostgreSQL session,
 * which every connection of the socket server shares, and the library's queue interleaves the
 * connections message by message outside transactions. A Parse from one connection then lands
 * between another's Parse and Bind, and that Bind runs the wrong unnamed statement ("bind message
 * supplies 1 parameters, but prepared statement "" requires 11", or, worse, another query's rows).
 * This queue gives one connection the session from its first message until its Sync (or a simple
 * Query), and, as the library's did, for the whole of a transaction.
 */
export class SequencedQueryQueue {
  private queue: Queued[] = [];
  private processing = false;
  /** The connection that holds the session: mid-sequence or in a transaction. */
  private owner: number | null = null;

  constructor(private readonly db: PGlite) {}

  enqueue(handlerId: number, message: Uint8Array, onData: (data: Uint8Array) => void): Promise<number> {
    return new Promise((resolve, reject) => {
      this.queue.push({ handlerId, message, onData, resolve, reject });
      if (!this.processing) void this.processQueue();
    });
  }

  getQueueLength(): number {
    return this.queue.length;
  }

  clearQueueForHandler(handlerId: number): void {
    this.queue = this.queue.filter((q) => {
      if (q.handlerId !== handlerId) return true;
      q.reject(new Error('Handler disconnected'));
      return false;
    });
  }

  /** A connection went away: roll back what it left open and give the session to the others. */
  async clearTransactionIfNeeded(handlerId: number): Promise<void> {
    if (this.owner !== handlerId) return;
    if (this.db.isInTransaction()) await this.db.exec('ROLLBACK');
    this.owner = null;
    await this.processQueue();
  }

  private async processQueue(): Promise<void> {
    if (this.processing) return;
    this.processing = true;
    try {
      while (this.queue.length) {
        let index = 0;
        if (this.owner !== null) {
          index = this.queue.findIndex((q) => q.handlerId === this.owner);
          if (index < 0) break; // wait for the owner's next message
        }
        const [item] = this.queue.splice(index, 1);
        let bytes = 0;
        try {
          await this.db.runExclusive(() =>
            this.db.execProtocolRawStream(item.message, {
              onRawData: (d: Uint8Array) => {
                bytes += d.length;
                item.onData(d);
              },
            }),
          );
        } catch (err) {
          this.owner = this.db.isInTransaction() ? item.handlerId : null;
          item.reject(err);
          continue;
        }
        const type = item.message[0];
        const sequenceOpen = type !== SYNC && type !== QUERY && type !== TERMINATE && isExtendedMessage(item.message);
        this.owner = sequenceOpen || this.db.isInTransaction() ? item.handlerId : null;
        item.resolve(bytes);
      }
    } finally {
      this.processing = false;
    }
  }
}

/** Typed frontend messages of the extended protocol (the startup message has no type byte). */
function isExtendedMessage(m: Uint8Array): boolean {
  // Parse, Bind, Describe, Execute, Close, Flush.
  return m.length >= 5 && [0x50, 0x42, 0x44, 0x45, 0x43, 0x48].includes(m[0]);
}
