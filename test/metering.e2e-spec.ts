import { getQueueToken } from '@nestjs/bullmq';
import type { Queue } from 'bullmq';
import type { Client } from 'pg';
import { addAmounts, negate } from '../src/billing/money';
import { ChargerService } from '../src/metering/charger.service';
import { JOBS, QUEUES } from '../src/queues/queues';
import { openDb } from './support/db';
import { insertEvent as insertUsageEvent } from './support/events';
import { handCharge, units } from './support/expected-charge';
import { balanceAfterMismatches, balanceLedgerMismatches, rollupLedgerMismatches } from './support/invariants';
import { ensureSeedModel, http, SEED_MODEL, startApp, TestApp } from './support/harness';
import { seedPrice } from './support/prices';
import { waitFor } from './support/wait';

const PRICE = { input: '0.25', cachedInput: '0.025', output: '2' };
const FAST_RELAY = { CHARGE_RELAY_AFTER_MS: '300', CHARGE_RELAY_EVERY_MS: '100' };
// Long enough that requests answered one after another still share a charge job.
const LINGER = { CHARGE_ENQUEUE_LINGER_MS: '200' };


describe('metering: usage events -> exactly one exact charge each', () => {
  let t: TestApp;
  let db: Client;

  beforeAll(async () => {
    t = await startApp({ ...FAST_RELAY, ...LINGER });
    await ensureSeedModel(t);
    db = await openDb();
  });

  afterAll(async () => {
    await db.end();
    await t.close();
  });

  /** A usage event written straight into the outbox (as if a request had been answered). */
  const insertEvent = (tenant: { tenantId: string; keyId: string }, model: string, tokens: [number, number], requestedAt: string) =>
    insertUsageEvent(db, tenant, model, { input: tokens[0], output: tokens[1] }, { requestedAt, createdAt: new Date() });

  const uncharged = async (tenantId: string) =>
    (await db.query('SELECT count(*)::int AS n FROM usage_events WHERE tenant_id = $1 AND charged_at IS NULL', [tenantId])).rows[0].n;
  const allCharged = (tenantId: string) => waitFor(`charges of ${tenantId}`, async () => (await uncharged(tenantId)) === 0);

  /** Every event of the tenant has exactly one charge equal to the formula; returns the sum. */
  async function expectExactCharges(tenantId: string): Promise<string> {
    const { rows } = await db.query(
      `SELECT e.id, e.input_tokens, e.cached_tokens, e.output_tokens, e.reasoning_tokens,
              count(l.id)::int AS charges, min(l.amount::text) AS amount,
              min(l.input_cost::text) AS input_cost, min(l.cached_input_cost::text) AS cached_input_cost,
              min(l.output_cost::text) AS output_cost, min(l.reasoning_cost::text) AS reasoning_cost
         FROM usage_events e LEFT JOIN ledger_entries l ON l.usage_event_id = e.id
        WHERE e.tenant_id = $1 GROUP BY e.id`,
      [tenantId],
    );
    let total = '0';
    for (const r of rows) {
      const want = handCharge({ input: r.input_tokens, cached: r.cached_tokens, output: r.output_tokens, reasoning: r.reasoning_tokens }, PRICE);
      expect(r.charges).toBe(1);
      expect(addAmounts(r.amount)).toBe(negate(want.total));
      expect([r.input_cost, r.cached_input_cost, r.output_cost, r.reasoning_cost].map((a: string) => addAmounts(a))).toEqual([
        want.input,
        want.cachedInput,
        want.output,
        want.reasoning,
      ]);
      total = addAmounts(total, want.total);
    }
    return total;
  }

  async function expectBalanceIsLedger(tenantId: string) {
    const { rows } = await db.query(
      `SELECT t.balance::text AS balance, t.reserved::text AS reserved,
              (SELECT coalesce(sum(amount), 0)::text FROM ledger_entries WHERE tenant_id = t.id) AS ledger
         FROM tenants t WHERE t.id = $1`,
      [tenantId],
    );
    expect(addAmounts(rows[0].balance)).toBe(addAmounts(rows[0].ledger));
    // The shared checks too: balance = ledger, each balance_after on the running sum, rollups = charges.
    expect(await balanceLedgerMismatches(db, [tenantId])).toEqual([]);
    expect(await balanceAfterMismatches(db, [tenantId])).toEqual([]);
    expect(await rollupLedgerMismatches(db, [tenantId])).toEqual([]);
    return rows[0];
  }

  it('charges every answered request once, at the price in force, with its breakdown; balance = credits - charges', async () => {
    const tenant = await t.tenant('10');
    const sdk = t.openai(tenant.key);
    const first = await sdk.responses.create({ model: SEED_MODEL, input: 'Charge me', thinking: { type: 'enabled' } } as any);
    await sdk.responses.create({ model: SEED_MODEL, input: 'Again', max_output_tokens: 3 });
    const prefix = await sdk.responses.create({
      model: SEED_MODEL,
      input: Array.from({ length: 80 }, (_, i) => `fact ${i}`).join('; '),
      caching: { type: 'enabled', prefix: true },
    } as any);
    const cached = await sdk.responses.create({ model: SEED_MODEL, input: 'go', previous_response_id: prefix.id, caching: { type: 'enabled' } } as any);
    expect(cached.usage!.input_tokens_details.cached_tokens).toBeGreaterThan(0);
    await sdk.responses.create({ model: SEED_MODEL, input: 'not stored', store: false });

    await allCharged(tenant.tenantId);
    const total = await expectExactCharges(tenant.tenantId);
    const { reserved } = await expectBalanceIsLedger(tenant.tenantId);
    expect(addAmounts(reserved)).toBe('0');

    const entry = (await db.query("SELECT * FROM ledger_entries WHERE response_id = $1 AND kind = 'charge'", [first.id])).rows[0];
    expect(entry.price_id).toBeTruthy();
    expect(Number(entry.reasoning_cost)).toBeGreaterThan(0);

    const balance = await http(t.baseUrl, 'GET', '/v1/balance', { token: tenant.key });
    expect(balance.status).toBe(200);
    expect(balance.body.balance).toBe(addAmounts('10', negate(total)));
    expect(balance.body.available).toBe(balance.body.balance);
    expect(typeof balance.body.balance).toBe('string');
  });

  it('charges a known usage the amount worked out by hand, through the relay and the worker', async () => {
    const tenant = await t.tenant('1');
    const id = await insertUsageEvent(db, tenant, SEED_MODEL, { input: 1200, cached: 256, output: 300, reasoning: 120 }, { requestedAt: new Date() });
    await allCharged(tenant.tenantId);
    // (1200 - 256) * 0.25 / 1e6 = 0.000236; 256 * 0.025 / 1e6 = 0.0000064; (300 - 120) * 2 / 1e6 = 0.00036;
    // 120 * 2 / 1e6 = 0.00024; total 0.0008424; balance after 1 - 0.0008424 = 0.9991576
    const { rows } = await db.query(
      `SELECT amount::text, balance_after::text, input_cost::text, cached_input_cost::text, output_cost::text, reasoning_cost::text
         FROM ledger_entries WHERE usage_event_id = $1`,
      [id],
    );
    expect(rows.map((r) => Object.values(r).map((v) => addAmounts(v as string)))).toEqual([
      ['-0.0008424', '0.9991576', '0.000236', '0.0000064', '0.00036', '0.00024'],
    ]);
    await expectBalanceIsLedger(tenant.tenantId);
  });

  it('makes a repeated or redelivered charge a no-op', async () => {
    const tenant = await t.tenant('1');
    const res = await t.openai(tenant.key).responses.create({ model: SEED_MODEL, input: 'once' });
    await allCharged(tenant.tenantId);
    const { id } = (await db.query('SELECT id FROM usage_events WHERE response_id = $1', [res.id])).rows[0];
    const charger = t.app.get(ChargerService);
    expect(await charger.chargeEvents([id, id])).toEqual({ charged: [], skipped: [id, id] });
    await Promise.all(Array.from({ length: 5 }, () => charger.chargeEvents([id])));
    await t.app.get(ChargerService).chargeEvents([id]);
    const n = (await db.query('SELECT count(*)::int AS n FROM ledger_entries WHERE usage_event_id = $1', [id])).rows[0].n;
    expect(n).toBe(1);
    await expectBalanceIsLedger(tenant.tenantId);
  });

  it('uses the price version in force when the request started, not when it is charged', async () => {
    const model = `sim-versioned-${Date.now()}`;
    await seedPrice(t.env.DATABASE_URL, model, { input_price: '1', output_price: '1', effective_from: '2026-01-01T00:00:00Z' }, t);
    await seedPrice(t.env.DATABASE_URL, model, { input_price: '3', output_price: '5', effective_from: '2026-06-01T00:00:00Z' }, t);
    const tenant = await t.tenant('1');
    const events = [
      { at: '2026-05-31T23:59:59.999Z', want: '0.000002' },
      { at: '2026-06-01T00:00:00.000Z', want: '0.000008' },
    ];
    const ids: string[] = [];
    for (const e of events) ids.push(await insertEvent(tenant, model, [1, 1], e.at));
    await t.app.get(ChargerService).chargeEvents(ids);
    const amounts = await Promise.all(
      ids.map(async (id) => (await db.query('SELECT amount::text FROM ledger_entries WHERE usage_event_id = $1', [id])).rows[0].amount),
    );
    expect(amounts.map((a) => addAmounts(a))).toEqual(events.map((e) => negate(e.want)));
  });

  it('queues the charges of requests that finish together as one batch job', async () => {
    const queue = t.app.get<Queue>(getQueueToken(QUEUES.charges));
    const add = jest.spyOn(queue, 'add');
    const addBulk = jest.spyOn(queue, 'addBulk');
    try {
      const tenant = await t.tenant('1');
      const sdk = t.openai(tenant.key);
      const answers = await Promise.all(Array.from({ length: 8 }, (_, i) => sdk.responses.create({ model: SEED_MODEL, input: `together ${i}` })));
      await allCharged(tenant.tenantId);
      const ids = (await db.query('SELECT id FROM usage_events WHERE tenant_id = $1', [tenant.tenantId])).rows.map((r) => r.id as string);
      expect(ids).toHaveLength(answers.length);
      // Jobs of several events, and (when one finished alone) jobs of one event under its own id.
      const jobs = [
        ...add.mock.calls.filter(([name]) => name === JOBS.chargeBatch).map(([, data]) => (data as { usageEventIds: string[] }).usageEventIds),
        ...addBulk.mock.calls.flatMap(([bulk]) => bulk.map((j) => [(j.data as { usageEventId: string }).usageEventId])),
      ];
      const mine = jobs.filter((events) => events.some((id) => ids.includes(id)));
      expect(mine.flat().sort()).toEqual([...ids].sort());
      expect(mine.length).toBeLessThan(ids.length);
      await expectExactCharges(tenant.tenantId);
    } finally {
      add.mockRestore();
      addBulk.mockRestore();
    }
  });

  it('queues the charges of requests answered one after another within the linger in one batch job', async () => {
    const queue = t.app.get<Queue>(getQueueToken(QUEUES.charges));
    const add = jest.spyOn(queue, 'add');
    try {
      const tenant = await t.tenant('1');
      const sdk = t.openai(tenant.key);
      const ids: string[] = [];
      for (let i = 0; i < 6; i++) {
        await sdk.responses.create({ model: SEED_MODEL, input: `one after another ${i}` });
        ids.push(...(await db.query('SELECT id FROM usage_events WHERE tenant_id = $1 AND NOT (id = ANY($2::uuid[]))', [tenant.tenantId, ids])).rows.map((r) => r.id as string));
      }
      await allCharged(tenant.tenantId);
      const batches = add.mock.calls.filter(([name]) => name === JOBS.chargeBatch).map(([, data]) => (data as { usageEventIds: string[] }).usageEventIds);
      // Each request finished in its own turn of the event loop; only the linger lets them share a job.
      expect(Math.max(0, ...batches.map((events) => events.filter((id) => ids.includes(id)).length))).toBeGreaterThanOrEqual(2);
      await expectExactCharges(tenant.tenantId);
    } finally {
      add.mockRestore();
    }
  });

  it('charges the rest of a batch job when one of its events cannot be charged, and gives that event its own job', async () => {
    const model = `sim-batch-${Date.now()}`;
    await t.admin('PUT', `/admin/models/${model}`, { provider: 'simulated', input_price: '1', output_price: '1', effective_from: '2030-01-01T00:00:00Z' });
    const tenant = await t.tenant('1');
    // Recorded "in an hour": out of the relay's reach, so only the batch job can charge them.
    const later = new Date(Date.now() + 3_600_000);
    const at = new Date().toISOString();
    const usages = [
      { input: 1000, output: 100 },
      { input: 2000, output: 0 },
      { input: 0, output: 3000 },
    ];
    const good = [];
    for (const u of usages) good.push(await insertUsageEvent(db, tenant, SEED_MODEL, u, { requestedAt: at, createdAt: later }));
    const unpriced = await insertUsageEvent(db, tenant, model, { input: 10, output: 10 }, { requestedAt: at, createdAt: later });

    const queue = t.app.get<Queue>(getQueueToken(QUEUES.charges));
    const batch = await queue.add(JOBS.chargeBatch, { usageEventIds: [good[0], unpriced, good[1], good[2]] });
    const own = await waitFor('the unchargeable event in its own job', () => queue.getJob(unpriced));
    expect(own.name).toBe(JOBS.charge);
    expect(own.data).toEqual({ usageEventId: unpriced });
    await waitFor('the batch job completed', async () => (await queue.getJob(batch.id!)) === undefined);
    await waitFor('the other events charged', async () => (await uncharged(tenant.tenantId)) === 1);

    const amounts = (
      await db.query(`SELECT usage_event_id, amount::text AS amount FROM ledger_entries WHERE tenant_id = $1 AND kind = 'charge'`, [tenant.tenantId])
    ).rows;
    const byEvent = new Map(amounts.map((r) => [r.usage_event_id as string, r.amount as string]));
    expect(amounts).toHaveLength(3);
    // 0.25 and 2 per million tokens: 1000 in + 100 out, 2000 in, 3000 out.
    expect(good.map((id) => addAmounts(byEvent.get(id)!))).toEqual(['-0.00045', '-0.0005', '-0.006']);
    expect(byEvent.has(unpriced)).toBe(false);
    await own.remove().catch(() => undefined); // its retries would only fail again
  });

  it('never charges an unpriced request at zero: the charge fails (so its job is retried) and writes nothing', async () => {
    const model = `sim-future-${Date.now()}`;
    await t.admin('PUT', `/admin/models/${model}`, { provider: 'simulated', input_price: '1', output_price: '1', effective_from: '2030-01-01T00:00:00Z' });
    const tenant = await t.tenant('1');
    const id = await insertEvent(tenant, model, [10, 10], new Date().toISOString());
    await expect(t.app.get(ChargerService).chargeEvents([id])).rejects.toThrow(/No price in force/);
    expect((await db.query('SELECT count(*)::int AS n FROM ledger_entries WHERE usage_event_id = $1', [id])).rows[0].n).toBe(0);
  });

  it('keeps a job that failed every attempt in the dead-letter list, and replays it once the cause is fixed', async () => {
    const model = `sim-dlq-${Date.now()}`;
    await t.admin('PUT', `/admin/models/${model}`, { provider: 'simulated', input_price: '1', output_price: '1', effective_from: '2030-01-01T00:00:00Z' });
    const tenant = await t.tenant('1');
    const id = await insertEvent(tenant, model, [1_000_000, 0], '2029-06-01T00:00:00Z');
    // One attempt only, so the test need not wait through the production back-off.
    const queue = t.app.get<Queue>(getQueueToken(QUEUES.charges));
    await queue.add(JOBS.charge, { usageEventId: id }, { jobId: id, attempts: 1 });
    const failed = await waitFor('the dead letter', async () => {
      const res = await t.admin('GET', '/admin/queues/charges/failed');
      return res.body.data.find((j: any) => j.usage_event_id === id);
    });
    expect(failed.failed_reason).toMatch(/No price in force/);
    expect((await db.query('SELECT count(*)::int AS n FROM ledger_entries WHERE usage_event_id = $1', [id])).rows[0].n).toBe(0);

    await t.admin('PUT', `/admin/models/${model}`, { provider: 'simulated', input_price: '2', output_price: '1', effective_from: '2029-01-01T00:00:00Z' });
    const retry = await t.admin('POST', `/admin/queues/charges/failed/${id}/retry`);
    expect(retry.status).toBe(200);
    await allCharged(tenant.tenantId);
    const entry = (await db.query('SELECT amount::text FROM ledger_entries WHERE usage_event_id = $1', [id])).rows[0];
    expect(addAmounts(entry.amount)).toBe('-2');
    expect((await t.admin('POST', '/admin/queues/charges/failed/not-a-job/retry')).status).toBe(404);
  });

  it('refuses requests the balance cannot cover (429 insufficient_quota, x-should-retry: false); 50 at once never overspend', async () => {
    // Each request may cost at most (input + 20 output tokens); credits cover about four of them.
    const tenant = await t.tenant('0.0002');
    const body = { model: SEED_MODEL, input: 'How much does this cost?', max_output_tokens: 20 };
    const results = await Promise.all(
      Array.from({ length: 50 }, () => http(t.baseUrl, 'POST', '/v1/responses', { token: tenant.key, body })),
    );
    const ok = results.filter((r) => r.status === 200);
    const refused = results.filter((r) => r.status === 429);
    expect(ok.length + refused.length).toBe(50);
    expect(ok.length).toBeGreaterThanOrEqual(4);
    expect(refused.length).toBeGreaterThan(0);
    for (const r of refused) {
      expect(r.body.error).toMatchObject({ type: 'insufficient_quota', code: 'insufficient_quota' });
      expect(r.headers.get('x-should-retry')).toBe('false');
    }
    await allCharged(tenant.tenantId);
    const { balance, reserved } = await expectBalanceIsLedger(tenant.tenantId);
    // Charges are held to the reservation, so the balance never goes below zero.
    expect(units(balance) >= 0n).toBe(true);
    expect(addAmounts(reserved)).toBe('0');
    // Every request holds the same most-it-can-cost; admissions decided one by one admit exactly
    // as many as the credits cover: floor(0.0002 / hold).
    const bounds = (await db.query('SELECT DISTINCT max_input_tokens AS input, max_output_tokens AS output FROM usage_events WHERE tenant_id = $1', [tenant.tenantId])).rows;
    expect(bounds).toHaveLength(1);
    const hold = handCharge({ input: bounds[0].input, cached: 0, output: bounds[0].output, reasoning: 0 }, PRICE).total;
    expect(ok.length).toBe(Number(units('0.0002') / units(hold)));
    // Refused requests were never answered, so never metered.
    const events = (await db.query('SELECT count(*)::int AS n FROM usage_events WHERE tenant_id = $1', [tenant.tenantId])).rows[0].n;
    expect(events).toBe(ok.length);
    await expectExactCharges(tenant.tenantId);

    const sdkErr: any = await t.openai(tenant.key).responses.create({ model: SEED_MODEL, input: 'x'.repeat(4000) }).catch((e) => e);
    expect(sdkErr.status).toBe(429);
    expect(sdkErr.code).toBe('insufficient_quota');
  });

  // Redis losing every queued job: test/relay.e2e-spec.ts (it needs a run with no worker at all).

  it('keeps answering while Redis is down, and charges everything once it is back', async () => {
    const noRedis = await startApp({ ROLE: 'api', REDIS_URL: 'redis://127.0.0.1:1' });
    const tenant = await t.tenant('5');
    try {
      const sdk = noRedis.openai(tenant.key);
      for (let i = 0; i < 5; i++) {
        const res = await sdk.responses.create({ model: SEED_MODEL, input: `while redis is down ${i}` });
        expect(res.status).toBe('completed');
      }
      const ready = await http(noRedis.baseUrl, 'GET', '/ready');
      expect(ready.status).toBe(503);
    } finally {
      await noRedis.close();
    }
    await allCharged(tenant.tenantId);
    const events = (await db.query('SELECT count(*)::int AS n FROM usage_events WHERE tenant_id = $1', [tenant.tenantId])).rows[0].n;
    expect(events).toBe(5);
    await expectExactCharges(tenant.tenantId);
  });
});
