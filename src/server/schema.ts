import 'reflect-metadata';
import { GraphQLSchema } from 'graphql';
import { AuthChecker, buildSchema } from 'type-graphql';
import type { ServiceContainer } from '../container';
import { AppError } from '../errors';
import { AdminResolver } from '../resolvers/admin.resolver';
import { MovieEvidenceResolver, PredictionEvidenceResolver } from '../resolvers/genre-evidence.resolver';
import { InfoResolver } from '../resolvers/info.resolver';
import { MovieFieldsResolver } from '../resolvers/movie-fields.resolver';
import { MovieResolver } from '../resolvers/movie.resolver';
import { PosterResolver } from '../resolvers/poster.resolver';
import { RecommendationResolver } from '../resolvers/recommendation.resolver';
import type { RequestContext } from './context';

/** Every resolver class of the API. */
export const RESOLVERS = [
  MovieResolver,
  MovieFieldsResolver,
  PosterResolver,
  RecommendationResolver,
  PredictionEvidenceResolver,
  MovieEvidenceResolver,
  AdminResolver,
  InfoResolver,
] as const;

/** `@Authorized()` needs any key; `@Authorized('admin')` needs an admin key. */
export const authChecker: AuthChecker<RequestContext> = ({ context }, roles) => {
  // No key at all is an authentication problem; a key with the wrong role is an authorization one.
  if (!context.role) throw new AppError('UNAUTHENTICATED', 'this operation needs an API key (Authorization: Bearer <key>)', 'NO_API_KEY');
  return roles.length === 0 || roles.includes(context.role);
};

/**
 * The schema; resolvers are built by `container`, which hands them their services. They are built here,
 * once, so that a service missing from the container fails the start rather than a first request.
 * Without a container it is the schema's shape only, for printing schema.graphql (no service, no query).
 */
export function buildMarqueeSchema(container?: ServiceContainer): Promise<GraphQLSchema> {
  if (container) for (const resolver of RESOLVERS) container.get<unknown>(resolver);
  return buildSchema({
    resolvers: RESOLVERS,
    container,
    authChecker,
    authMode: 'error',
    validate: { forbidUnknownValues: false },
    emitSchemaFile: false,
  });
}
