import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { parse } from 'csv-parse';
import { parse as parseSync } from 'csv-parse/sync';
import type { DataSource } from 'typeorm';
import type { ImportConfig, ProgressConfig } from '../../config';
import { badInput } from '../../errors';
import { isValidRating, MAX_PERSON_ID_LENGTH } from '../../domain/rating';
import { Progress } from '../../progress';
import type { InteractionRepository, InteractionWrite } from '../../repositories/interaction.repository';
import type { MovieRepository } from '../../repositories/movie.repository';

export type RatingsFormat = 'movielens' | 'plain';

export interface RatingsImportOptions {
  /** MovieLens's links.csv (movieId -> imdbId); default: links.csv beside the ratings file. */
  links?: string;
  batchSize?: number;
  progress?: boolean;
}

/** Why lines were skipped: how many, the first few line numbers and one example message. */
export interface RatingsSkip {
  reason: 'UNKNOWN_MOVIE' | 'BAD_RATING' | 'MALFORMED_LINE';
  count: number;
  lines: number[];
  example: string;
}

export interface RatingsImportSummary {
  file: string;
  format: RatingsFormat;
  /** The links file used (MovieLens format only). */
  links: string | null;
  /** Data lines read (the header not counted). */
  lines: number;
  imported: number;
  updated: number;
  unchanged: number;
  /** Of the unchanged: lines older than a stored (or later-read) rating of the same person and movie, which is kept. */
  older: number;
  skipped: number;
  skips: RatingsSkip[];
  seconds: number;
}

/** How many line numbers a skip reason keeps. */
export const SKIP_LINES_KEPT = 5;

const FORMATS: Record<RatingsFormat, { person: string; movie: string; rating: string; time: string; timeRequired: boolean }> = {
  movielens: { person: 'userid', movie: 'movieid', rating: 'rating', time: 'timestamp', timeRequired: true },
  plain: { person: 'user', movie: 'imdb_id', rating: 'rating', time: 'timestamp', timeRequired: false },
};

class LineError extends Error {
  constructor(
    readonly reason: RatingsSkip['reason'],
    message: string,
  ) {
    super(message);
  }
}

/**
 * `marquee import-ratings`: streams a ratings file (MovieLens's `userId,movieId,rating,timestamp`
 * joined to IMDb ids through links.csv, or a plain `user,imdb_id,rating[,timestamp]`; told apart by
 * the header) into the interaction table, in batches of one upsert each. Re-running changes nothing; a
 * newer rating of the same person and movie replaces an older one, never the other way round.
 */
export class RatingsImportService {
  constructor(
    private readonly ds: DataSource,
    private readonly interactions: InteractionRepository,
    private readonly movies: MovieRepository,
    private readonly config: ImportConfig,
    private readonly progressConfig: ProgressConfig,
    /** Called after an import that wrote something (the recommender refits). */
    private readonly onChanged: () => void = () => undefined,
  ) {}

