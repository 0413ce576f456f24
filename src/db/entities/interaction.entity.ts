import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** What one person did with one movie: a star rating or a like/dislike (exactly one of them), and when. */
@Entity('interaction')
export class InteractionEntity {
  /** An opaque person id from the client (1 to 200 characters). */
  @PrimaryColumn({ type: 'text' })
  person: string;

  @Index('interaction_movie')
  @PrimaryColumn({ name: 'movie_id', type: 'integer' })
  movieId: number;

  /** 0.5 to 5 in half steps; null for a like/dislike. */
  @Column({ type: 'real', nullable: true })
  rating: number | null;

  /** true/false for a like/dislike; null for a star rating. */
  @Column({ type: 'boolean', nullable: true })
  liked: boolean | null;

  @Column({ name: 'rated_at', type: 'timestamptz' })
  ratedAt: Date;

  @Column({ name: 'updated_at', type: 'timestamptz', default: () => 'now()' })
  updatedAt: Date;
}
