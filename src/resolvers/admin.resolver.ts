import { Arg, Authorized, ID, Mutation, Query, Resolver } from 'type-graphql';
import { parseModelVersionId, parseMovieId, parseTrainingJobId } from '../domain/ids';
import { AddMovieInput, ModelVersion, RetrainInput, TrainingJob } from '../schema/admin';
import { SchemaMapper } from '../schema/mapper';
import { Movie } from '../schema/movie';
import { GenreModelService } from '../services/genre-model.service';
import { MovieAdminService } from '../services/movie-admin.service';
import { TrainingJobService } from '../services/training-job.service';

/** Admin-only operations (API key with role admin). */
@Resolver()
export class AdminResolver {
  constructor(
    private readonly training: TrainingJobService,
    private readonly models: GenreModelService,
    private readonly movieAdmin: MovieAdminService,
    private readonly mapper: SchemaMapper,
  ) {}

  @Authorized('admin')
  @Mutation(() => TrainingJob, { description: 'Starts retraining in the background; while a job is queued or running, returns that job instead' })
  async retrain(@Arg('input', () => RetrainInput, { nullable: true }) input?: RetrainInput): Promise<TrainingJob> {
    return this.mapper.trainingJob(await this.training.start({ epochs: input?.epochs, seed: input?.seed, activate: input?.activate ?? false }));
  }

  @Authorized('admin')
  @Query(() => TrainingJob, { nullable: true })
  async trainingJob(@Arg('id', () => ID) id: string): Promise<TrainingJob | null> {
    const job = await this.training.find(parseTrainingJobId(id));
    return job && this.mapper.trainingJob(job);
  }

  @Authorized('admin')
  @Query(() => [ModelVersion])
  async modelVersions(): Promise<ModelVersion[]> {
    return (await this.models.listVersions()).map((v) => this.mapper.modelVersion(v));
  }

  @Authorized('admin')
  @Mutation(() => ModelVersion, { description: 'Makes this version the one predictions use (also a rollback)' })
  async activateModelVersion(@Arg('id', () => ID) id: string): Promise<ModelVersion> {
    return this.mapper.modelVersion(await this.models.activate(parseModelVersionId(id)));
  }

  @Authorized('admin')
  @Mutation(() => Movie, { description: 'Adds a movie; its poster is stored, embedded and predicted before this returns' })
  async addMovie(@Arg('input', () => AddMovieInput) input: AddMovieInput): Promise<Movie> {
    return this.mapper.movie(await this.movieAdmin.add(input));
  }

  @Authorized('admin')
  @Mutation(() => Boolean)
  async deleteMovie(@Arg('id', () => ID) id: string): Promise<boolean> {
    return this.movieAdmin.delete(parseMovieId(id));
  }
}
