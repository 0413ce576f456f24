import { Column, Entity, PrimaryColumn } from 'typeorm';

/** One line read from a poster: its text, mean character probability and box in poster pixels. */
export interface PosterTextLine {
  text: string;
  confidence: number;
  box: { x: number; y: number; width: number; height: number };
}

/** The text OCR read from a movie's poster (empty when it found none). */
@Entity('poster_text')
export class PosterTextEntity {
  @PrimaryColumn({ name: 'movie_id', type: 'integer' })
  movieId: number;

  /** The poster the text was read from: a changed poster invalidates it. */
  @Column({ name: 'poster_sha256', type: 'text' })
  posterSha256: string;

  /** OCR engine and settings (e.g. "pp-ocrv4/det1/lines4"): other settings read again. */
  @Column({ type: 'text' })
  engine: string;

  @Column({ type: 'text' })
  text: string;

  @Column({ type: 'jsonb' })
  lines: PosterTextLine[];

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt: Date;
}
