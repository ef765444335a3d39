import Redis from 'ioredis';
import { Client } from 'pg';

/** Drops the run's database and its Redis keys (KEEP_TEST_DB=1 keeps the database to look at). */
export default async function globalTeardown() {
  const url = new URL(process.env.DATABASE_URL!);
  const name = url.pathname.slice(1);
  if (name.startsWith('tollgate_test_') && !process.env.KEEP_TEST_DB) {
    url.pathname = '/postgres';
    const pg = new Client({ connectionString: url.toString() });
    await pg.connect();
    await pg.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await pg.end();
  }
  const prefix = process.env.QUEUE_PREFIX!;
  const redis = new Redis(process.env.REDIS_URL!);
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    if (keys.length) await redis.del(...keys);
    cursor = next;
  } while (cursor !== '0');
  await redis.quit();
}
