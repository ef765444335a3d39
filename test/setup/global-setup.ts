import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { assertServicesUp } from '../../src/common/preflight';
import { Env } from '../../src/config/env';

/** One fresh, migrated database and one BullMQ prefix per test run. */
export default async function globalSetup() {
  const base = process.env.DATABASE_URL ?? new Env().DATABASE_URL;
  const redisUrl = process.env.REDIS_URL ?? new Env().REDIS_URL;
  try {
    await assertServicesUp(base, redisUrl);
  } catch (err) {
    // One line that says what is down and how to fix it, not a stack trace.
    console.error(`\n${(err as Error).message}\n`);
    process.exit(1);
  }
  const run = `${Date.now().toString(36)}_${process.pid}`;
  const url = new URL(base);
  url.pathname = `/tollgate_test_${run}`;
  process.env.DATABASE_URL = url.toString();
  process.env.REDIS_URL = redisUrl;
  process.env.QUEUE_PREFIX = `tollgate-test-${run}`;
  process.env.ADMIN_TOKEN = `test-admin-token-${run}`;
  process.env.NODE_ENV = 'test';
  process.env.LOG_LEVEL = process.env.LOG_LEVEL ?? 'silent';
  // The same command users run (in its own process: the wasm engine would keep Jest alive).
  execFileSync(process.execPath, [path.join(__dirname, '../../scripts/migrate.mjs')], { env: process.env, stdio: 'pipe' });
}
