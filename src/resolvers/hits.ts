import { RequestContext } from '../server/context';
import { SimilarMovie } from '../schema/prediction';
import { toMovie } from './movie-mapper';

/** Resolves index hits to movies in one batched load, dropping any deleted meanwhile. */
export async function loadHits(ctx: RequestContext, hits: Array<{ id: number; score: number }>): Promise<SimilarMovie[]> {
  const movies = await ctx.loaders.movie.loadMany(hits.map((h) => h.id));
  const out: SimilarMovie[] = [];
  hits.forEach((h, i) => {
    const m = movies[i];
    if (m && !(m instanceof Error)) out.push({ movie: toMovie(m), score: h.score });
  });
  return out;
}
