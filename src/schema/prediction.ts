import { IsUrl, MaxLength } from 'class-validator';
import { Field, Float, ID, InputType, ObjectType } from 'type-graphql';
import { Movie } from './movie';

@InputType({ description: 'A poster: exactly one of a stored movie, image bytes (base64) or an http(s) URL' })
export class PosterInput {
  @Field(() => ID, { nullable: true }) movieId?: string;
  @Field(() => String, { nullable: true }) @MaxLength(14_000_100) imageBase64?: string;
  @Field(() => String, { nullable: true }) @MaxLength(2048) @IsUrl({ protocols: ['http', 'https'], require_protocol: true, require_tld: false }) imageUrl?: string;
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
}

