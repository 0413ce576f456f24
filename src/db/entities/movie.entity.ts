import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

@Entity('movie')
export class MovieEntity {
  @PrimaryGeneratedColumn()
  id: number;

  @Index({ unique: true })
  @Column({ name: 'imdb_id', type: 'text', nullable: true })
  imdbId: string | null;

  @Column({ type: 'text' })
  title: string;

  @Index()
  @Column({ type: 'integer', nullable: true })
  year: number | null;

  @Column({ name: 'age_rating', type: 'text', nullable: true })
  ageRating: string | null;

  @Column({ name: 'runtime_minutes', type: 'integer', nullable: true })
  runtimeMinutes: number | null;

  @Column({ type: 'text', nullable: true })
  storyline: string | null;

  /** Content address of the stored poster file under MARQUEE_DATA_DIR/posters. */
  @Column({ name: 'poster_sha256', type: 'text', nullable: true })
  posterSha256: string | null;

  @Column({ name: 'poster_mime', type: 'text', nullable: true })
  posterMime: string | null;

  /** Where the poster came from (CSV-relative path or URL), kept for provenance. */
  @Column({ name: 'poster_source', type: 'text', nullable: true })
  posterSource: string | null;

  @Column({ name: 'raw_genres', type: 'text', array: true, default: () => "'{}'" })
  rawGenres: string[];

  @Column({ type: 'text', array: true, default: () => "'{}'" })
  labels: string[];

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt: Date;

  @Column({ name: 'updated_at', type: 'timestamptz', default: () => 'now()' })
  updatedAt: Date;
}
