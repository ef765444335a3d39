import { getQueueToken } from '@nestjs/bullmq';
import type { Queue } from 'bullmq';
import type { Client } from 'pg';
import { MONTHLY_INVOICES_SCHEDULER, QUEUES } from '../src/queues/queues';
import { ensureSeedModel, SEED_MODEL, startApp, TestApp } from './support/harness';
import { PrivateRedis, startPrivateRedis } from './support/private-redis';
import { waitFor } from './support/wait';
import { openDb } from './support/db';

/** One call with a deadline: a hang is reported as such instead of stalling the suite. */
async function timed(t: TestApp, method: string, path: string, opts: { token?: string; body?: unknown; deadlineMs?: number } = {}) {
  const started = Date.now();
  const res = await fetch(t.baseUrl + path, {
    method,
    headers: { authorization: `Bearer ${opts.token ?? t.env.ADMIN_TOKEN}`, ...(opts.body !== undefined && { 'content-type': 'application/json' }) },
    body: opts.body !== undefined ? JSON.stringify(opts.body) : undefined,
    signal: AbortSignal.timeout(opts.deadlineMs ?? 4000),
  }).catch((err) => {
    throw new Error(`${method} ${path}: no answer in ${Date.now() - started} ms (${err.name})`);
  });
  const text = await res.text();
  const json = res.headers.get('content-type')?.startsWith('application/json');
  return { status: res.status, headers: res.headers, body: json ? JSON.parse(text) : text, ms: Date.now() - started };
}

const ask = (t: TestApp, key: string) => timed(t, 'POST', '/v1/responses', { token: key, body: { model: SEED_MODEL, input: 'hi' } });

function metric(text: string, name: string): number {
  return text
    .split('\n')
    .filter((l) => l.startsWith(name) && !l.startsWith('#'))
    .reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
}

describe('Redis faults (a private redis-server, stopped, flushed and restarted for real)', () => {
  let redis: PrivateRedis;
  let t: TestApp;
  let db: Client;

  beforeAll(async () => {
    redis = await startPrivateRedis();
    t = await startApp({ REDIS_URL: redis.url, CHARGE_RELAY_AFTER_MS: '1000', CHARGE_RELAY_EVERY_MS: '300', INVOICE_SWEEP_EVERY_MS: '300' });
    await ensureSeedModel(t);
    db = await openDb();
  }, 60_000);
  afterEach(() => redis.resume());
  afterAll(async () => {
    redis?.resume();
    await db?.end();
    await t?.close();
    await redis?.kill();
  }, 30_000);

  async function limitedKey(rpm: number) {
    const tenant = await t.tenant('10');
    const key = await timed(t, 'POST', `/admin/tenants/${tenant.tenantId}/api-keys`, { body: { rpm_limit: rpm } });
    expect(key.status).toBe(201);
    return { ...tenant, key: key.body.key as string, keyId: key.body.id as string };
  }

  it('answers a rate-limited key promptly while Redis is stopped: fails open, no x-ratelimit headers, counted', async () => {
    const k = await limitedKey(100);
    const before = await ask(t, k.key);
    expect(before.headers.get('x-ratelimit-limit-requests')).toBe('100');
    const unchecked = metric((await timed(t, 'GET', '/metrics')).body, 'tollgate_rate_limit_unchecked_total');

    redis.pause();
    const during = await ask(t, k.key);
    expect(during.status).toBe(200);
    expect(during.ms).toBeLessThan(1500);
    expect(during.headers.get('x-ratelimit-limit-requests')).toBeNull();
    expect(during.headers.get('x-ratelimit-remaining-requests')).toBeNull();
    const metrics = await timed(t, 'GET', '/metrics', { deadlineMs: 3000 });
    expect(metrics.status).toBe(200);
    expect(metric(metrics.body, 'tollgate_rate_limit_unchecked_total')).toBe(unchecked + 1);
    redis.resume();

    const after = await waitFor('limits checked again', async () => {
      const res = await ask(t, k.key);
      return res.headers.get('x-ratelimit-limit-requests') ? res : null;
    });
    expect(after.status).toBe(200);
  });

  it('revokes a key and suspends a tenant promptly while Redis is stopped, and refuses them at once', async () => {
    const k = await limitedKey(100);
    const other = await t.tenant('10');
    expect((await ask(t, k.key)).status).toBe(200);
    expect((await ask(t, other.key)).status).toBe(200);

    redis.pause();
    const revoked = await timed(t, 'DELETE', `/admin/api-keys/${k.keyId}`);
    expect(revoked.status).toBe(200);
    expect(revoked.ms).toBeLessThan(1000);
    const suspended = await timed(t, 'PATCH', `/admin/tenants/${other.tenantId}`, { body: { status: 'suspended' } });
    expect(suspended.status).toBe(200);
    expect(suspended.ms).toBeLessThan(1000);
    expect((await ask(t, k.key)).status).toBe(401);
    expect((await ask(t, other.key)).status).toBe(401);
  });

  it('answers /ready with 503 within a second while Redis is stopped, and 200 once it is back', async () => {
    redis.pause();
    const ready = await timed(t, 'GET', '/ready');
    expect(ready.status).toBe(503);
    expect(ready.ms).toBeLessThan(1000);
    expect(ready.body.error.message).toMatch(/redis down/);
    redis.resume();
    await waitFor('ready again', async () => (await timed(t, 'GET', '/ready')).status === 200);
  });

  it('charges what was answered while Redis was stopped, once it is back (BullMQ reconnects)', async () => {
    const tenant = await t.tenant('10');
    redis.pause();
    const answered = await ask(t, tenant.key);
    expect(answered.status).toBe(200);
    await new Promise((r) => setTimeout(r, 1500));
    redis.resume();
    await waitFor(
      'the charge',
      async () => (await db.query('SELECT 1 FROM usage_events WHERE tenant_id = $1 AND charged_at IS NOT NULL', [tenant.tenantId])).rowCount,
      20_000,
    );
  });

  it('registers the monthly invoice schedule again after FLUSHALL, within a sweep', async () => {
    const invoices = t.app.get<Queue>(getQueueToken(QUEUES.invoices));
    await waitFor('the schedule', () => invoices.getJobScheduler(MONTHLY_INVOICES_SCHEDULER), 10_000);
    await redis.flushAll();
    expect(await invoices.getJobScheduler(MONTHLY_INVOICES_SCHEDULER)).toBeUndefined();
    const back = await waitFor('the schedule again', () => invoices.getJobScheduler(MONTHLY_INVOICES_SCHEDULER), 3000);
    expect(back).toMatchObject({ pattern: '5 0 1 * *', tz: 'UTC' });
  });

  it('charges again after Redis restarts empty', async () => {
    await redis.restart();
    const tenant = await t.tenant('10');
    expect((await ask(t, tenant.key)).status).toBe(200);
    await waitFor(
      'the charge',
      async () => (await db.query('SELECT 1 FROM usage_events WHERE tenant_id = $1 AND charged_at IS NOT NULL', [tenant.tenantId])).rowCount,
      20_000,
    );
  });

});

