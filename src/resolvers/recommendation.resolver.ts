import { Arg, Authorized, ID, Int, Mutation, Query, Resolver } from 'type-graphql';
import { parseMovieId } from '../domain/ids';
import { SchemaMapper } from '../schema/mapper';
import { MovieFilter } from '../schema/movie';
import { Recommendation } from '../schema/prediction';
import { RateMovieInput, Rating } from '../schema/rating';
import { RatingService } from '../services/rating.service';
import { RecommendationService } from '../services/recommendation.service';
import { checkK } from '../services/similarity.service';

/** What people like: their ratings, and recommendations learnt from them. */
@Resolver()
export class RecommendationResolver {
  constructor(
    private readonly recommender: RecommendationService,
    private readonly ratingService: RatingService,
    private readonly mapper: SchemaMapper,
  ) {}

  @Query(() => [Recommendation], {
    description:
      "Movies for someone who liked `liked` (and disliked `disliked`); with userId, the person's stored likes and dislikes join the lists and what they rated is left out. Nothing liked at all gets popular movies",
  })
  async recommendations(
    @Arg('userId', () => String, { nullable: true }) userId: string | undefined,
    @Arg('liked', () => [ID], { nullable: true, defaultValue: [] }) liked: string[] | undefined,
    @Arg('disliked', () => [ID], { nullable: true }) disliked: string[] | undefined,
    @Arg('k', () => Int, { nullable: true, defaultValue: 10 }) k: number,
    @Arg('filter', () => MovieFilter, { nullable: true }) filter?: MovieFilter,
  ): Promise<Recommendation[]> {
    const recs = await this.recommender.recommend({
      userId: userId ?? undefined,
      liked: (liked ?? []).map(parseMovieId),
      disliked: (disliked ?? []).map(parseMovieId),
      k: checkK(k),
      filter: this.mapper.filter(filter),
    });
    return recs.map((r) => this.mapper.recommendation(r));
  }

  @Authorized('user', 'admin')
  @Mutation(() => Rating, {
    description: "Records a person's star rating or like/dislike of a movie (replacing an earlier one); recommendations follow within seconds",
  })
  async rateMovie(@Arg('input', () => RateMovieInput) input: RateMovieInput): Promise<Rating> {
    return this.mapper.rating(await this.ratingService.rate(input.userId, parseMovieId(input.movieId), input.rating, input.like));
  }

  @Authorized('user', 'admin')
  @Mutation(() => Boolean, { description: "Removes a person's rating of a movie; false when there was none" })
  async removeRating(@Arg('userId', () => String) userId: string, @Arg('movieId', () => ID) movieId: string): Promise<boolean> {
    return this.ratingService.remove(userId, parseMovieId(movieId));
  }

  @Authorized('user', 'admin')
  @Query(() => [Rating], { description: "A person's ratings and likes, newest first (an unknown person has none)" })
  async ratings(@Arg('userId', () => String) userId: string, @Arg('first', () => Int, { nullable: true, defaultValue: 20 }) first: number): Promise<Rating[]> {
    return (await this.ratingService.list(userId, first)).map((r) => this.mapper.rating(r));
  }
}
