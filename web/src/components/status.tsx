import type { CombinedError } from 'urql';
import { describeError } from '../api/errors';

/** A polite live region: screen readers hear that something is loading, sighted people see a spinner. */
export function Loading({ what }: { what: string }) {
  return (
    <p className="loading" role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" />
      Loading {what}…
    </p>
  );
}

/** A failed request, in the API's terms, with a way to try again. */
export function ErrorNotice({ error, what, onRetry }: { error: CombinedError; what: string; onRetry?: () => void }) {
  const problem = describeError(error);
  return (
    <div className="error" role="alert">
      <p>
        <strong>Could not {what}.</strong> {problem.message}
      </p>
      <p className="error-code">
        <code>{problem.code}</code>
        {problem.reason && <code>{problem.reason}</code>}
      </p>
      {onRetry && (
        <button type="button" onClick={onRetry}>
          Try again
        </button>
      )}
    </div>
  );
}

export function EmptyNote({ children }: { children: React.ReactNode }) {
  return <p className="empty">{children}</p>;
}
