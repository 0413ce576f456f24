import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'csv-parse';
import { AppError } from '../../errors';
import type { ScrapeRow } from './movie-row';

/** One parsed record and where it ended in the file. */
export interface ScrapeRecord {
  record: ScrapeRow;
  info: { lines: number; bytes: number };
}

export interface ScrapeCsv {
  /** Absolute path of the file. */
  file: string;
  size: number;
  /**
   * The records, streamed: header names trimmed and lower-cased, BOM stripped, empty lines dropped.
   * A malformed record (e.g. an unterminated quote) is skipped; the parser emits 'skip' with its line.
   */
  records: AsyncIterable<ScrapeRecord> & NodeJS.EventEmitter;
}

/** Opens a CSV in the scrape schema (import and evaluate read the same files the same way). */
export function openScrapeCsv(csvPath: string): ScrapeCsv {
  const file = path.resolve(csvPath);
  if (!fs.existsSync(file)) throw new AppError('BAD_USER_INPUT', `no such CSV file: ${file}`, 'FILE_NOT_FOUND');
  const records = fs.createReadStream(file).pipe(
    parse({
      columns: (header: string[]) => header.map((h) => h.trim().toLowerCase()),
      bom: true,
      info: true,
      relax_column_count: true,
      skip_empty_lines: true,
      skip_records_with_error: true,
    }),
  );
  return { file, size: fs.statSync(file).size, records };
}
