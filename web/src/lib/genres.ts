import type { Genre } from '../gql/graphql';

// A Record over the schema's Genre type: the build fails when the API gains or loses a genre.
const NAMES: Record<Genre, string> = {
  ACTION: 'Action',
  ADVENTURE: 'Adventure',
  COMEDY: 'Comedy',
  CRIME: 'Crime',
  DOCUMENTARY: 'Documentary',
  DRAMA: 'Drama',
  FANTASY: 'Fantasy',
  HORROR: 'Horror',
  MYSTERY: 'Mystery',
  THRILLER: 'Thriller',
  ROMANCE: 'Romance',
  SCIFI: 'Sci-Fi',
  OTHERS: 'Other',
};

/** The 13 labels in the API's order, with the names people read. */
export const GENRES: ReadonlyArray<{ id: Genre; label: string }> = (Object.keys(NAMES) as Genre[]).map((id) => ({ id, label: NAMES[id] }));

export const isGenre = (g: string): g is Genre => Object.hasOwn(NAMES, g);
export const genreLabel = (g: string): string => (isGenre(g) ? NAMES[g] : g);
