import { Field, Float, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { Movie } from './movie';

export enum RecommendationReason {
  COLLABORATIVE = 'COLLABORATIVE',
  POSTER = 'POSTER',
  POPULAR = 'POPULAR',
  GENRE = 'GENRE',
}

registerEnumType(RecommendationReason, {
  name: 'RecommendationReason',
  description: 'Why a movie is recommended: the largest part of its score',
  valuesConfig: {
    COLLABORATIVE: { description: 'People who liked the liked movies liked it' },
    POSTER: { description: "Its poster (and genres and year) resemble what the liked movies' fans like; all there is before the recommender is fitted" },
    POPULAR: { description: 'Many people liked it (what someone with no likes gets)' },
    GENRE: { description: 'It shares the genres of the liked movies' },
  },
});

@ObjectType({ description: "A person's star rating or like/dislike of a movie" })
export class Rating {
  @Field() userId: string;
  @Field(() => Movie) movie: Movie;
  @Field(() => Float, { nullable: true, description: '0.5 to 5 stars in half steps; null for a like/dislike' }) rating: number | null;
  @Field(() => Boolean, { nullable: true, description: 'A like (true) or dislike (false); null for a star rating' }) like: boolean | null;
  @Field() ratedAt: Date;
}

/** Checked by RatingService (exactly one of rating and like, rating in half steps), for one error with a reason. */
@InputType({ description: 'Exactly one of rating (0.5 to 5 stars in half steps) and like (true: liked, false: disliked)' })
export class RateMovieInput {
  @Field({ description: "The client's opaque id of the person (1 to 200 characters)" }) userId: string;
  @Field(() => ID) movieId: string;
  @Field(() => Float, { nullable: true }) rating?: number;
  @Field(() => Boolean, { nullable: true }) like?: boolean;
}

@ObjectType()
export class AlsoLiked {
  @Field(() => Movie) movie: Movie;
  @Field(() => Float, { description: 'Co-like similarity of the two movies' }) score: number;
  @Field(() => Int, { description: 'People who liked both' }) people: number;
}
