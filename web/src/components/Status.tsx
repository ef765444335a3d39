import type { ComponentChildren } from 'preact';
import type { ApiError } from '../api';
import type { Loaded } from './useLoad';

export const Loading = ({ what = 'Loading' }: { what?: string }) => (
  <p class="status" role="status" aria-live="polite">
    {what}…
  </p>
);

export const ErrorMessage = ({ error }: { error: ApiError | Error | null }) =>
  error ? (
    <p class="error" role="alert">
      {error.message}
    </p>
  ) : null;

export const Empty = ({ children }: { children: ComponentChildren }) => <p class="empty">{children}</p>;

/** Loading, the API's error, or the content once there is data. */
export function Show<T>({ state, children }: { state: Loaded<T>; children: (data: T) => ComponentChildren }) {
  if (state.error) return <ErrorMessage error={state.error} />;
  if (state.data === null) return <Loading />;
  return <>{children(state.data)}</>;
}
