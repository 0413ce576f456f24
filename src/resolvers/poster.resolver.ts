import { Arg, Int, Query, Resolver } from 'type-graphql';
import { GenrePrediction } from '../schema/genre';
import { SchemaMapper } from '../schema/mapper';
import { MovieFilter } from '../schema/movie';
import { PosterInput, SimilarMovie } from '../schema/prediction';
import { GenreModelService } from '../services/genre-model.service';
import { PosterQueryService } from '../services/poster-query.service';
import { checkK, SimilarityService } from '../services/similarity.service';

/** What a poster says: its genres and the posters that look like it. */
@Resolver()
export class PosterResolver {
  constructor(
    private readonly posterQueries: PosterQueryService,
    private readonly models: GenreModelService,
    private readonly similarity: SimilarityService,
    private readonly mapper: SchemaMapper,
  ) {}

  @Query(() => GenrePrediction, { description: 'Genre probabilities of a poster under the active model' })
  async predictGenres(@Arg('poster', () => PosterInput, { validate: false }) poster: PosterInput): Promise<GenrePrediction> {
    const resolved = await this.posterQueries.resolve(poster);
    return this.mapper.genrePrediction(await this.models.predictPoster(resolved), resolved);
  }

  @Query(() => [SimilarMovie])
  async similarPosters(
    @Arg('poster', () => PosterInput, { validate: false }) poster: PosterInput,
    @Arg('k', () => Int, { nullable: true, defaultValue: 10 }) k: number,
    @Arg('filter', () => MovieFilter, { nullable: true }) filter?: MovieFilter,
  ): Promise<SimilarMovie[]> {
    const kk = checkK(k);
    const resolved = await this.posterQueries.resolve(poster);
    // A stored movie's poster (by id, or uploaded again) uses its precomputed neighbours.
    const hits = resolved.movieId
      ? await this.similarity.similarToMovie(resolved.movieId, kk, this.mapper.filter(filter))
      : await this.similarity.similarToVector(resolved.vector, kk, this.mapper.filter(filter));
    return this.mapper.similar(hits);
  }
}
