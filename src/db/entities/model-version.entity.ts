import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

@Entity('model_version')
export class ModelVersionEntity {
  @PrimaryGeneratedColumn()
  id: number;

  @Column({ type: 'text', unique: true })
  name: string;

  @Column({ type: 'text' })
  backbone: string;

  @Column({ name: 'model_kind', type: 'text' })
  modelKind: string;

  @Column({ type: 'boolean', default: false })
  active: boolean;

  /** The serving artifact (weights + thresholds), see GenreModelArtifact. */
  @Column({ type: 'jsonb' })
  artifact: unknown;

  @Column({ type: 'double precision', array: true })
  thresholds: number[];

  @Column({ name: 'split_seed', type: 'integer' })
  splitSeed: number;

  /** Movie ids of the train / validation / test split. */
  @Column({ type: 'jsonb' })
  split: { train: number[]; val: number[]; test: number[] };

  @Column({ type: 'jsonb' })
  metrics: unknown;

  @Column({ name: 'training_ms', type: 'integer' })
  trainingMs: number;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt: Date;
}
