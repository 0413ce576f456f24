import { randomUUID } from 'node:crypto';
import type { Change } from '../domain/change';
import type { ChangeChannelRepository } from '../repositories/change-channel.repository';

/** Ids per notification: a payload must stay under PostgreSQL's 8000 bytes. */
const IDS_PER_MESSAGE = 500;

export type ChangeListener = (change: Change) => void | Promise<void>;

/**
 * How the processes of one deployment (API replicas, workers, CLI commands) tell each other what
 * they changed: a write that changes what other processes keep in memory (movies, embeddings, the
 * active model) is published here after it commits. Subscribers in this process hear it at once;
 * on a PostgreSQL server every other process hears it through LISTEN/NOTIFY (within milliseconds).
 * The embedded database has one process, so there the feed is local only.
 */
export class ChangeFeed {
  private readonly origin = randomUUID();
  private readonly listeners = new Set<ChangeListener>();
  private listening = false;

  constructor(
    /** undefined on the embedded database: in-process only. */
    private readonly channel: ChangeChannelRepository | undefined,
    private readonly log: (msg: string) => void = (m) => process.stderr.write(`${m}\n`),
  ) {}

  /** Whether other processes hear this one (a PostgreSQL server). */
  get shared(): boolean {
    return this.channel !== undefined;
  }

  subscribe(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Tells this process's subscribers, then the other processes. Never throws: a write that committed
   * stays committed; a lost notification is logged (the others catch up on their next resync).
   */
  async publish(change: Change): Promise<void> {
    if ('ids' in change && change.ids.length === 0) return;
    this.deliver(change);
    if (!this.channel) return;
    try {
      for (const part of split(change)) await this.channel.notify(JSON.stringify({ o: this.origin, c: part }));
    } catch (err) {
      this.log(`marquee: could not publish a ${change.kind} change: ${(err as Error).message}`);
    }
  }

  /** Starts listening to the other processes (PostgreSQL only; a no-op on the embedded database). */
  async start(): Promise<void> {
    if (!this.channel || this.listening) return;
    this.listening = true;
    await this.channel.listen(
      (payload) => this.received(payload),
      (reconnected) => {
        if (reconnected) this.deliver({ kind: 'resync' });
      },
    );
  }

  async stop(): Promise<void> {
    this.listening = false;
    await this.channel?.stop();
  }

  private received(payload: string): void {
    let msg: { o?: string; c?: Change };
    try {
      msg = JSON.parse(payload) as { o?: string; c?: Change };
    } catch {
      return this.log(`marquee: ignored a malformed change notification`);
    }
    if (msg.o === this.origin || !msg.c) return; // our own: subscribers heard it when it was published
    this.deliver(msg.c);
  }

  private deliver(change: Change): void {
    for (const l of this.listeners) {
      try {
        void Promise.resolve(l(change)).catch((err: unknown) => this.log(`marquee: applying a ${change.kind} change failed: ${(err as Error).message}`));
      } catch (err) {
        this.log(`marquee: applying a ${change.kind} change failed: ${(err as Error).message}`);
      }
    }
  }
}

function split(change: Change): Change[] {
  if (!('ids' in change) || change.ids.length <= IDS_PER_MESSAGE) return [change];
  const parts: Change[] = [];
  for (let i = 0; i < change.ids.length; i += IDS_PER_MESSAGE) parts.push({ ...change, ids: change.ids.slice(i, i + IDS_PER_MESSAGE) });
  return parts;
}
