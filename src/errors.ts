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

/** An error as it crosses a worker thread's message port (structured clone drops an Error's class and fields). */
export interface WireError {
  message: string;
  /** Set for an AppError. */
  code?: ErrorCode;
  reason?: string;
  details?: Record<string, unknown>;
}

/** `err` as a WireError: an AppError keeps its code, reason and details; anything else its message. */
export function toWireError(err: unknown): WireError {
  if (err instanceof AppError) return { message: err.message, code: err.code, reason: err.reason, details: err.details };
  return { message: (err as Error | undefined)?.message ?? String(err) };
}

/** The error a WireError stands for: an AppError again, or a plain Error with the message. */
export function fromWireError(w: WireError): Error {
  return w.code ? new AppError(w.code, w.message, w.reason, w.details) : new Error(w.message);
}
