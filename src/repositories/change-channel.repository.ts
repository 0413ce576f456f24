import { Client } from 'pg';
import type { DataSource } from 'typeorm';

/** The PostgreSQL channel the processes of one deployment share. */
export const CHANGE_CHANNEL = 'marquee_changes';

/**
 * PostgreSQL LISTEN/NOTIFY for ChangeFeed: `notify` sends one payload (delivered to every listener at
 * commit; at most 8000 bytes), `listen` keeps a dedicated connection LISTENing, reconnecting with
 * back-off when it drops. Only on a PostgreSQL server: PGlite served over its socket shares one
 * backend between all connections and delivers no notification to another connection.
 */
export class ChangeChannelRepository {
  private client?: Client;
  private stopped = false;
  private retryTimer?: NodeJS.Timeout;

  constructor(
    private readonly ds: DataSource,
    private readonly url: string,
    private readonly log: (msg: string) => void = (m) => process.stderr.write(`${m}\n`),
  ) {}

  async notify(payload: string): Promise<void> {
    await this.ds.query(`SELECT pg_notify($1, $2)`, [CHANGE_CHANNEL, payload]);
  }

  /**
   * LISTENs until `stop()`. `onConnected` runs after every (re)connection once LISTEN is in place;
   * `reconnected` is true from the second time on (notifications may have been missed meanwhile).
   */
  async listen(onPayload: (payload: string) => void, onConnected: (reconnected: boolean) => void): Promise<void> {
    let connections = 0;
    let delayMs = 250;
    const connect = async (): Promise<void> => {
      const client = new Client({ connectionString: this.url, application_name: 'marquee-changes' });
      client.on('notification', (n) => {
        if (n.channel === CHANGE_CHANNEL && n.payload) onPayload(n.payload);
      });
      const retry = (err: Error) => {
        if (this.stopped || this.client !== client) return;
        this.client = undefined;
        client.removeAllListeners('end');
        void client.end().catch(() => undefined);
        this.log(`marquee: change feed connection lost (${err.message}); reconnecting in ${delayMs} ms`);
        this.retryTimer = setTimeout(() => void connect().catch(() => undefined), delayMs);
        delayMs = Math.min(delayMs * 2, 5000);
      };
      client.on('error', retry);
      client.on('end', () => retry(new Error('connection ended')));
      this.client = client;
      try {
        await client.connect();
        await client.query(`LISTEN ${CHANGE_CHANNEL}`);
      } catch (err) {
        if (connections === 0) {
          this.client = undefined;
          void client.end().catch(() => undefined);
          throw err;
        }
        retry(err as Error);
        return;
      }
      delayMs = 250;
      onConnected(connections++ > 0);
    };
    await connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    const c = this.client;
    this.client = undefined;
    if (c) {
      c.removeAllListeners('end');
      await c.end().catch(() => undefined);
    }
  }
}
