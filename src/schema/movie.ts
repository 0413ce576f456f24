import { Max, Min, MaxLength } from 'class-validator';
import { Field, ID, InputType, Int, ObjectType } from 'type-graphql';
import { Genre } from './genre';

@ObjectType()
export class Movie {
  @Field(() => ID) id: string;
  @Field(() => String, { nullable: true }) imdbId: string | null;
  @Field() title: string;
  @Field(() => Int, { nullable: true }) year: number | null;
  @Field(() => String, { nullable: true }) ageRating: string | null;
  @Field(() => Int, { nullable: true }) runtimeMinutes: number | null;
  @Field(() => String, { nullable: true }) storyline: string | null;
  @Field(() => String, { nullable: true, description: 'Absolute path of the poster on this server (GET it)' })
  posterUrl: string | null;
  @Field(() => [Genre], { description: 'Labels from the imported genres' }) genres: Genre[];
  @Field(() => [String]) rawGenres: string[];
  // predictedGenres and similar are field resolvers (MovieFieldsResolver).
}

@InputType({ description: 'Filters combine with AND; `genres` matches movies having every listed genre' })
export class MovieFilter {
  @Field(() => [Genre], { nullable: true }) genres?: Genre[];
  @Field(() => Int, { nullable: true }) @Min(1800) @Max(2200) yearFrom?: number;
  @Field(() => Int, { nullable: true }) @Min(1800) @Max(2200) yearTo?: number;
  @Field(() => String, { nullable: true }) @MaxLength(200) search?: string;
}

@ObjectType()
export class MovieEdge {
  @Field() cursor: string;
  @Field(() => Movie) node: Movie;
}

@ObjectType()
export class PageInfo {
  @Field() hasNextPage: boolean;
  @Field(() => String, { nullable: true }) endCursor: string | null;
}

@ObjectType()
export class MovieConnection {
  @Field(() => Int) totalCount: number;
  @Field(() => [MovieEdge]) edges: MovieEdge[];
  @Field(() => PageInfo) pageInfo: PageInfo;
}
