import type { OcrConfig, ProgressConfig } from '../config';
import type { PosterTextLine } from '../db/entities/poster-text.entity';
import { AppError } from '../errors';
import { OcrPool } from '../ml/text/ocr-pool';
import { ocrEngineId, type OcrResult } from '../ml/text/ocr-options';
import { Progress } from '../progress';
import type { PosterTextRepository } from '../repositories/poster-text.repository';
import type { PosterStore } from './poster-store';

export interface OcrRunSummary {
  read: number;
  failed: Array<{ movieId: number; reason: string; message: string }>;
  withText: number;
  seconds: number;
  rate: number;
}

const toLines = (r: OcrResult): PosterTextLine[] => r.lines.map((l) => ({ text: l.text, confidence: Math.round(l.confidence * 1000) / 1000, box: l.box }));

/**
 * The text on posters: bulk reading of stored posters (`marquee ocr`, resumable, every batch
 * committed), reading one new poster for a prediction whose model uses text, and the stored texts for
 * training. OCR runs on a worker pool started on first use; a deployment may turn it off.
 */
export class PosterTextService {
  private pool?: OcrPool;
  readonly engine = ocrEngineId();

  constructor(
    private readonly settings: OcrConfig,
    private readonly progressConfig: ProgressConfig,
    private readonly repo: PosterTextRepository,
    private readonly posters: PosterStore,
  ) {}

  get enabled(): boolean {
    return this.settings.enabled;
  }

  /** Whether OCR workers were started (they start on the first poster read). */
  get started(): boolean {
    return this.pool !== undefined;
  }

  private requireEnabled(): void {
    if (!this.settings.enabled) throw new AppError('BAD_USER_INPUT', 'OCR is turned off in this deployment (MARQUEE_OCR=off)', 'OCR_DISABLED');
  }

  private ocr(): OcrPool {
    this.requireEnabled();
    this.pool ??= new OcrPool({}, this.settings.workers);
    return this.pool;
  }

  /** The text of one new poster (image bytes). */
  async readImage(bytes: Buffer): Promise<string> {
    return (await this.ocr().read(bytes)).text;
  }

  /** Reads every stored poster whose text is missing or stale. Safe to stop and run again. */
  async readMissing(opts: { limit?: number; progress?: boolean } = {}): Promise<OcrRunSummary> {
    const started = Date.now();
    this.requireEnabled();
    const total = Math.min(await this.repo.countMissing(this.engine), opts.limit ?? Infinity);
    const summary: OcrRunSummary = { read: 0, failed: [], withText: 0, seconds: 0, rate: 0 };
    if (total === 0) return summary;
    const pool = this.ocr();
    const progress = opts.progress === false ? undefined : new Progress('ocr', total, 'posters', this.progressConfig);
    let after = 0;
    while (summary.read + summary.failed.length < total) {
      const page = await this.repo.missing(this.engine, after, Math.min(4 * pool.size * 8, total - summary.read - summary.failed.length));
      if (!page.length) break;
      after = page[page.length - 1].movieId;
      const results = await Promise.allSettled(page.map((p) => pool.read(this.posters.fileFor(p.posterSha256, p.posterMime))));
      const rows: Array<{ movieId: number; posterSha256: string; text: string; lines: PosterTextLine[] }> = [];
      results.forEach((r, i) => {
        const p = page[i];
        if (r.status === 'fulfilled') {
          rows.push({ movieId: p.movieId, posterSha256: p.posterSha256, text: r.value.text, lines: toLines(r.value) });
          if (r.value.text) summary.withText++;
        } else {
          const e = r.reason as AppError;
          summary.failed.push({ movieId: p.movieId, reason: e.reason ?? e.code, message: e.message });
        }
      });
      await this.repo.upsertMany(this.engine, rows);
      summary.read += rows.length;
      progress?.update(summary.read + summary.failed.length);
    }
    progress?.done(summary.read + summary.failed.length);
    summary.seconds = (Date.now() - started) / 1000;
    summary.rate = summary.read / Math.max(summary.seconds, 1e-9);
    return summary;
  }

  texts(movieIds: readonly number[]): Promise<Map<number, string>> {
    return this.repo.texts(movieIds);
  }

  allTexts(): Promise<Map<number, string>> {
    return this.repo.allTexts();
  }

  async close(): Promise<void> {
    await this.pool?.close();
  }
}
