import { Column, Entity, PrimaryColumn } from 'typeorm';

/** One L2-normalised poster embedding per movie and backbone (pgvector). */
@Entity('poster_embedding')
export class PosterEmbeddingEntity {
  @PrimaryColumn({ type: 'text' })
  backbone: string;

  @PrimaryColumn({ name: 'movie_id', type: 'integer' })
  movieId: number;

  /** The poster the vector was computed from: a changed poster invalidates it. */
  @Column({ name: 'poster_sha256', type: 'text' })
  posterSha256: string;

  // Dimension-free `vector` so a second backbone with another width shares the table.
  @Column({ type: 'vector' as never })
  embedding: string;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt: Date;
}
