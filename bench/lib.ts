/** Shared by the bench scripts: a throw-away database, seeded usage events, CPU accounting. */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import Redis from 'ioredis';
import { Client } from 'pg';

export const ROOT = path.join(__dirname, '..');
export const BASE_DB = process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/tollgate';
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
export const PRICE = { input_price: '0.25', output_price: '2', cached_input_price: '0.025' };

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
export const log = (msg: string) => console.error(`[bench ${new Date().toISOString().slice(11, 23)}] ${msg}`);

/** A fresh database named `name`, migrated with `scripts/migrate.mjs` (the users' command). */
export function createDatabase(name: string): string {
  const u = new URL(BASE_DB);
  u.pathname = `/${name}`;
  const url = u.toString();
  execFileSync(process.execPath, [path.join(ROOT, 'scripts', 'migrate.mjs')], { env: { ...process.env, DATABASE_URL: url }, stdio: 'pipe' });
  return url;
}

export async function dropDatabase(url: string) {
  const name = new URL(url).pathname.slice(1);
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const pg = new Client({ connectionString: admin.toString() });
  await pg.connect();
  await pg.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  await pg.end();
}

export async function deleteRedisKeys(prefix: string) {
  const redis = new Redis(REDIS_URL);
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    if (keys.length) await redis.del(...keys);
    cursor = next;
  } while (cursor !== '0');
  await redis.quit();
}

/** The model (with its price) the seeded events use; created once per database. */
export async function ensureModel(db: Client, model: string) {
  await db.query(
    `WITH m AS (INSERT INTO models (id, provider) VALUES ($1, 'simulated') ON CONFLICT DO NOTHING RETURNING id)
     INSERT INTO prices (id, model_id, input_price, cached_input_price, output_price, effective_from)
     SELECT gen_random_uuid(), m.id, $2, $3, $4, '2020-01-01' FROM m`,
    [model, PRICE.input_price, PRICE.cached_input_price, PRICE.output_price],
  );
}

/**
 * A tenant (1,000,000 of credits, as a ledger credit) with `n` uncharged usage events of `model`,
 * each holding a reservation as an answered request does. Returns the event ids in creation order.
 */
export async function seedEvents(db: Client, model: string, n: number, tag: string) {
  await ensureModel(db, model);
  const tenantId = (await db.query(`INSERT INTO tenants (id, name, balance) VALUES (gen_random_uuid(), $1, 1000000) RETURNING id`, [`bench-${tag}`])).rows[0]
    .id as string;
  await db.query(
    `INSERT INTO ledger_entries (id, tenant_id, kind, amount, balance_after, reference) VALUES (gen_random_uuid(), $1, 'credit', 1000000, 1000000, 'bench')`,
    [tenantId],
  );
  const apiKeyId = (
    await db.query(`INSERT INTO api_keys (id, tenant_id, name, hash, prefix) VALUES (gen_random_uuid(), $1, 'bench', $2, 'sk-tg-bench') RETURNING id`, [
      tenantId,
      randomBytes(32).toString('hex'),
    ])
  ).rows[0].id as string;
  await db.query(
    `INSERT INTO reservations (id, tenant_id, amount, expires_at)
     SELECT md5($3 || 'r' || i)::uuid, $1, 0.001, now() + interval '1 day' FROM generate_series(1, $2::int) i`,
    [tenantId, n, tag],
  );
  // Varied usage: cached and reasoning tokens on some events, so every part of the formula runs.
  await db.query(
    `INSERT INTO usage_events (id, tenant_id, api_key_id, response_id, model, input_tokens, cached_tokens, output_tokens,
                               reasoning_tokens, requested_at, reservation_id, created_at)
     SELECT md5($5 || 'e' || i)::uuid, $1, $2, 'resp_bench_' || $5 || '_' || i, $3, 100 + i % 900, (i % 7) * 10, 16 + i % 48, (i % 3) * 5,
            now() - interval '1 minute', md5($5 || 'r' || i)::uuid, now() - interval '1 minute'
       FROM generate_series(1, $4::int) i`,
    [tenantId, apiKeyId, model, n, tag],
  );
  await db.query(`UPDATE tenants SET reserved = 0.001 * $2::int WHERE id = $1`, [tenantId, n]);
  await db.query('ANALYZE usage_events; ANALYZE reservations; ANALYZE tenants');
  const ids = (await db.query(`SELECT id FROM usage_events WHERE tenant_id = $1 ORDER BY created_at, id`, [tenantId])).rows.map((r) => r.id as string);
  return { tenantId, apiKeyId, ids };
}

/** balance = sum(ledger), nothing reserved, one charge per event: the invariants, as facts. */
export async function ledgerCheck(db: Client, tenantId: string) {
  return (
    await db.query(
      `SELECT (SELECT count(*)::int FROM ledger_entries WHERE tenant_id = $1 AND kind = 'charge') AS entries,
              (SELECT count(DISTINCT usage_event_id)::int FROM ledger_entries WHERE tenant_id = $1 AND kind = 'charge') AS events,
              (SELECT count(*)::int FROM usage_events WHERE tenant_id = $1 AND charged_at IS NULL) AS uncharged,
              (SELECT balance = (SELECT sum(amount) FROM ledger_entries WHERE tenant_id = $1) FROM tenants WHERE id = $1) AS balance_is_ledger,
              (SELECT reserved::text FROM tenants WHERE id = $1) AS reserved`,
      [tenantId],
    )
  ).rows[0] as { entries: number; events: number; uncharged: number; balance_is_ledger: boolean; reserved: string };
}

const TICK = 100; // getconf CLK_TCK on Linux
/** CPU seconds (user + system) used so far by the processes `pick` selects, from /proc. */
export function cpuSeconds(pick: (pid: number, comm: string) => boolean): number {
  let ticks = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      if (!pick(Number(entry), comm)) continue;
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(fields[11]) + Number(fields[12]); // utime, stime
    } catch {
      /* gone */
    }
  }
  return ticks / TICK;
}

export const isPostgres = (_: number, comm: string) => comm === 'postgres';
export const isRedis = (_: number, comm: string) => comm.startsWith('redis-server');

export function quantiles(sorted: number[], qs: number[]) {
  return qs.map((q) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] : NaN));
}

export const round = (n: number, d = 1) => (Number.isFinite(n) ? +n.toFixed(d) : n);

/**
 * Runs a bench's `main`, then `cleanup` exactly once, whether it ended, failed or was interrupted
 * (SIGINT/SIGTERM), and exits with the matching code.
 */
export function runBench(main: () => Promise<void>, cleanup: () => Promise<void>) {
  let cleaned = false;
  const finish = async (code: number) => {
    if (!cleaned) {
      cleaned = true;
      await cleanup().catch((err) => console.error(`cleanup: ${err?.message ?? err}`));
    }
    process.exit(code);
  };
  process.on('SIGINT', () => void finish(130));
  process.on('SIGTERM', () => void finish(143));
  main().then(
    () => finish(0),
    (err) => {
      console.error(`bench failed: ${err?.stack ?? err}`);
      void finish(1);
    },
  );
}
