/** After attempt n (1-based) fails, attempt n+1 waits base × 2^(n−1): 5 s, 10 s, 20 s, ... with the default base. */
export const retryDelayMs = (attemptsMade: number, baseMs: number): number => baseMs * 2 ** Math.max(0, attemptsMade - 1);

/** When each attempt starts, in ms after the first one (attempt 1 at 0). */
export function attemptOffsetsMs(maxAttempts: number, baseMs: number): number[] {
  const offsets = [0];
  for (let n = 1; n < maxAttempts; n++) offsets.push(offsets[n - 1] + retryDelayMs(n, baseMs));
  return offsets;
}
