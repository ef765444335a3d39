export class TimeoutError extends Error {}

/**
 * `promise`, or a TimeoutError once `ms` have passed. For Redis calls made through BullMQ, whose
 * connections cannot carry ioredis' commandTimeout (a worker's blocking commands would break).
 */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(`${what}: no answer from Redis in ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
