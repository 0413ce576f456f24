import type { CombinedError } from 'urql';

export interface ApiProblem {
  message: string;
  /** `extensions.code` of the first GraphQL error, or NETWORK_ERROR when the server was not reached. */
  code: string;
  reason?: string;
}

/** What went wrong with a request, in the API's own terms (its message, code and reason). */
export function describeError(error: CombinedError): ApiProblem {
  const first = error.graphQLErrors[0];
  if (first) {
    const ext = first.extensions as { code?: unknown; reason?: unknown };
    return {
      message: first.message,
      code: typeof ext.code === 'string' ? ext.code : 'GRAPHQL_ERROR',
      reason: typeof ext.reason === 'string' ? ext.reason : undefined,
    };
  }
  return { message: error.networkError?.message ?? error.message, code: 'NETWORK_ERROR' };
}
