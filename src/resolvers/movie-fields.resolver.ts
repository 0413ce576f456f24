import { Arg, Ctx, FieldResolver, Int, Resolver, Root } from 'type-graphql';
import { GenreScore } from '../schema/genre';
import { SchemaMapper } from '../schema/mapper';
import { Movie } from '../schema/movie';
import { SimilarMovie } from '../schema/prediction';
import { AlsoLiked } from '../schema/rating';
import type { RequestContext } from '../server/context';
import { RecommendationService } from '../services/recommendation.service';
import { checkK, SimilarityService } from '../services/similarity.service';

@Resolver(() => Movie)
export class MovieFieldsResolver {
  constructor(
    private readonly similarity: SimilarityService,
    private readonly recommender: RecommendationService,
    private readonly mapper: SchemaMapper,
  ) {}

  @FieldResolver(() => [AlsoLiked], { description: 'People who liked this movie also liked these, best first (empty when nobody liked it)' })
  async alsoLiked(@Root() movie: Movie, @Arg('k', () => Int, { nullable: true, defaultValue: 10 }) k: number): Promise<AlsoLiked[]> {
    return (await this.recommender.alsoLiked(Number(movie.id), checkK(k))).map((a) => this.mapper.alsoLiked(a));
  }

  @FieldResolver(() => [GenreScore], { description: "The active model's scores for this poster (empty until a model is trained)" })
  async predictedGenres(@Root() movie: Movie, @Ctx() ctx: RequestContext): Promise<GenreScore[]> {
    return this.mapper.genreScores((await ctx.loaders.prediction.load(Number(movie.id))) ?? []);
  }

  @FieldResolver(() => [SimilarMovie], { description: 'Movies whose posters look most alike, best first' })
  async similar(@Root() movie: Movie, @Arg('k', () => Int, { nullable: true, defaultValue: 10 }) k: number): Promise<SimilarMovie[]> {
    const hits = await this.similarity.similarToMovie(Number(movie.id), checkK(k)).catch((err) => {
      // A movie without an embedding simply has no look-alikes yet.
      if ((err as { reason?: string }).reason === 'NO_EMBEDDING') return [];
      throw err;
    });
    return this.mapper.similar(hits);
  }
}
