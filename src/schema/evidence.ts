import { Field, Float, Int, ObjectType } from 'type-graphql';
import { Genre } from './genre';
import { Movie } from './movie';

@ObjectType({ description: 'A labelled poster near the predicted one' })
export class EvidencePoster {
  @Field(() => Movie) movie: Movie;
  @Field(() => Float, { description: 'Cosine similarity of the posters' }) similarity: number;
  @Field(() => [Genre], { description: "The neighbour's own genres" }) genres: Genre[];
}

@ObjectType({ description: 'How many of the k neighbours carry a genre' })
export class GenreSupport {
  @Field(() => Genre) genre: Genre;
  @Field(() => Int) neighbours: number;
}

@ObjectType({ description: 'The k nearest labelled posters behind a prediction, and how many of them carry each genre' })
export class PredictionEvidence {
  @Field(() => Int) k: number;
  @Field(() => [EvidencePoster], { description: 'Nearest first' }) neighbours: EvidencePoster[];
  @Field(() => [GenreSupport], { description: 'Every predicted genre and every genre a neighbour carries, most supported first' })
  support: GenreSupport[];
}
