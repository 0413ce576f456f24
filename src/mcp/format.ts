import { displayTitle } from '../presentation/display-title';

/** Short, line-oriented text a language model reads easily: one movie or score a line, ids included for follow-up calls. */
export interface MovieRow {
  id: string;
  title: string;
  year?: number | null;
  genres?: readonly string[];
}

export interface ScoreRow {
  genre: string;
  probability: number;
  predicted: boolean;
  threshold: number;
}

export interface SupportRow {
  genre: string;
  neighbours: number;
}

export const fixed = (x: number, digits = 2): string => x.toFixed(digits);

export function movieLine(m: MovieRow): string {
  const year = m.year ? ` (${m.year})` : '';
  const genres = m.genres?.length ? ` · ${m.genres.join(', ')}` : '';
  return `${displayTitle(m.title)}${year} [id ${m.id}]${genres}`;
}

export function numbered<T>(items: readonly T[], line: (item: T) => string): string {
  return items.map((item, i) => `${i + 1}. ${line(item)}`).join('\n');
}

/** Predicted genres first, then every probability; thresholds once when the model uses one for all. */
export function genreScores(scores: readonly ScoreRow[]): string {
  const sorted = [...scores].sort((a, b) => b.probability - a.probability);
  const predicted = sorted.filter((s) => s.predicted);
  const uniform = sorted.every((s) => s.threshold === sorted[0]?.threshold);
  const score = (s: ScoreRow) => `${s.genre} ${fixed(s.probability)}${uniform ? '' : ` (threshold ${fixed(s.threshold)})`}`;
  return [
    `predicted: ${predicted.map(score).join(', ') || '(no genre reaches its threshold)'}`,
    `all: ${sorted.map(score).join(', ')}${uniform && sorted.length ? ` (threshold ${fixed(sorted[0].threshold)} for every genre)` : ''}`,
  ].join('\n');
}

/** "evidence: of the 10 nearest labelled posters, 7 DRAMA, 3 ROMANCE". */
export function evidenceLine(k: number, support: readonly SupportRow[]): string {
  const carried = support.filter((s) => s.neighbours > 0);
  return `evidence: of the ${k} nearest labelled posters, ${carried.map((s) => `${s.neighbours} ${s.genre}`).join(', ') || 'none carries a genre'}`;
}
