import { Arg, Ctx, FieldResolver, Int, Resolver, Root } from 'type-graphql';
import { Genre, GenreScore } from '../schema/genre';
import { Movie } from '../schema/movie';
import { SimilarMovie } from '../schema/prediction';
import { RequestContext } from '../server/context';
import { checkK } from '../services/similarity.service';
import { loadHits } from './hits';

@Resolver(() => Movie)
export class MovieFieldsResolver {
  @FieldResolver(() => [GenreScore], { description: "The active model's scores for this poster (empty until a model is trained)" })
  async predictedGenres(@Root() movie: Movie, @Ctx() ctx: RequestContext): Promise<GenreScore[]> {
    const scores = await ctx.loaders.prediction.load(Number(movie.id));
    return (scores ?? []).map((s) => ({ genre: s.genre as Genre, probability: s.probability, predicted: s.predicted }));
  }

  @FieldResolver(() => [SimilarMovie], { description: 'Movies whose posters look most alike, best first' })
  async similar(
    @Root() movie: Movie,
    @Ctx() ctx: RequestContext,
    @Arg('k', () => Int, { nullable: true, defaultValue: 10 }) k: number,
  ): Promise<SimilarMovie[]> {
    const hits = await ctx.app.similarity.similarToMovie(Number(movie.id), checkK(k)).catch((err) => {
      // A movie without an embedding simply has no look-alikes yet.
      if ((err as { reason?: string }).reason === 'NO_EMBEDDING') return [];
      throw err;
    });
    return loadHits(ctx, hits);
  }
}
