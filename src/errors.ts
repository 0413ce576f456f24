/**
 * One error type for the whole service. `code` is what GraphQL clients see in `extensions.code`;
 * `reason` is a finer, stable machine-readable cause (e.g. IMAGE_CORRUPT) that CLI output and logs use too.
 */
export type ErrorCode = 'BAD_USER_INPUT' | 'UNAUTHENTICATED' | 'FORBIDDEN' | 'NOT_FOUND' | 'CONFLICT' | 'SERVICE_UNAVAILABLE' | 'INTERNAL_SERVER_ERROR';

export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly reason?: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'AppError';
  }
}

export const badInput = (reason: string, message: string, details?: Record<string, unknown>) => new AppError('BAD_USER_INPUT', message, reason, details);
export const notFound = (message: string) => new AppError('NOT_FOUND', message, 'NOT_FOUND');

/** `err` itself when it is an AppError; otherwise an INTERNAL_SERVER_ERROR "<what>: <its message>" with `reason`. */
export function asAppError(err: unknown, reason: string, what: string): AppError {
  if (err instanceof AppError) return err;
  return new AppError('INTERNAL_SERVER_ERROR', `${what}: ${(err as Error | undefined)?.message ?? String(err)}`, reason);
}
