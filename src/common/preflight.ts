import Redis from 'ioredis';
import { Client } from 'pg';

/** Throws one readable line (what is down, and the fix) when Postgres or Redis does not answer. */
export async function assertServicesUp(databaseUrl: string, redisUrl: string): Promise<void> {
  const admin = new URL(databaseUrl);
  admin.pathname = '/postgres';
  const pg = new Client({ connectionString: admin.toString(), connectionTimeoutMillis: 3000 });
  try {
    await pg.connect();
  } catch {
    throw new Error(
      `PostgreSQL is not reachable at ${admin.host}: start it (pg_ctlcluster <version> main start) or run \`docker compose up -d postgres redis\`, or set DATABASE_URL.`,
    );
  } finally {
    await pg.end().catch(() => undefined);
  }
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 3000 });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    await redis.ping();
  } catch {
    throw new Error(
      `Redis is not reachable at ${new URL(redisUrl).host}: start it (redis-server --daemonize yes) or run \`docker compose up -d postgres redis\`, or set REDIS_URL.`,
    );
  } finally {
    redis.disconnect();
  }
}