  async importFile(ratingsPath: string, opts: RatingsImportOptions = {}): Promise<RatingsImportSummary> {
    const started = Date.now();
    const file = path.resolve(ratingsPath);
    if (!fs.existsSync(file) || !fs.statSync(file).isFile()) throw badInput('FILE_NOT_FOUND', `no such ratings file: ${file}`);
    const size = fs.statSync(file).size;
    const batchSize = opts.batchSize ?? this.config.ratingsBatchSize;
    const byImdb = await this.movies.idsByImdbId();
    const progress = opts.progress === false ? undefined : new Progress('import-ratings', undefined, 'lines', this.progressConfig);

    const summary: RatingsImportSummary = {
      file,
      format: 'plain',
      links: null,
      lines: 0,
      imported: 0,
      updated: 0,
      unchanged: 0,
      older: 0,
      skipped: 0,
      skips: [],
      seconds: 0,
    };
    const skips = new Map<RatingsSkip['reason'], RatingsSkip>();
    const skip = (line: number, reason: RatingsSkip['reason'], message: string) => {
      summary.skipped++;
      let s = skips.get(reason);
      if (!s) skips.set(reason, (s = { reason, count: 0, lines: [], example: `line ${line}: ${message}` }));
      s.count++;
      if (s.lines.length < SKIP_LINES_KEPT) s.lines.push(line);
    };

    let columns: { person: number; movie: number; rating: number; time: number; count: number } | undefined;
    let resolveMovie: (raw: string) => number | string = () => '';
    let timeRequired = false;
    let batch = new Map<string, { line: number; write: InteractionWrite }>();
    let bytes = 0;

    const flush = async () => {
      if (!batch.size) return;
      const writes = [...batch.values()].map((b) => b.write);
      batch = new Map();
      const c = await this.ds.transaction((em) => this.interactions.upsertMany(writes, em));
      summary.imported += c.inserted;
      summary.updated += c.updated;
      summary.unchanged += c.unchanged;
      summary.older += c.older;
      progress?.update(summary.lines, bytes / size);
    };

    for await (const { line, text, bytes: at } of readLines(file)) {
      let record: string[];
      try {
        record = splitCsvLine(text);
      } catch (err) {
        if (columns) {
          summary.lines++;
          skip(line, 'MALFORMED_LINE', (err as Error).message);
          continue;
        }
        throw badInput('UNKNOWN_RATINGS_FORMAT', `${file}: the header cannot be read: ${(err as Error).message}`);
      }
      if (!columns) {
        const header = record.map((h) => h.trim().toLowerCase());
        summary.format = detectFormat(header, file);
        const f = FORMATS[summary.format];
        columns = {
          person: header.indexOf(f.person),
          movie: header.indexOf(f.movie),
          rating: header.indexOf(f.rating),
          time: header.indexOf(f.time),
          count: header.length,
        };
        timeRequired = f.timeRequired;
        if (summary.format === 'movielens') {
          summary.links = path.resolve(opts.links ?? path.join(path.dirname(file), 'links.csv'));
          const links = await readLinks(summary.links);
          resolveMovie = (raw) => {
            if (!/^\d+$/.test(raw)) throw new LineError('MALFORMED_LINE', `movieId "${raw.slice(0, 40)}" is not a number`);
            const imdb = links.get(Number(raw));
            if (!imdb) return `MovieLens movie ${raw} has no line in ${path.basename(summary.links!)}`;
            return byImdb.get(imdb) ?? `MovieLens movie ${raw} (${imdb}) is not in the catalogue`;
          };
        } else {
          resolveMovie = (raw) => {
            const imdb = normaliseImdbId(raw);
            if (!imdb) throw new LineError('MALFORMED_LINE', `imdb_id "${raw.slice(0, 40)}" is not an IMDb id (tt0114709 or 114709)`);
            return byImdb.get(imdb) ?? `${imdb} is not in the catalogue`;
          };
        }
        continue;
      }
      summary.lines++;
      bytes = at;
      try {
        const write = parseLine(record, columns, timeRequired, resolveMovie);
        if (typeof write === 'string') {
          skip(line, 'UNKNOWN_MOVIE', write);
          continue;
        }
        const key = `${write.person}\u0000${write.movieId}`;
        const prev = batch.get(key);
        if (prev) {
          // Two lines of one person and movie in one batch: the newer one is written (the later line on a tie).
          summary.unchanged++;
          summary.older++;
          if (prev.write.ratedAt && write.ratedAt && prev.write.ratedAt > write.ratedAt) continue;
        }
        batch.set(key, { line, write });
      } catch (err) {
        if (!(err instanceof LineError)) throw err;
        skip(line, err.reason, err.message);
      }
      if (batch.size >= batchSize) await flush();
    }
    if (!columns) throw badInput('EMPTY_FILE', `${file} is empty: expected a header such as userId,movieId,rating,timestamp or user,imdb_id,rating`);
    await flush();
    progress?.done(summary.lines);
    summary.skips = [...skips.values()].sort((a, b) => b.count - a.count);
    summary.seconds = (Date.now() - started) / 1000;
    if (summary.imported || summary.updated) this.onChanged();
    return summary;
  }
}

/** The file's non-empty lines with their 1-based numbers and the bytes read so far (about: for the ETA). */
async function* readLines(file: string): AsyncGenerator<{ line: number; text: string; bytes: number }> {
  const lines = readline.createInterface({ input: fs.createReadStream(file, 'utf8'), crlfDelay: Infinity });
  let n = 0;
  let bytes = 0;
  for await (const raw of lines) {
    n++;
    bytes += raw.length + 1;
    const text = n === 1 ? raw.replace(/^\uFEFF/, '') : raw;
    if (text.trim()) yield { line: n, text, bytes };
  }
}

/**
 * One CSV line's fields, trimmed. Ratings lines are one record each: the common unquoted line is split
 * directly (a CSV parser per line would cost several times more), a quoted one goes through csv-parse,
 * and a quote left open is this line's error rather than a swallowed rest of the file.
 */
export function splitCsvLine(text: string): string[] {
  if (!text.includes('"')) return text.split(',').map((f) => f.trim());
  const records: string[][] = parseSync(text, { relax_column_count: true, trim: true });
  if (records.length !== 1) throw new Error('a line holds more than one record');
  return records[0];
}

function detectFormat(header: string[], file: string): RatingsFormat {
  for (const [name, f] of Object.entries(FORMATS) as Array<[RatingsFormat, (typeof FORMATS)[RatingsFormat]]>) {
    if (header.includes(f.person) && header.includes(f.movie) && header.includes(f.rating)) return name;
  }
  throw badInput(
    'UNKNOWN_RATINGS_FORMAT',
    `${file}: the header "${header.join(',').slice(0, 120)}" is neither MovieLens's userId,movieId,rating,timestamp nor user,imdb_id,rating[,timestamp]`,
  );
}

