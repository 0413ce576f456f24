import { MovieEntity } from '../db/entities';
import { RequestContext } from '../server/context';
import { SimilarMovie } from '../schema/prediction';
import { toMovie } from './movie-mapper';

/** Resolves index hits to movies (from the in-memory catalog, else one batched load), dropping any deleted meanwhile. */
export async function loadHits(ctx: RequestContext, hits: Array<{ id: number; score: number }>): Promise<SimilarMovie[]> {
  const catalog = ctx.app.catalog;
  const missing = hits.filter((h) => !catalog.get(h.id)).map((h) => h.id);
  const loaded = new Map<number, unknown>();
  if (missing.length) (await ctx.loaders.movie.loadMany(missing)).forEach((m, i) => loaded.set(missing[i], m));
  const movies = hits.map((h) => catalog.get(h.id) ?? loaded.get(h.id));
  const out: SimilarMovie[] = [];
  hits.forEach((h, i) => {
    const m = movies[i];
    if (m && !(m instanceof Error)) out.push({ movie: toMovie(m as MovieEntity, ctx.app.config.server.publicUrl), score: h.score });
  });
  return out;
}
