import path from 'node:path';
import type { DataSource } from 'typeorm';
import type { ImportConfig, ProgressConfig } from '../../config';
import { AppError } from '../../errors';
import { imageSource, readImageSource } from '../../net/image-source';
import { Progress } from '../../progress';
import type { MovieRepository, MovieWrite } from '../../repositories/movie.repository';
import type { ChangeFeed } from '../change-feed';
import type { PosterStore } from '../poster-store';
import { parseRow, RowError, type MovieInput, type ScrapeRow } from './movie-row';
import { openScrapeCsv } from './scrape-csv';

export interface ImportOptions {
  limit?: number;
  batchSize?: number;
  /** Allow img_url to point at loopback/private addresses (tests, intranets). */
  allowPrivateUrls?: boolean;
  progress?: boolean;
  /** Called after each committed batch (tests use it to interrupt an import half way). */
  onBatchCommitted?: (committedRows: number) => void;
}

export interface SkippedRow {
  line: number;
  reason: string;
  message: string;
}

export interface ImportSummary {
  imported: number;
  updated: number;
  unchanged: number;
  skipped: SkippedRow[];
  seconds: number;
}

const CONCURRENCY = 8;

/**
 * Streams a scrape-schema CSV into the database: rows are parsed, their posters validated and
 * copied into the content-addressed store, then upserted in batches, one transaction per batch.
 * Re-running is safe: unchanged rows are left alone and a half-done run is completed.
 */
export class ImportService {
  constructor(
    private readonly ds: DataSource,
    private readonly movies: MovieRepository,
    private readonly posters: PosterStore,
    private readonly config: ImportConfig,
    private readonly progress: ProgressConfig,
    private readonly changes: ChangeFeed,
  ) {}

  async importCsv(csvPath: string, opts: ImportOptions = {}): Promise<ImportSummary> {
    const started = Date.now();
    const csv = openScrapeCsv(csvPath);
    const baseDir = path.dirname(csv.file);
    const batchSize = opts.batchSize ?? this.config.batchSize;
    const summary: ImportSummary = { imported: 0, updated: 0, unchanged: 0, skipped: [], seconds: 0 };
    const progress = opts.progress === false ? undefined : new Progress('import', opts.limit, 'rows', this.progress);

    // A malformed CSV record (e.g. an unterminated quote) is skipped by the parser; keep its line.
    csv.records.on('skip', (err: Error & { lines?: number }) => {
      summary.skipped.push({ line: err.lines ?? 0, reason: 'MALFORMED_CSV', message: err.message });
    });

    let batch: Array<{ line: number; row: ScrapeRow }> = [];
    // imdb id -> the line that had it first: a later line with the same id is refused, not merged.
    const imdbLines = new Map<string, number>();
    let seen = 0;
    let bytesRead = 0;
    const flush = async () => {
      if (!batch.length) return;
      await this.processBatch(batch, baseDir, opts, summary);
      const done = summary.imported + summary.updated + summary.unchanged;
      opts.onBatchCommitted?.(done);
      progress?.update(seen, opts.limit ? seen / opts.limit : bytesRead / csv.size);
      batch = [];
    };
    for await (const rec of csv.records) {
      if (opts.limit !== undefined && seen >= opts.limit) break;
      seen++;
      bytesRead = rec.info.bytes;
      const imdbId = rec.record.imdb_id?.trim();
      if (imdbId) {
        const first = imdbLines.get(imdbId);
        if (first !== undefined) {
          summary.skipped.push({ line: rec.info.lines, reason: 'DUPLICATE_IMDB_ID', message: `imdb_id ${imdbId} is on line ${first} already` });
          continue;
        }
        imdbLines.set(imdbId, rec.info.lines);
      }
      batch.push({ line: rec.info.lines, row: rec.record });
      if (batch.length >= batchSize) await flush();
    }
    await flush();
    progress?.done(seen);
    summary.skipped.sort((a, b) => a.line - b.line);
    summary.seconds = (Date.now() - started) / 1000;
    return summary;
  }

  private async processBatch(batch: Array<{ line: number; row: ScrapeRow }>, baseDir: string, opts: ImportOptions, summary: ImportSummary): Promise<void> {
    const prepared = new Array<{ line: number; write: MovieWrite } | undefined>(batch.length);
    let next = 0;
    const worker = async () => {
      while (next < batch.length) {
        const i = next++;
        const { line, row } = batch[i];
        try {
          const input = parseRow(row);
          const source = imageSource(input.imgUrl, baseDir);
          const bytes = await readImageSource(source, { allowPrivateUrls: opts.allowPrivateUrls ?? false, missingReason: 'IMAGE_MISSING' });
          const poster = await this.posters.put(bytes);
          prepared[i] = { line, write: toWrite(input, poster.sha256, poster.mime) };
        } catch (err) {
          summary.skipped.push(skipOf(line, err));
        }
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    // Within one batch the last occurrence of a movie wins, as it would across batches.
    const byIdentity = new Map<string, { line: number; write: MovieWrite }>();
    for (const p of prepared) if (p) byIdentity.set(identity(p.write), p);
    const writes = [...byIdentity.values()].map((p) => p.write);
    if (!writes.length) return;
    const outcomes = await this.ds.transaction((em) => this.movies.upsertMany(writes, em));
    await this.changes.publish({ kind: 'movies', ids: outcomes.filter((o) => o.outcome !== 'unchanged').map((o) => o.id) });
    for (const o of outcomes) {
      if (o.outcome === 'inserted') summary.imported++;
      else if (o.outcome === 'updated') summary.updated++;
      else summary.unchanged++;
    }
  }
}

function toWrite(input: MovieInput, sha256: string, mime: string): MovieWrite {
  return {
    imdbId: input.imdbId,
    title: input.title,
    year: input.year,
    ageRating: input.ageRating,
    runtimeMinutes: input.runtimeMinutes,
    storyline: input.storyline,
    rawGenres: input.rawGenres,
    labels: input.labels,
    posterSha256: sha256,
    posterMime: mime,
    posterSource: input.imgUrl,
  };
}

const identity = (w: MovieWrite) => w.imdbId ?? `${w.title.toLowerCase()}\u0000${w.year ?? -1}`;

function skipOf(line: number, err: unknown): SkippedRow {
  if (err instanceof RowError) return { line, reason: err.reason, message: err.message };
  if (err instanceof AppError) return { line, reason: err.reason ?? err.code, message: err.message };
  return { line, reason: 'ERROR', message: (err as Error).message };
}

export function formatSummary(s: ImportSummary): string {
  return `imported ${s.imported}, updated ${s.updated}, unchanged ${s.unchanged}, skipped ${s.skipped.length}`;
}