/** "tt0114709", "0114709" or "114709" -> "tt0114709"; anything else -> undefined. */
export function normaliseImdbId(raw: string): string | undefined {
  const m = /^(?:tt)?(\d{1,10})$/i.exec(raw.trim());
  return m ? `tt${m[1].padStart(7, '0')}` : undefined;
}

/** A line's rating to store, or the message saying its movie is unknown; a malformed line or bad rating throws a LineError. */
function parseLine(
  record: string[],
  c: { person: number; movie: number; rating: number; time: number; count: number },
  timeRequired: boolean,
  resolveMovie: (raw: string) => number | string,
): InteractionWrite | string {
  if (record.length !== c.count && !(c.time === c.count - 1 && !timeRequired && record.length === c.count - 1)) {
    throw new LineError('MALFORMED_LINE', `${record.length} fields where the header has ${c.count}`);
  }
  const person = record[c.person];
  if (!person || person.length > MAX_PERSON_ID_LENGTH)
    throw new LineError('MALFORMED_LINE', `the user id is empty or longer than ${MAX_PERSON_ID_LENGTH} characters`);
  const rawRating = record[c.rating] ?? '';
  let rating: number | null = null;
  let liked: boolean | null = null;
  const word = rawRating.toLowerCase();
  if (!timeRequired && (word === 'like' || word === 'dislike')) liked = word === 'like';
  else {
    if (!/^[+-]?(\d+(\.\d*)?|\.\d+)$/.test(rawRating)) throw new LineError('MALFORMED_LINE', `rating "${rawRating.slice(0, 40)}" is not a number`);
    rating = Number(rawRating);
    if (!isValidRating(rating)) throw new LineError('BAD_RATING', `rating ${rawRating} is outside 0.5 to 5 stars in half steps`);
  }
  const rawTime = c.time >= 0 ? (record[c.time] ?? '') : '';
  let ratedAt: Date | null = null;
  if (rawTime) {
    ratedAt = /^\d{1,12}$/.test(rawTime) ? new Date(Number(rawTime) * 1000) : /^\d{4}-\d\d-\d\d/.test(rawTime) ? new Date(rawTime) : null;
    if (!ratedAt || Number.isNaN(ratedAt.getTime()))
      throw new LineError('MALFORMED_LINE', `timestamp "${rawTime.slice(0, 40)}" is neither Unix seconds nor an ISO date`);
  } else if (timeRequired) throw new LineError('MALFORMED_LINE', 'the timestamp is missing');
  const movie = resolveMovie(record[c.movie] ?? '');
  // The common skip (a movie not in the catalogue) comes back as its message, without an Error's stack.
  if (typeof movie === 'string') return movie;
  return { person, movieId: movie, rating, liked, ratedAt };
}

/** MovieLens's links.csv: movieId -> IMDb id ("tt" + the zero-padded imdbId). */
async function readLinks(file: string): Promise<Map<number, string>> {
  if (!fs.existsSync(file)) {
    throw badInput('LINKS_NOT_FOUND', `MovieLens ratings need links.csv (movieId -> imdbId): ${file} is not there; give --links <links.csv>`);
  }
  const links = new Map<number, string>();
  let cols: { movie: number; imdb: number } | undefined;
  const records = fs
    .createReadStream(file)
    .pipe(parse({ bom: true, relax_column_count: true, skip_empty_lines: true, skip_records_with_error: true, trim: true }));
  for await (const record of records as AsyncIterable<string[]>) {
    if (!cols) {
      const header = record.map((h) => h.toLowerCase());
      cols = { movie: header.indexOf('movieid'), imdb: header.indexOf('imdbid') };
      if (cols.movie < 0 || cols.imdb < 0)
        throw badInput('BAD_LINKS_FILE', `${file}: expected a header movieId,imdbId[,tmdbId], got "${record.join(',').slice(0, 120)}"`);
      continue;
    }
    const imdb = normaliseImdbId(record[cols.imdb] ?? '');
    const movie = Number(record[cols.movie]);
    if (imdb && Number.isInteger(movie)) links.set(movie, imdb);
  }
  return links;
}

/** The CLI's report: the counts, then one line per skip reason with its first line numbers. */
export function formatRatingsSummary(s: RatingsImportSummary): string[] {
  const what = s.format === 'movielens' ? `MovieLens ratings (links ${s.links})` : 'ratings (user,imdb_id,rating)';
  const lines = [
    `${what}: ${s.lines} lines: imported ${s.imported}, updated ${s.updated}, unchanged ${s.unchanged}${s.older ? ` (${s.older} older than the rating kept)` : ''}, skipped ${s.skipped} (${s.seconds.toFixed(1)} s)`,
  ];
  for (const k of s.skips) {
    lines.push(`skipped ${k.count} ${k.reason}: lines ${k.lines.join(', ')}${k.count > k.lines.length ? ', …' : ''} (e.g. ${k.example})`);
  }
  return lines;
}
