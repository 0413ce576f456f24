/**
 * Genres as small index lists, and the genre-profile score: the share of a person's liked movies that
 * carry each genre, summed over a candidate's genres and divided by √(its genre count), so that a
 * movie tagged with every genre does not win by breadth alone.
 */

export interface GenreTable {
  readonly names: readonly string[];
  /** item -> its genre indices: genre[start[i]] .. genre[start[i + 1] - 1] */
  readonly start: Int32Array;
  readonly genre: Int16Array;
}

export function genreTable(genres: ReadonlyArray<readonly string[]>): GenreTable {
  const names: string[] = [];
  const byName = new Map<string, number>();
  const start = new Int32Array(genres.length + 1);
  const out: number[] = [];
  genres.forEach((gs, i) => {
    for (const g of new Set(gs)) {
      let k = byName.get(g);
      if (k === undefined) {
        k = names.length;
        names.push(g);
        byName.set(g, k);
      }
      out.push(k);
    }
    start[i + 1] = out.length;
  });
  return { names, start, genre: Int16Array.from(out) };
}

export function genresOf(t: GenreTable, item: number): Int16Array {
  return t.genre.subarray(t.start[item], t.start[item + 1]);
}

/** The profile of liked items (share of them carrying each genre); zero everywhere when none has a genre. */
export function genreProfile(t: GenreTable, liked: ArrayLike<number>): Float64Array {
  const p = new Float64Array(t.names.length);
  for (let j = 0; j < liked.length; j++) for (const g of genresOf(t, liked[j])) p[g] += 1 / liked.length;
  return p;
}

export function genreScore(t: GenreTable, profile: Float64Array, item: number): number {
  const s = t.start[item];
  const e = t.start[item + 1];
  if (e === s) return 0;
  let v = 0;
  for (let j = s; j < e; j++) v += profile[t.genre[j]];
  return v / Math.sqrt(e - s);
}

/** How many genres two items share (for `because` of a genre-driven pick). */
export function sharedGenres(t: GenreTable, a: number, b: number): number {
  let n = 0;
  const gb = genresOf(t, b);
  for (const g of genresOf(t, a)) if (gb.includes(g)) n++;
  return n;
}
