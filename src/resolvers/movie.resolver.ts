import { Arg, ID, Int, Query, Resolver } from 'type-graphql';
import { GenreCount } from '../schema/genre';
import { SchemaMapper } from '../schema/mapper';
import { Movie, MovieConnection, MovieFilter } from '../schema/movie';
import { encodeCursor, MovieService } from '../services/movie.service';

@Resolver(() => Movie)
export class MovieResolver {
  constructor(
    private readonly movieService: MovieService,
    private readonly mapper: SchemaMapper,
  ) {}

  @Query(() => MovieConnection)
  async movies(
    @Arg('filter', () => MovieFilter, { nullable: true }) filter?: MovieFilter,
    @Arg('first', () => Int, { nullable: true, defaultValue: 20 }) first = 20,
    @Arg('after', () => String, { nullable: true }) after?: string,
  ): Promise<MovieConnection> {
    const page = await this.movieService.list(this.mapper.filter(filter), first, after ?? undefined);
    const edges = page.movies.map((m) => ({ cursor: encodeCursor(m.id), node: this.mapper.movie(m) }));
    return {
      totalCount: page.totalCount,
      edges,
      pageInfo: { hasNextPage: page.hasNextPage, endCursor: edges.length ? edges[edges.length - 1].cursor : null },
    };
  }

  @Query(() => Movie, { nullable: true })
  async movie(@Arg('id', () => ID, { nullable: true }) id?: string, @Arg('imdbId', () => String, { nullable: true }) imdbId?: string): Promise<Movie | null> {
    const m = await this.movieService.get(id ?? undefined, imdbId ?? undefined);
    return m && this.mapper.movie(m);
  }

  @Query(() => [GenreCount])
  async genres(): Promise<GenreCount[]> {
    return (await this.movieService.genreCounts()).map((c) => this.mapper.genreCount(c));
  }
}
