import { Arg, Ctx, ID, Int, Query, Resolver } from 'type-graphql';
import { GenreCount, Genre } from '../schema/genre';
import { Movie, MovieConnection, MovieFilter } from '../schema/movie';
import { RequestContext } from '../server/context';
import { encodeCursor } from '../services/movie.service';
import { toMovie } from './movie-mapper';
import { toFilterSpec } from './filter';

@Resolver(() => Movie)
export class MovieResolver {
  @Query(() => MovieConnection)
  async movies(
    @Ctx() ctx: RequestContext,
    @Arg('filter', () => MovieFilter, { nullable: true }) filter?: MovieFilter,
    @Arg('first', () => Int, { nullable: true, defaultValue: 20 }) first = 20,
    @Arg('after', () => String, { nullable: true }) after?: string,
  ): Promise<MovieConnection> {
    const page = await ctx.app.movies.list(toFilterSpec(filter), first, after ?? undefined);
    page.movies.forEach((m) => ctx.loaders.movie.prime(m.id, m));
    const edges = page.movies.map((m) => ({ cursor: encodeCursor(m.id), node: toMovie(m, ctx.app.config.server.publicUrl) }));
    return {
      totalCount: page.totalCount,
      edges,
      pageInfo: { hasNextPage: page.hasNextPage, endCursor: edges.length ? edges[edges.length - 1].cursor : null },
    };
  }

  @Query(() => Movie, { nullable: true })
  async movie(
    @Ctx() ctx: RequestContext,
    @Arg('id', () => ID, { nullable: true }) id?: string,
    @Arg('imdbId', () => String, { nullable: true }) imdbId?: string,
  ): Promise<Movie | null> {
    const m = await ctx.app.movies.get(id ?? undefined, imdbId ?? undefined);
    return m ? toMovie(m, ctx.app.config.server.publicUrl) : null;
  }

  @Query(() => [GenreCount])
  async genres(@Ctx() ctx: RequestContext): Promise<GenreCount[]> {
    return (await ctx.app.movies.genreCounts()).map((c) => ({ genre: c.label as Genre, count: c.count }));
  }
}