describe('closing the app (private redis-server)', () => {
  it('closes every Redis and Postgres connection, and nothing periodic keeps running', async () => {
    const redis = await startPrivateRedis();
    const db = await openDb();
    const others = async () =>
      (await db.query('SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()')).rows[0].n;
    try {
      const t = await startApp({ REDIS_URL: redis.url });
      await ensureSeedModel(t);
      const tenant = await t.tenant('1');
      expect((await ask(t, tenant.key)).status).toBe(200);
      expect((await timed(t, 'DELETE', `/admin/api-keys/${tenant.keyId}`)).status).toBe(200);
      expect((await timed(t, 'GET', '/ready')).status).toBe(200);
      expect(await redis.clientCount()).toBeGreaterThan(0);
      await t.close();
      await waitFor('every Redis connection closed', async () => (await redis.clientCount()) === 0, 3000);
      await waitFor('every Postgres connection closed', async () => (await others()) === 0, 3000);
      // A timer left running would query again (and reconnect) within this time.
      await new Promise((r) => setTimeout(r, 1500));
      expect(await others()).toBe(0);
      expect(await redis.clientCount()).toBe(0);
    } finally {
      await db.end();
      await redis.kill();
    }
  });
});

describe('closing the app while Redis is stopped (private redis-server)', () => {
  it('drains for at most SHUTDOWN_GRACE_MS, then closes anyway: a stalled Redis cannot hang a shutdown', async () => {
    const redis = await startPrivateRedis();
    try {
      const t = await startApp({ REDIS_URL: redis.url, SHUTDOWN_GRACE_MS: '1000' });
      await ensureSeedModel(t);
      const tenant = await t.tenant('1');
      expect((await ask(t, tenant.key)).status).toBe(200);
      redis.pause();
      const started = Date.now();
      const closed = await Promise.race([t.close().then(() => true), new Promise((r) => setTimeout(() => r(false), 10_000))]);
      expect(closed).toBe(true);
      expect(Date.now() - started).toBeLessThan(8000);
    } finally {
      redis.resume();
      await redis.kill();
    }
  });
});
