import type { ProgressConfig } from './config';

/**
 * Progress for long jobs (import, embed, train): a redrawn bar on a terminal, plain lines
 * every few seconds otherwise (logs, CI). Shows count, rate and ETA.
 */
export class Progress {
  private readonly started = Date.now();
  private lastPrint = 0;
  private readonly tty: boolean;
  private readonly intervalMs: number;

  constructor(
    private readonly label: string,
    private readonly total: number | undefined,
    private readonly unit: string,
    settings: ProgressConfig,
    private readonly out: NodeJS.WriteStream = process.stderr,
  ) {
    this.tty = Boolean(out.isTTY) && !settings.ci;
    // Plain lines every 5 s by default; MARQUEE_PROGRESS_INTERVAL_MS=0 prints every update (tests, log tailing).
    this.intervalMs = settings.intervalMs ?? (this.tty ? 200 : 5000);
  }

  /** `fraction` overrides done/total for the ETA when the total is unknown (e.g. bytes of a CSV read). */
  update(done: number, fraction?: number, force = false): void {
    const now = Date.now();
    if (!force && now - this.lastPrint < this.intervalMs) return;
    this.lastPrint = now;
    const secs = (now - this.started) / 1000;
    const rate = secs > 0 ? done / secs : 0;
    const frac = fraction ?? (this.total ? done / this.total : undefined);
    const eta = frac && frac > 0 ? secs / frac - secs : undefined;
    const of = this.total !== undefined ? `/${this.total}` : '';
    const text = `${this.label} ${done}${of} ${this.unit} · ${rate.toFixed(1)}/s · ETA ${eta === undefined ? '?' : formatSecs(eta)}`;
    if (this.tty) {
      const width = 24;
      const filled = Math.round((frac ?? 0) * width);
      this.out.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${text}\x1b[K`);
    } else {
      this.out.write(`${text}\n`);
    }
  }

  done(done: number): void {
    this.update(done, 1, true);
    if (this.tty) this.out.write('\n');
  }
}

export function formatSecs(s: number): string {
  if (!Number.isFinite(s)) return '?';
  if (s < 60) return `${Math.round(s)}s`;
  return `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s`;
}
