import { useState } from 'preact/hooks';
import { ApiError } from '../api';

/** A button's call: busy while it runs, the API's error message if it fails. */
export function useAction() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  async function run<T>(call: () => Promise<T>): Promise<T | undefined> {
    setBusy(true);
    setError(null);
    try {
      return await call();
    } catch (err) {
      setError(err instanceof ApiError ? err : new ApiError(0, String((err as Error)?.message ?? err)));
      return undefined;
    } finally {
      setBusy(false);
    }
  }
  return { busy, error, run };
}
