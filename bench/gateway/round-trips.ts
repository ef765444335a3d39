/** What one request costs the shared services: Redis commands (INFO commandstats) and Postgres transactions, per window. */
import Redis from 'ioredis';
import type { Client } from 'pg';

export interface RoundTrips {
  /** Redis commands per answered request, all commands and the busiest few. */
  redis_per_request: number;
  redis_top: Record<string, number>;
  /** Committed and rolled-back Postgres transactions per answered request (one autocommit statement is one). */
  pg_xacts_per_request: number;
}

async function commandCalls(redis: Redis): Promise<Map<string, number>> {
  const calls = new Map<string, number>();
  for (const line of (await redis.info('commandstats')).split('\n')) {
    const m = /^cmdstat_([^:]+):calls=(\d+)/.exec(line.trim());
    if (m) calls.set(m[1], Number(m[2]));
  }
  return calls;
}

async function xacts(db: Client, dbName: string): Promise<number> {
  const { rows } = await db.query('SELECT xact_commit + xact_rollback AS n FROM pg_stat_database WHERE datname = $1', [dbName]);
  return Number(rows[0]?.n ?? 0);
}

/** Starts counting; the returned function stops and divides by the answered requests. */
export async function countRoundTrips(redis: Redis, db: Client, dbName: string): Promise<(answered: number) => Promise<RoundTrips>> {
  // pg_stat_database is a snapshot per transaction: read it fresh each time
  await db.query('SELECT pg_stat_clear_snapshot()');
  const [r0, x0] = [await commandCalls(redis), await xacts(db, dbName)];
  return async (answered) => {
    await db.query('SELECT pg_stat_clear_snapshot()');
    const [r1, x1] = [await commandCalls(redis), await xacts(db, dbName)];
    const per = (n: number) => (answered ? Math.round((n / answered) * 100) / 100 : NaN);
    const delta = [...r1].map(([cmd, n]) => [cmd, n - (r0.get(cmd) ?? 0)] as const).filter(([cmd, n]) => n > 0 && cmd !== 'info');
    delta.sort((a, b) => b[1] - a[1]);
    return {
      redis_per_request: per(delta.reduce((s, [, n]) => s + n, 0)),
      redis_top: Object.fromEntries(delta.slice(0, 5).map(([cmd, n]) => [cmd, per(n)])),
      // the bench's own few statements in the window are counted too: noise of a handful in thousands
      pg_xacts_per_request: per(x1 - x0),
    };
  };
}
