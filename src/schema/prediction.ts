import { Field, Float, ID, InputType, ObjectType } from 'type-graphql';
import { Movie } from './movie';
import { RecommendationReason } from './rating';

/**
 * Checked by PosterQueryService rather than class-validator: exactly one field, base64 size and
 * alphabet, URL scheme and address (safe-fetch). It sits on the hottest queries, and the service
 * checks are the stricter ones anyway.
 */
@InputType({ description: 'A poster: exactly one of a stored movie, image bytes (base64, at most 10 MB) or an http(s) URL' })
export class PosterInput {
  @Field(() => ID, { nullable: true }) movieId?: string;
  @Field(() => String, { nullable: true }) imageBase64?: string;
  @Field(() => String, { nullable: true }) imageUrl?: string;
}

@ObjectType()
export class SimilarMovie {
  @Field(() => Movie) movie: Movie;
  @Field(() => Float, { description: 'Cosine similarity of the posters' }) score: number;
}

@ObjectType()
export class Recommendation {
  @Field(() => Movie) movie: Movie;
  @Field(() => Float) score: number;
  @Field(() => [Movie], { description: 'The liked movies that led to this one' }) because: Movie[];
  @Field(() => RecommendationReason) reason: RecommendationReason;
}
