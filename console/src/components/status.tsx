import type { ComponentChildren } from 'preact';
import { describeError } from '../lib/errors.js';

/** The error state of every screen: the API's message and instance, and what to do about it. */
export function ErrorPanel({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  const view = describeError(error);
  return (
    <div class="error-panel" role="alert">
      <p class="error-title">{view.title}</p>
      <p class="error-message">{view.message}</p>
      {view.details && (
        <ul class="error-details">
          {view.details.map((detail) => (
            <li key={detail.field}>
              <code>{detail.field}</code>: {detail.message}
            </li>
          ))}
        </ul>
      )}
      {view.hint && <p class="error-hint">{view.hint}</p>}
      {view.instance && (
        <p class="error-instance">
          Instance <code>{view.instance}</code> (quote it to support)
        </p>
      )}
      {onRetry && (
        <button type="button" onClick={onRetry}>
          Try again
        </button>
      )}
    </div>
  );
}

export function Loading({ label = 'Loading…' }: { label?: string }) {
  return (
    <p class="loading" role="status" aria-live="polite">
      <span class="spinner" aria-hidden="true" /> {label}
    </p>
  );
}

export function Empty({ children }: { children: ComponentChildren }) {
  return <div class="empty">{children}</div>;
}
