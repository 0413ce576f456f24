import type { Genre } from '../gql/graphql';

/** The 13 labels in the API's order, with the names people read. */
export const GENRES: ReadonlyArray<{ id: Genre; label: string }> = [
  { id: 'ACTION', label: 'Action' },
  { id: 'ADVENTURE', label: 'Adventure' },
  { id: 'COMEDY', label: 'Comedy' },
  { id: 'CRIME', label: 'Crime' },
  { id: 'DOCUMENTARY', label: 'Documentary' },
  { id: 'DRAMA', label: 'Drama' },
  { id: 'FANTASY', label: 'Fantasy' },
  { id: 'HORROR', label: 'Horror' },
  { id: 'MYSTERY', label: 'Mystery' },
  { id: 'THRILLER', label: 'Thriller' },
  { id: 'ROMANCE', label: 'Romance' },
  { id: 'SCIFI', label: 'Sci-Fi' },
  { id: 'OTHERS', label: 'Other' },
];

const LABELS = new Map(GENRES.map((g) => [g.id as string, g.label]));
export const genreLabel = (g: string): string => LABELS.get(g) ?? g;
export const isGenre = (g: string): g is Genre => LABELS.has(g);
