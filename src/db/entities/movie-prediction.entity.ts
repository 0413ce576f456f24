import { Column, Entity, PrimaryColumn } from 'typeorm';

/** Stored genre probabilities of one movie under one model version (13 scores in GENRES order). */
@Entity('movie_prediction')
export class MoviePredictionEntity {
  @PrimaryColumn({ name: 'model_version_id', type: 'integer' })
  modelVersionId: number;

  @PrimaryColumn({ name: 'movie_id', type: 'integer' })
  movieId: number;

  @Column({ type: 'real', array: true })
  scores: number[];
}
