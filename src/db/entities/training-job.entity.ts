import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';
import type { TrainingJobStatus } from '../../domain/model';

@Entity('training_job')
export class TrainingJobEntity {
  @PrimaryGeneratedColumn()
  id: number;

  @Column({ type: 'text' })
  status: TrainingJobStatus;

  @Column({ type: 'double precision', default: 0 })
  progress: number;

  @Column({ type: 'text', nullable: true })
  stage: string | null;

  @Column({ type: 'jsonb', default: () => "'{}'" })
  params: Record<string, unknown>;

  @Column({ name: 'model_version_id', type: 'integer', nullable: true })
  modelVersionId: number | null;

  @Column({ type: 'jsonb', nullable: true })
  metrics: unknown;

  @Column({ type: 'text', nullable: true })
  error: string | null;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt: Date;

  @Column({ name: 'started_at', type: 'timestamptz', nullable: true })
  startedAt: Date | null;

  @Column({ name: 'finished_at', type: 'timestamptz', nullable: true })
  finishedAt: Date | null;

  /** How many times a process started it (a retrain whose process died runs again). */
  @Column({ type: 'integer', default: 0 })
  attempts: number;

  /** Its job in the queue (pg-boss id). */
  @Column({ name: 'queue_job_id', type: 'text', nullable: true })
  queueJobId: string | null;

  /** The process running (or that last ran) it: host:pid. */
  @Column({ type: 'text', nullable: true })
  worker: string | null;
}
