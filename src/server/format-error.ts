import { GraphQLFormattedError } from 'graphql';
import { ArgumentValidationError, AuthenticationError, AuthorizationError } from 'type-graphql';
import { AppError } from '../errors';

/** The codes of errors that are the client's to fix or retry: every other error is INTERNAL_SERVER_ERROR. */
export const CLIENT_ERROR_CODES: ReadonlySet<string> = new Set([
  'BAD_USER_INPUT',
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'NOT_FOUND',
  'CONFLICT',
  'SERVICE_UNAVAILABLE',
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_REQUEST',
  'PERSISTED_QUERY_NOT_FOUND',
  'OPERATION_RESOLUTION_FAILURE',
]);

/**
 * Every error leaves with a code in `extensions.code`: our AppErrors keep theirs, type-graphql's
 * auth and validation errors are mapped, and anything unexpected becomes INTERNAL_SERVER_ERROR
 * with its message hidden in production.
 */
export function makeFormatError(production: boolean, log: (msg: string) => void) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    // graphql's "Did you mean …?" hints would list the schema's fields to a client that may not introspect it.
    if (production && formatted.message.includes(' Did you mean ')) formatted = { ...formatted, message: withoutSuggestions(formatted.message) };
    const original = rootCause(error);
    const ext = { ...(formatted.extensions ?? {}) } as Record<string, unknown>;
    if (original instanceof AppError) {
      return {
        ...formatted,
        message: original.message,
        extensions: { ...ext, code: original.code, reason: original.reason, ...(original.details ? { details: original.details } : {}) },
      };
    }
    if (original instanceof ArgumentValidationError) {
      const details = original.extensions?.validationErrors;
      return {
        ...formatted,
        message: 'Argument validation failed',
        extensions: { ...ext, code: 'BAD_USER_INPUT', reason: 'VALIDATION_FAILED', ...(details ? { validationErrors: details } : {}) },
      };
    }
    if (original instanceof AuthenticationError) {
      return { ...formatted, extensions: { ...ext, code: 'UNAUTHENTICATED' } };
    }
    if (original instanceof AuthorizationError) {
      return { ...formatted, extensions: { ...ext, code: 'FORBIDDEN' } };
    }
    // Apollo files every validation-rule error under GRAPHQL_VALIDATION_FAILED; our limits are input errors.
    if (ext.reason === 'QUERY_TOO_DEEP' || ext.reason === 'QUERY_TOO_COSTLY') return { ...formatted, extensions: { ...ext, code: 'BAD_USER_INPUT' } };
    const code = typeof ext.code === 'string' ? ext.code : '';
    if (CLIENT_ERROR_CODES.has(code)) return formatted;
    log(`internal error: ${(original as Error)?.stack ?? String(original)}`);
    if (production) {
      return { message: 'Internal server error', locations: formatted.locations, path: formatted.path, extensions: { code: 'INTERNAL_SERVER_ERROR' } };
    }
    return { ...formatted, extensions: { ...ext, code: 'INTERNAL_SERVER_ERROR' } };
  };
}

/** A validation or coercion message without graphql's suggestions of other field, argument or value names. */
export function withoutSuggestions(message: string): string {
  return message.replace(/ Did you mean [^?]*\?/g, '');
}

/** The error a resolver threw, under however many GraphQL error wrappers (graphql-js, graphql-jit, Apollo). */
function rootCause(error: unknown): unknown {
  let e = error as { originalError?: unknown } | undefined;
  for (let depth = 0; depth < 5 && e && e.originalError && !(e instanceof AppError); depth++) e = e.originalError;
  return e;
}
