import { IMDB_ID } from '../../domain/movie';
import { labelsFromRawGenres, splitRawGenres } from '../../ml/genre/labels';
import { MovieFields } from '../../repositories/movie.repository';

/** One CSV row in the reference study's scrape schema (+ optional imdb_id). */
export interface ScrapeRow {
  imdb_id?: string;
  name?: string;
  year?: string;
  age?: string;
  time?: string;
  genre?: string;
  storyline?: string;
  img_url?: string;
}

export interface MovieInput extends MovieFields {
  imgUrl: string;
}

export class RowError extends Error {
  constructor(
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

const clean = (s: string | undefined): string | null => {
  const t = (s ?? '').trim();
  return t.length ? t : null;
};

/** "2001", "(2001)", "2001–2003" → 2001; empty → null; anything else is an error. */
export function parseYear(raw: string | undefined): number | null {
  const t = clean(raw);
  if (t === null) return null;
  const m = /^\(?((?:18|19|20)\d\d)(?:\)|\s*[-–]\s*(?:\d{4})?)?\)?$/.exec(t);
  if (!m) throw new RowError('BAD_YEAR', `unparseable year "${t}"`);
  return Number(m[1]);
}

/** "1h 52min", "112 min", "2h", "45m", "1:52" → minutes; empty → null. */
export function parseRuntime(raw: string | undefined): number | null {
  const t = clean(raw)?.toLowerCase();
  if (!t) return null;
  let m = /^(\d+)\s*h(?:ours?|rs?)?\s*(?:(\d+)\s*m(?:in(?:utes?|s)?)?)?$/.exec(t);
  if (m) return Number(m[1]) * 60 + Number(m[2] ?? 0);
  m = /^(\d+)\s*m(?:in(?:utes?|s)?)?$/.exec(t);
  if (m) return Number(m[1]);
  m = /^(\d+):(\d\d)$/.exec(t);
  if (m) return Number(m[1]) * 60 + Number(m[2]);
  if (/^\d+$/.test(t)) return Number(t);
  throw new RowError('BAD_RUNTIME', `unparseable runtime "${raw}"`);
}

/** The longest value accepted per column (the same limits as addMovie's input). */
export const FIELD_LIMITS: Record<keyof ScrapeRow, number> = {
  imdb_id: 20,
  name: 500,
  year: 20,
  age: 20,
  time: 40,
  genre: 1000,
  storyline: 10_000,
  img_url: 2048,
};

export function parseRow(row: ScrapeRow): MovieInput {
  for (const [column, limit] of Object.entries(FIELD_LIMITS) as Array<[keyof ScrapeRow, number]>) {
    const value = row[column];
    if (typeof value !== 'string') continue;
    if (value.length > limit) throw new RowError('FIELD_TOO_LONG', `${column} is ${value.length} characters long; the limit is ${limit}`);
    // The reader decodes UTF-8 with replacement characters: one here means the bytes were not UTF-8.
    if (value.includes('\uFFFD')) throw new RowError('INVALID_UTF8', `${column} is not valid UTF-8 (save the file as UTF-8)`);
  }
  const title = clean(row.name);
  if (!title) throw new RowError('NO_NAME', 'the row has no name');
  const imgUrl = clean(row.img_url);
  if (!imgUrl) throw new RowError('NO_IMAGE', 'the row has no img_url');
  const imdbId = clean(row.imdb_id);
  if (imdbId !== null && !IMDB_ID.test(imdbId)) throw new RowError('BAD_IMDB_ID', `malformed imdb_id "${imdbId}"`);
  const rawGenres = splitRawGenres(row.genre);
  return {
    imdbId,
    title,
    year: parseYear(row.year),
    ageRating: clean(row.age),
    runtimeMinutes: parseRuntime(row.time),
    storyline: clean(row.storyline),
    rawGenres,
    labels: labelsFromRawGenres(rawGenres),
    imgUrl,
  };
}
