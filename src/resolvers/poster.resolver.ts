import { Arg, Ctx, ID, Int, Query, Resolver } from 'type-graphql';
import { Genre, GenrePrediction } from '../schema/genre';
import { MovieFilter } from '../schema/movie';
import { PosterInput, Recommendation, SimilarMovie } from '../schema/prediction';
import { RequestContext } from '../server/context';
import { parseMovieId } from '../services/movie.service';
import { checkK } from '../services/similarity.service';
import { toFilterSpec } from './filter';
import { loadHits } from './hits';
import { toMovie } from './movie-mapper';

/** What a poster says: its genres, the posters that look like it, and recommendations. */
@Resolver()
export class PosterResolver {
  @Query(() => GenrePrediction, { description: "Genre probabilities of a poster under the active model" })
  async predictGenres(@Ctx() ctx: RequestContext, @Arg('poster', () => PosterInput, { validate: false }) poster: PosterInput): Promise<GenrePrediction> {
    const resolved = await ctx.app.posterQueries.resolve(poster);
    const p = await ctx.app.models.predictVector(resolved.vector);
    return { modelVersion: p.modelVersion, genres: p.genres.map((g) => ({ ...g, genre: g.genre as Genre })) };
  }

  @Query(() => [SimilarMovie])
  async similarPosters(
    @Ctx() ctx: RequestContext,
    @Arg('poster', () => PosterInput, { validate: false }) poster: PosterInput,
    @Arg('k', () => Int, { nullable: true, defaultValue: 10 }) k: number,
    @Arg('filter', () => MovieFilter, { nullable: true }) filter?: MovieFilter,
  ): Promise<SimilarMovie[]> {
    const kk = checkK(k);
    const resolved = await ctx.app.posterQueries.resolve(poster);
    // A stored movie's poster (by id, or uploaded again) uses its precomputed neighbours.
    const hits = resolved.movieId
      ? await ctx.app.similarity.similarToMovie(resolved.movieId, kk, toFilterSpec(filter))
      : await ctx.app.similarity.similarToVector(resolved.vector, kk, toFilterSpec(filter));
    return loadHits(ctx, hits);
  }

  @Query(() => [Recommendation])
  async recommendations(
    @Ctx() ctx: RequestContext,
    @Arg('liked', () => [ID]) liked: string[],
    @Arg('disliked', () => [ID], { nullable: true }) disliked: string[] | undefined,
    @Arg('k', () => Int, { nullable: true, defaultValue: 10 }) k: number,
    @Arg('filter', () => MovieFilter, { nullable: true }) filter?: MovieFilter,
  ): Promise<Recommendation[]> {
    const recs = await ctx.app.similarity.recommend(liked.map(parseMovieId), (disliked ?? []).map(parseMovieId), checkK(k), toFilterSpec(filter));
    const movies = new Map(recs.flatMap((r) => [r.id, ...r.because]).flatMap((id) => {
      const m = ctx.app.catalog.get(id);
      return m ? [[id, m] as const] : [];
    }));
    return recs.filter((r) => movies.has(r.id)).map((r) => ({
      movie: toMovie(movies.get(r.id)!, ctx.app.config.server.publicUrl),
      score: r.score,
      because: r.because.flatMap((id) => (movies.has(id) ? [toMovie(movies.get(id)!, ctx.app.config.server.publicUrl)] : [])),
    }));
  }
}

