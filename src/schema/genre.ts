import { Field, Float, Int, ObjectType, registerEnumType } from 'type-graphql';
import { GENRES } from '../ml/genre/labels';

export enum Genre {
  ACTION = 'ACTION',
  ADVENTURE = 'ADVENTURE',
  COMEDY = 'COMEDY',
  CRIME = 'CRIME',
  DOCUMENTARY = 'DOCUMENTARY',
  DRAMA = 'DRAMA',
  FANTASY = 'FANTASY',
  HORROR = 'HORROR',
  MYSTERY = 'MYSTERY',
  THRILLER = 'THRILLER',
  ROMANCE = 'ROMANCE',
  SCIFI = 'SCIFI',
  OTHERS = 'OTHERS',
}
// The GraphQL enum and the ML label order must never drift apart.
if (Object.keys(Genre).join() !== GENRES.join()) throw new Error('Genre enum out of step with GENRES');

registerEnumType(Genre, { name: 'Genre', description: 'The 13 genre labels of the reference study' });

@ObjectType()
export class GenreCount {
  @Field(() => Genre) genre: Genre;
  @Field(() => Int) count: number;
}

@ObjectType({ description: 'One label of a prediction: its probability and whether it passes the model threshold' })
export class GenreScore {
  @Field(() => Genre) genre: Genre;
  @Field(() => Float) probability: number;
  @Field() predicted: boolean;
  @Field(() => Float, { description: "The model's decision threshold for this genre: predicted is probability >= threshold" }) threshold: number;
}

@ObjectType()
export class GenrePrediction {
  @Field() modelVersion: string;
  @Field(() => [GenreScore]) genres: GenreScore[];
  /** The poster's embedding, for the evidence field (not part of the schema). */
  vector: Float32Array;
  /** The stored movie the poster belongs to, if any: never its own evidence (not part of the schema). */
  movieId?: number;
}
