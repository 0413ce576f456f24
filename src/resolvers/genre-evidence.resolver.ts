import { Arg, Ctx, FieldResolver, Int, Resolver, Root } from 'type-graphql';
import { PredictionEvidence } from '../schema/evidence';
import { GenrePrediction } from '../schema/genre';
import { SchemaMapper } from '../schema/mapper';
import { Movie } from '../schema/movie';
import type { RequestContext } from '../server/context';
import { GenreEvidenceService } from '../services/genre-evidence.service';
import { checkK } from '../services/similarity.service';

/** The posters behind a prediction of a new poster (predictGenres). */
@Resolver(() => GenrePrediction)
export class PredictionEvidenceResolver {
  constructor(
    private readonly evidenceService: GenreEvidenceService,
    private readonly mapper: SchemaMapper,
  ) {}

  @FieldResolver(() => PredictionEvidence, { description: 'The k nearest labelled posters and how many of them carry each genre' })
  async evidence(@Root() prediction: GenrePrediction, @Arg('k', () => Int, { nullable: true, defaultValue: 10 }) k: number): Promise<PredictionEvidence> {
    const predicted = prediction.genres.filter((g) => g.predicted).map((g) => g.genre);
    return this.mapper.evidence(await this.evidenceService.forVector(prediction.vector, checkK(k), predicted, prediction.movieId));
  }
}

/** The posters behind a stored movie's predicted genres. */
@Resolver(() => Movie)
export class MovieEvidenceResolver {
  constructor(
    private readonly evidenceService: GenreEvidenceService,
    private readonly mapper: SchemaMapper,
  ) {}

  @FieldResolver(() => PredictionEvidence, {
    nullable: true,
    description: 'The k nearest labelled posters to this one and how many of them carry each genre; null when the poster has no embedding',
  })
  async genreEvidence(
    @Root() movie: Movie,
    @Ctx() ctx: RequestContext,
    @Arg('k', () => Int, { nullable: true, defaultValue: 10 }) k: number,
  ): Promise<PredictionEvidence | null> {
    const scores = (await ctx.loaders.prediction.load(Number(movie.id))) ?? [];
    const found = await this.evidenceService.forMovie(
      Number(movie.id),
      checkK(k),
      scores.filter((s) => s.predicted).map((s) => s.genre),
    );
    return found && this.mapper.evidence(found);
  }
}
