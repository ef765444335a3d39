import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeUpstream, startFakeUpstream } from './support/fake-upstream';
import { http, startApp, TestApp } from './support/harness';
import { seedPrice } from './support/prices';
import { isolatedServices } from './support/processes';
import { readStream } from './support/sse';
import { waitFor } from './support/wait';
import { expectStreamConforms } from './support/openapi';
import { openDb } from './support/db';

/** Prices per 1M tokens; the amounts below are worked out by hand from them. */
const CHEAP = 'up-cheap'; // input 1, output 1
const DEAR = 'up-dear'; // input 1, output 400
const FAKE_USAGE = { input_tokens: 21, input_tokens_details: { cached_tokens: 0 }, output_tokens: 7, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 28 };

describe('the money path under faults: every answer charged once, never beyond its reservation', () => {
  // Its own database: these tests refuse connections to it.
  const services = isolatedServices('faults');
  const dbName = new URL(services.databaseUrl).pathname.slice(1);
  let fake: FakeUpstream;
  let t: TestApp;
  let dir: string;
  let spoolDir: string;

  const query = async (sql: string, params: unknown[] = []) => {
    const db = await openDb(services.databaseUrl);
    try {
      return (await db.query(sql, params)).rows;
    } finally {
      await db.end();
    }
  };
  const postgresAdmin = async (sql: string, params: unknown[] = []) => {
    const url = new URL(services.databaseUrl);
    url.pathname = '/postgres';
    const db = await openDb(url.toString());
    try {
      await db.query(sql, params);
    } finally {
      await db.end();
    }
  };
  /** Postgres refuses this database for real: new connections refused, open ones terminated. */
  const refuseDatabase = async () => {
    await postgresAdmin(`ALTER DATABASE "${dbName}" ALLOW_CONNECTIONS false`);
    await postgresAdmin('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1', [dbName]);
  };
  const allowDatabase = () => postgresAdmin(`ALTER DATABASE "${dbName}" ALLOW_CONNECTIONS true`);

  const eventOf = async (responseId: string) => (await query('SELECT *, state::text FROM usage_events WHERE response_id = $1', [responseId]))[0];
  const chargeOf = async (responseId: string) =>
    (await query(`SELECT trim_scale(amount)::text AS amount, price_id FROM ledger_entries WHERE response_id = $1 AND kind = 'charge'`, [responseId]));
  const tenantRow = async (tenantId: string) =>
    (await query('SELECT trim_scale(balance)::text AS balance, trim_scale(reserved)::text AS reserved FROM tenants WHERE id = $1', [tenantId]))[0] as { balance: string; reserved: string };
  const charged = (responseId: string) =>
    waitFor(`the charge of ${responseId}`, async () => {
      const rows = await chargeOf(responseId);
      return rows.length ? rows : null;
    }, 20_000, 100);
  const pendingEvent = (tenantId: string) =>
    waitFor('the pending usage event', async () => (await query(`SELECT response_id FROM usage_events WHERE tenant_id = $1 AND state = 'pending'`, [tenantId]))[0], 10_000, 20);

  beforeAll(async () => {
    services.migrate();
    fake = await startFakeUpstream();
    dir = mkdtempSync(join(tmpdir(), 'tollgate-faults-'));
    spoolDir = join(dir, 'spool');
    const file = join(dir, 'providers.json');
    writeFileSync(file, JSON.stringify({ fake: { type: 'openai', base_url: fake.url, api_key: 'sk-provider-faults' } }));
    t = await startApp({
      DATABASE_URL: services.databaseUrl,
      QUEUE_PREFIX: services.queuePrefix,
      PROVIDERS_FILE: file,
      SPOOL_DIR: spoolDir,
      SAVE_RETRY_MS: '300',
      REQUEST_LEASE_MS: '3000',
      STREAM_CHECKPOINT_MS: '200',
      STREAM_WRITE_TIMEOUT_MS: '500',
      CHARGE_RELAY_EVERY_MS: '200',
      CHARGE_RELAY_AFTER_MS: '500',
    });
    await seedPrice(services.databaseUrl, CHEAP, { provider: 'fake', input_price: '1', output_price: '1', effective_from: '2020-01-01T00:00:00Z' }, t);
    await seedPrice(services.databaseUrl, DEAR, { provider: 'fake', input_price: '1', output_price: '400', effective_from: '2020-01-01T00:00:00Z' }, t);
  }, 120_000);

  afterAll(async () => {
    await allowDatabase().catch(() => undefined);
    await t?.close();
    await fake?.close();
    await services.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  beforeEach(() => fake.set({ usage: FAKE_USAGE }));

  describe('bytes a database refuses', () => {
    const hostile = 'nul \u0000 here, and a lone surrogate \ud800 there';

    it('an upstream answer with NUL and a lone surrogate is answered, stored cleaned, and charged', async () => {
      const tenant = await t.tenant('1');
      fake.set({ text: hostile, usage: FAKE_USAGE });
      const res = await http(t.baseUrl, 'POST', '/v1/responses', { token: tenant.key, body: { model: CHEAP, input: 'say something odd' } });
      expect(res.status).toBe(200);
      // (21 + 7) tokens at $1/1M.
      expect(await charged(res.body.id)).toEqual([expect.objectContaining({ amount: '-0.000028' })]);
      const stored = await http(t.baseUrl, 'GET', `/v1/responses/${res.body.id}`, { token: tenant.key });
      expect(stored.status).toBe(200);
      expect(stored.body.output[0].content[0].text).toBe('nul \uFFFD here, and a lone surrogate \uFFFD there');
    });

    it('the same in a stream: it completes, and is charged', async () => {
      const tenant = await t.tenant('1');
      fake.set({ text: hostile, usage: FAKE_USAGE });
      const { status, events } = await readStream(`${t.baseUrl}/v1/responses`, tenant.key, { model: CHEAP, input: 'stream something odd', stream: true });
      expect(status).toBe(200);
      const last = events[events.length - 1];
      expect(last.event).toBe('response.completed');
      expect(await charged(last.data.response.id)).toEqual([expect.objectContaining({ amount: '-0.000028' })]);
    });
  });

  describe('Postgres unreachable when the answer is saved', () => {
    afterEach(() => allowDatabase());

    it('non-streaming: 503, the usage goes to the spool, and is charged once Postgres is back', async () => {
      const tenant = await t.tenant('1');
      fake.set({ delayMs: 1500, usage: FAKE_USAGE });
      const answer = http(t.baseUrl, 'POST', '/v1/responses', { token: tenant.key, body: { model: CHEAP, input: 'save me' } });
      const { response_id: responseId } = await pendingEvent(tenant.tenantId);
      await refuseDatabase();
      const res = await answer;
      expect(res.status).toBe(503);
      expect(res.body.error).toMatchObject({ type: 'server_error' });
      expect(readdirSync(spoolDir).length).toBeGreaterThan(0);

      await allowDatabase();
      expect(await charged(responseId)).toEqual([expect.objectContaining({ amount: '-0.000028' })]);
      expect(await eventOf(responseId)).toMatchObject({ state: 'final', input_tokens: 21, output_tokens: 7 });
      expect(await tenantRow(tenant.tenantId)).toEqual({ balance: '0.999972', reserved: '0' });
    });

    it('streaming: the stream still ends (error, then response.failed), and its usage is charged once Postgres is back', async () => {
      const tenant = await t.tenant('1');
      fake.set({ text: 'one two three four five six seven eight', deltas: 8, deltaDelayMs: 150, usage: FAKE_USAGE });
      let cut = false;
      const { events } = await readStream(`${t.baseUrl}/v1/responses`, tenant.key, { model: CHEAP, input: 'stream and save me', stream: true }, {
        timeoutMs: 15_000,
        onChunk: async (text) => {
          if (!cut && text.includes('response.output_text.delta')) {
            cut = true;
            await refuseDatabase();
          }
        },
      });
      expect(cut).toBe(true);
      expect(events.slice(-2).map((e) => e.event)).toEqual(['error', 'response.failed']);
      expectStreamConforms(events);
      const responseId = events[0].data.response.id;

      await allowDatabase();
      expect(await charged(responseId)).toEqual([expect.objectContaining({ amount: '-0.000028' })]);
      expect(await tenantRow(tenant.tenantId)).toEqual({ balance: '0.999972', reserved: '0' });
    });

    it('a failed upstream whose hold cannot be given back: the release failure is counted, and the hold is released once Postgres is back', async () => {
      const tenant = await t.tenant('1');
      const releaseFailures = async (attempt: 'first' | 'retry') =>
        Number(new RegExp(`tollgate_reservation_release_failures_total\\{attempt="${attempt}"\\} (\\d+)`).exec((await http(t.baseUrl, 'GET', '/metrics')).text)?.[1] ?? 0);
      const [before, retriedBefore] = [await releaseFailures('first'), await releaseFailures('retry')];
      fake.set({ delayMs: 1500, httpStatus: 500 });
      const answer = http(t.baseUrl, 'POST', '/v1/responses', { token: tenant.key, body: { model: CHEAP, input: 'fail me' } });
      const { response_id: responseId } = await pendingEvent(tenant.tenantId);
      await refuseDatabase();
      const res = await answer;
      expect(res.status).toBe(502);
      expect(res.body.error).toMatchObject({ type: 'server_error', code: 'upstream_error' });
      expect(await releaseFailures('first')).toBe(before + 1);
      // Retried on the next ticks; those fail too while Postgres still refuses, and are counted.
      await waitFor('a retried release to fail', async () => (await releaseFailures('retry')) > retriedBefore, 10_000, 100);

      await allowDatabase();
      await waitFor('the hold to be given back', async () => (await tenantRow(tenant.tenantId)).reserved === '0', 20_000, 100);
      expect(await eventOf(responseId)).toBeUndefined();
      expect(await tenantRow(tenant.tenantId)).toEqual({ balance: '1', reserved: '0' });
      expect(await chargeOf(responseId)).toEqual([]);
    });
  });

  describe('usage beyond the reservation', () => {
    it('an upstream reporting 100,000 output tokens against max_output_tokens 100 is charged for 100; 20 concurrent from $1 never overdraw', async () => {
      const tenant = await t.tenant('1');
      fake.set({ usage: { ...FAKE_USAGE, output_tokens: 100_000, total_tokens: 100_021 } });
      const results = await Promise.all(
        Array.from({ length: 20 }, () =>
          http(t.baseUrl, 'POST', '/v1/responses', { token: tenant.key, body: { model: DEAR, input: 'overdraw me', max_output_tokens: 100 } }),
        ),
      );
      expect(results.map((r) => r.status)).toEqual(Array(20).fill(200));
      // Each: 21 input at $1/1M + 100 output at $400/1M = 0.040021; twenty of them: 0.80042.
      for (const r of results) expect(await charged(r.body.id)).toEqual([expect.objectContaining({ amount: '-0.040021' })]);
      expect(await tenantRow(tenant.tenantId)).toEqual({ balance: '0.19958', reserved: '0' });
      const events = await query(`SELECT output_tokens, overrun_output_tokens FROM usage_events WHERE tenant_id = $1`, [tenant.tenantId]);
      expect(events).toEqual(Array(20).fill({ output_tokens: 100, overrun_output_tokens: 99_900 }));
      const metrics = await http(t.baseUrl, 'GET', '/metrics');
      expect(metrics.text).toMatch(/tollgate_usage_overrun_tokens_total\{kind="output"\} \d+/);
    });

    it('a stream running past its output bound is cut there, ends incomplete, and the upstream request is closed', async () => {
      const tenant = await t.tenant('1');
      const before = fake.requests.length;
      fake.set({ text: 'word '.repeat(2000), deltas: 100, deltaDelayMs: 10, usage: { ...FAKE_USAGE, output_tokens: 100_000 } });
      const { events } = await readStream(`${t.baseUrl}/v1/responses`, tenant.key, { model: DEAR, input: 'talk forever', max_output_tokens: 50, stream: true });
      const last = events[events.length - 1];
      expect(last.event).toBe('response.incomplete');
      expect(last.data.response.incomplete_details).toEqual({ reason: 'max_output_tokens' });
      const responseId = last.data.response.id;
      await charged(responseId);
      const event = await eventOf(responseId);
      expect(event.output_tokens).toBeLessThanOrEqual(50);
      expect(event.output_tokens).toBeGreaterThan(40);
      await waitFor('the upstream request to be closed', () => fake.requests.slice(before).some((r) => r.closedEarly), 5000);
    });
  });

  describe('leases', () => {
    it('a request running longer than the lease keeps its hold: a second one that the balance cannot also cover is refused', async () => {
      // One request's most: 51 input bound at $1/1M + 100 output at $400/1M = 0.040051; $0.05 covers one, not two.
      const tenant = await t.tenant('0.05');
      fake.set({ text: 'slow '.repeat(20), deltas: 20, deltaDelayMs: 300, usage: { ...FAKE_USAGE, output_tokens: 20 } });
      const first = readStream(`${t.baseUrl}/v1/responses`, tenant.key, { model: DEAR, input: 'overdraw me', max_output_tokens: 100, stream: true });
      await pendingEvent(tenant.tenantId);
      await new Promise((r) => setTimeout(r, 4500)); // past REQUEST_LEASE_MS, with the relay running every 200 ms
      const second = await http(t.baseUrl, 'POST', '/v1/responses', { token: tenant.key, body: { model: DEAR, input: 'overdraw me', max_output_tokens: 100 } });
      expect(second.status).toBe(429);
      expect(second.body.error.code).toBe('insufficient_quota');
      const { events } = await first;
      const last = events[events.length - 1];
      expect(last.event).toBe('response.completed');
      // 21 input at $1/1M + 20 output at $400/1M = 0.008021.
      expect(await charged(last.data.response.id)).toEqual([expect.objectContaining({ amount: '-0.008021' })]);
      expect(await tenantRow(tenant.tenantId)).toEqual({ balance: '0.041979', reserved: '0' });
    });

    it('a client that stops reading is cut after STREAM_WRITE_TIMEOUT_MS and charged for what was produced', async () => {
      const tenant = await t.tenant('1');
      fake.set({ text: 'word word word word word '.repeat(20_000), deltas: 20_000, deltaDelayMs: 0, usage: FAKE_USAGE });
      const body = JSON.stringify({ model: CHEAP, input: 'flood me', max_output_tokens: 200_000, stream: true });
      const { port } = new URL(t.baseUrl);
      const socket = createConnection({ host: '127.0.0.1', port: Number(port) });
      socket.pause(); // never read a byte
      socket.write(
        `POST /v1/responses HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: Bearer ${tenant.key}\r\ncontent-type: application/json\r\n` +
          `content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
      );
      try {
        const { response_id: responseId } = await pendingEvent(tenant.tenantId);
        const event = await waitFor('the stalled stream to be finished', async () => {
          const e = await eventOf(responseId);
          return e.state === 'final' ? e : null;
        }, 15_000, 100);
        expect(event.output_tokens).toBeGreaterThan(0);
        expect(event.output_tokens).toBeLessThan(100_000);
        await charged(responseId);
        const stored = await http(t.baseUrl, 'GET', `/v1/responses/${responseId}`, { token: tenant.key });
        // A cut stream reads back as cancelled (the stored record keeps client_disconnected).
        expect(stored.body.status).toBe('cancelled');
        expect((await tenantRow(tenant.tenantId)).reserved).toBe('0');
      } finally {
        socket.destroy();
      }
    });
  });

  describe('prices', () => {
    it('a price version appearing after admission, even back-dated, never re-prices the request', async () => {
      const model = `up-versioned-${Date.now()}`;
      await seedPrice(services.databaseUrl, model, { provider: 'fake', input_price: '1', output_price: '1', effective_from: '2020-01-01T00:00:00Z' }, t);
      const [v1] = await query('SELECT id FROM prices WHERE model_id = $1', [model]);
      const tenant = await t.tenant('1');
      fake.set({ delayMs: 800, usage: FAKE_USAGE });
      const answer = http(t.baseUrl, 'POST', '/v1/responses', { token: tenant.key, body: { model, input: 'price me' } });
      const { response_id: responseId } = await pendingEvent(tenant.tenantId);
      await seedPrice(services.databaseUrl, model, { provider: 'fake', input_price: '100', output_price: '100', effective_from: new Date(Date.now() - 60_000).toISOString() }, t);
      expect((await answer).status).toBe(200);
      // (21 + 7) tokens at v1's $1/1M, not at $100/1M.
      expect(await charged(responseId)).toEqual([{ amount: '-0.000028', price_id: v1.id }]);
      expect((await eventOf(responseId)).price_id).toBe(v1.id);
    });
  });
});
