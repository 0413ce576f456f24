import { GraphQLSchema } from 'graphql';
import { AuthChecker, buildSchema } from 'type-graphql';
import { AppError } from '../errors';
import { MovieResolver } from '../resolvers/movie.resolver';
import { RequestContext } from './context';

/** `@Authorized()` needs any key; `@Authorized('admin')` needs an admin key. */
export const authChecker: AuthChecker<RequestContext> = ({ context }, roles) => {
  // No key at all is an authentication problem; a key with the wrong role is an authorization one.
  if (!context.role) throw new AppError('UNAUTHENTICATED', 'this operation needs an API key (Authorization: Bearer <key>)', 'NO_API_KEY');
  return roles.length === 0 || roles.includes(context.role);
};

export function buildMarqueeSchema(resolvers: Function[] = []): Promise<GraphQLSchema> {
  return buildSchema({
    resolvers: [MovieResolver, ...resolvers] as unknown as [Function, ...Function[]],
    authChecker,
    authMode: 'error',
    validate: { forbidUnknownValues: false },
    emitSchemaFile: false,
  });
}
