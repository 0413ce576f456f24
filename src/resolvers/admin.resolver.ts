import { Arg, Authorized, Ctx, ID, Mutation, Query, Resolver } from 'type-graphql';
import { TrainingJobEntity } from '../db/entities';
import { ModelVersionSummary } from '../repositories/model-version.repository';
import { AddMovieInput, ModelMetrics, ModelVersion, RetrainInput, TrainingJob, TrainingJobStatus } from '../schema/admin';
import { Movie } from '../schema/movie';
import { RequestContext } from '../server/context';
import { parseMovieId } from '../services/movie.service';
import { toMovie } from './movie-mapper';

interface StoredReport {
  chosen?: { model: string; scheme: string };
  rows?: ModelMetrics[];
}

function chosenMetrics(report: unknown): ModelMetrics | null {
  const r = report as StoredReport | null;
  return r?.rows?.find((row) => row.model === r.chosen?.model && row.scheme === r.chosen?.scheme) ?? null;
}

export function toModelVersion(v: ModelVersionSummary): ModelVersion {
  return {
    id: String(v.id), name: v.name, backbone: v.backbone, kind: v.modelKind, active: v.active, splitSeed: v.splitSeed,
    trainingMs: v.trainingMs, thresholds: v.thresholds.map(Number), metrics: chosenMetrics(v.metrics), report: v.metrics, createdAt: v.createdAt,
  };
}

function toTrainingJob(j: TrainingJobEntity): TrainingJob {
  return {
    id: String(j.id), status: j.status as TrainingJobStatus, progress: j.progress, stage: j.stage,
    metrics: (j.metrics as ModelMetrics | null) ?? null, modelVersionId: j.modelVersionId ? String(j.modelVersionId) : null,
    error: j.error, createdAt: j.createdAt, startedAt: j.startedAt, finishedAt: j.finishedAt,
  };
}

/** Admin-only operations (API key with role admin). */
@Resolver()
export class AdminResolver {
  @Authorized('admin')
  @Mutation(() => TrainingJob, { description: 'Starts retraining in the background; while a job is queued or running, returns that job instead' })
  async retrain(@Ctx() ctx: RequestContext, @Arg('input', () => RetrainInput, { nullable: true }) input?: RetrainInput): Promise<TrainingJob> {
    return toTrainingJob(await ctx.app.training.start({ epochs: input?.epochs, seed: input?.seed, activate: input?.activate ?? false }));
  }

  @Authorized('admin')
  @Query(() => TrainingJob, { nullable: true })
  async trainingJob(@Ctx() ctx: RequestContext, @Arg('id', () => ID) id: string): Promise<TrainingJob | null> {
    const job = await ctx.app.training.repo.get(parseMovieId(id));
    return job ? toTrainingJob(job) : null;
  }

  @Authorized('admin')
  @Query(() => [ModelVersion])
  async modelVersions(@Ctx() ctx: RequestContext): Promise<ModelVersion[]> {
    return (await ctx.app.models.versions.list()).map(toModelVersion);
  }

  @Authorized('admin')
  @Mutation(() => ModelVersion, { description: 'Makes this version the one predictions use (also a rollback)' })
  async activateModelVersion(@Ctx() ctx: RequestContext, @Arg('id', () => ID) id: string): Promise<ModelVersion> {
    return toModelVersion(await ctx.app.models.activate(parseMovieId(id)));
  }

  @Authorized('admin')
  @Mutation(() => Movie, { description: 'Adds a movie; its poster is stored, embedded and predicted before this returns' })
  async addMovie(@Ctx() ctx: RequestContext, @Arg('input', () => AddMovieInput) input: AddMovieInput): Promise<Movie> {
    return toMovie(await ctx.app.movieAdmin.add(input), ctx.app.config.server.publicUrl);
  }

  @Authorized('admin')
  @Mutation(() => Boolean)
  async deleteMovie(@Ctx() ctx: RequestContext, @Arg('id', () => ID) id: string): Promise<boolean> {
    return ctx.app.movieAdmin.delete(id);
  }
}
