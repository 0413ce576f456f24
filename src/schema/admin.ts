import { IsOptional, Matches, Max, MaxLength, Min, ArrayMaxSize } from 'class-validator';
import { GraphQLJSON } from 'graphql-scalars';
import { Field, Float, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { IMDB_ID } from '../domain/movie';
import { MAX_IMAGE_BASE64_LENGTH } from '../ml/image/formats';

export enum TrainingJobStatus {
  QUEUED = 'QUEUED',
  RUNNING = 'RUNNING',
  SUCCEEDED = 'SUCCEEDED',
  FAILED = 'FAILED',
  INTERRUPTED = 'INTERRUPTED',
}
registerEnumType(TrainingJobStatus, { name: 'TrainingJobStatus' });

@InputType()
export class RetrainInput {
  @Field(() => Int, { nullable: true }) @IsOptional() @Min(1) @Max(500) epochs?: number;
  @Field(() => Int, { nullable: true }) @IsOptional() @Min(0) @Max(2_147_483_647) seed?: number;
  @Field(() => Boolean, { nullable: true, description: 'Activate the new version when training succeeds' }) activate?: boolean;
}

@ObjectType({ description: 'Test-split metrics of a model under its threshold scheme' })
export class ModelMetrics {
  @Field() model: string;
  @Field() scheme: string;
  @Field(() => Float) f1Macro: number;
  @Field(() => Float) f1Micro: number;
  @Field(() => Float) precisionMacro: number;
  @Field(() => Float) recallMacro: number;
  @Field(() => Float) hamming: number;
}

@ObjectType()
export class ModelVersion {
  @Field(() => ID) id: string;
  @Field() name: string;
  @Field() backbone: string;
  @Field() kind: string;
  @Field() active: boolean;
  @Field(() => Int) splitSeed: number;
  @Field(() => Int) trainingMs: number;
  @Field(() => [Float]) thresholds: number[];
  @Field(() => ModelMetrics, { nullable: true }) metrics: ModelMetrics | null;
  @Field(() => GraphQLJSON, { description: 'The full comparison table and per-class report' }) report: unknown;
  @Field() createdAt: Date;
}

@ObjectType()
export class TrainingJob {
  @Field(() => ID) id: string;
  @Field(() => TrainingJobStatus) status: TrainingJobStatus;
  @Field(() => Float, { description: '0 to 1' }) progress: number;
  @Field(() => String, { nullable: true }) stage: string | null;
  @Field(() => ModelMetrics, { nullable: true }) metrics: ModelMetrics | null;
  @Field(() => ID, { nullable: true }) modelVersionId: string | null;
  @Field(() => String, { nullable: true }) error: string | null;
  @Field(() => Int, { description: 'How many times a process started it (more than 1: its process died and it ran again)' }) attempts: number;
  @Field(() => String, { nullable: true, description: 'The process running (or that last ran) it: host:pid' }) worker: string | null;
  @Field() createdAt: Date;
  @Field(() => Date, { nullable: true }) startedAt: Date | null;
  @Field(() => Date, { nullable: true }) finishedAt: Date | null;
}

@InputType()
export class AddMovieInput {
  @Field() @MaxLength(500) title: string;
  @Field(() => Int, { nullable: true }) @IsOptional() @Min(1800) @Max(2200) year?: number;
  @Field(() => String, { nullable: true }) @IsOptional() @Matches(IMDB_ID) imdbId?: string;
  @Field(() => String, { nullable: true }) @IsOptional() @MaxLength(20) ageRating?: string;
  @Field(() => Int, { nullable: true }) @IsOptional() @Min(1) @Max(2000) runtimeMinutes?: number;
  @Field(() => String, { nullable: true }) @IsOptional() @MaxLength(10_000) storyline?: string;
  @Field(() => [String], { nullable: true, description: 'Raw genre names (e.g. "Sci-Fi"); mapped to labels' })
  @IsOptional()
  @ArrayMaxSize(30)
  genres?: string[];
  // Room for a data: URL prefix; the service's own check of the decoded size is exact.
  @Field(() => String, { nullable: true }) @IsOptional() @MaxLength(MAX_IMAGE_BASE64_LENGTH + 1024) posterBase64?: string;
  @Field(() => String, { nullable: true }) @IsOptional() @MaxLength(2048) posterUrl?: string;
}

@ObjectType()
export class SkippedProvider {
  @Field() provider: string;
  @Field() reason: string;
}

@ObjectType({ description: "The recommender's fitted model in this server (recommendations, Movie.alsoLiked)" })
export class RecommenderInfo {
  @Field({ description: 'A fitted model answers (until the first fit, recommendations come from posters alone)' }) ready: boolean;
  @Field({ description: 'A fit is running (in a worker thread; the model in place keeps answering)' }) fitting: boolean;
  @Field(() => Int, { description: 'Fits completed by this server since it started (0 before the first): a newer model has a larger version' })
  version: number;
  @Field(() => Int, { description: 'People with at least one like or dislike the model was fitted on' }) people: number;
  @Field(() => Int, { description: 'Movies somebody liked' }) items: number;
  @Field(() => Int) likes: number;
  @Field(() => Date, { nullable: true }) fittedAt: Date | null;
  @Field(() => Float, { nullable: true, description: 'How long the last fit took' }) fitSeconds: number | null;
  @Field(() => String, { nullable: true, description: 'The stored ratings it was fitted on, as "count:latest write" (changes with every rating)' })
  interactionsStamp: string | null;
}

@ObjectType({ description: 'What this server runs on' })
export class ServerInfo {
  @Field() version: string;
  @Field() database: string;
  @Field() backbone: string;
  @Field(() => String, { nullable: true, description: 'Execution provider the embedder got (null until it first starts)' }) provider: string | null;
  @Field(() => [SkippedProvider]) skippedProviders: SkippedProvider[];
  @Field(() => String, { nullable: true }) activeModelVersion: string | null;
  @Field(() => Int) indexedPosters: number;
  @Field() indexGraphReady: boolean;
  @Field(() => Int, {
    description: 'Filters (one genre each, computed after the graph; any filter that keeps coming back) whose "like this movie" results are precomputed lists',
  })
  indexFilteredLists: number;
  @Field({ description: "The graph is built and the genre filters' lists are computed (or skipped): warm-up is over" }) indexWarm: boolean;
  @Field(() => RecommenderInfo) recommender: RecommenderInfo;
}
