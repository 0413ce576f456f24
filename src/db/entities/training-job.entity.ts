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
}
