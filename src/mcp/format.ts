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

export function genreScores(scores: readonly ScoreRow[]): string {
  const sorted = [...scores].sort((a, b) => b.probability - a.probability);
  const predicted = sorted.filter((s) => s.predicted);
  return [
    `predicted: ${predicted.map((s) => `${s.genre} ${fixed(s.probability)}`).join(', ') || '(none over its threshold)'}`,
    `all: ${sorted.map((s) => `${s.genre} ${fixed(s.probability)}`).join(', ')}`,
  ].join('\n');
}
