/** The 13 genre labels of the reference study, in a fixed order used by every vector of scores. */
export const GENRES = [
  'ACTION',
  'ADVENTURE',
  'COMEDY',
  'CRIME',
  'DOCUMENTARY',
  'DRAMA',
  'FANTASY',
  'HORROR',
  'MYSTERY',
  'THRILLER',
  'ROMANCE',
  'SCIFI',
  'OTHERS',
] as const;
export type GenreLabel = (typeof GENRES)[number];
export const NUM_LABELS = GENRES.length;

const DIRECT: Record<string, GenreLabel> = {
  action: 'ACTION',
  adventure: 'ADVENTURE',
  comedy: 'COMEDY',
  crime: 'CRIME',
  documentary: 'DOCUMENTARY',
  drama: 'DRAMA',
  fantasy: 'FANTASY',
  horror: 'HORROR',
  mystery: 'MYSTERY',
  thriller: 'THRILLER',
  romance: 'ROMANCE',
  'sci-fi': 'SCIFI',
  'science fiction': 'SCIFI',
  scifi: 'SCIFI',
  'sci fi': 'SCIFI',
};
// Raw names that carry no label at all (per the data README), as opposed to OTHERS.
const NO_LABEL = new Set(['imax', '(no genres listed)', '']);

/** Splits a raw genre cell: MovieLens style "A|B" or IMDb style "A, B". */
export function splitRawGenres(cell: string | undefined | null): string[] {
  if (!cell) return [];
  return cell
    .split(/[|,]/)
    .map((g) => g.trim())
    .filter((g) => g.length > 0);
}

export function labelsFromRawGenres(raw: readonly string[]): GenreLabel[] {
  const out = new Set<GenreLabel>();
  for (const name of raw) {
    const key = name.trim().toLowerCase();
    if (NO_LABEL.has(key)) continue;
    out.add(DIRECT[key] ?? 'OTHERS');
  }
  return GENRES.filter((g) => out.has(g));
}

/** Multi-hot vector in GENRES order. */
export function multiHot(labels: readonly string[]): Uint8Array {
  const v = new Uint8Array(NUM_LABELS);
  for (const l of labels) {
    const i = GENRES.indexOf(l as GenreLabel);
    if (i >= 0) v[i] = 1;
  }
  return v;
}
