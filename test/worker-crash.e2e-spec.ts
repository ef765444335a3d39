import { Queue } from 'bullmq';
import Redis from 'ioredis';
import type { Client } from 'pg';
import { addAmounts, negate } from '../src/billing/money';
import { handCharge } from './support/expected-charge';
import { expectMoneyInvariants } from './support/invariants';
import { QUEUES } from '../src/queues/queues';
import { ensureSeedModel, SEED_MODEL, startApp, TestApp } from './support/harness';
import { ensureBuilt, isolatedServices, Service, spawnService, stopService } from './support/processes';
import { waitFor } from './support/wait';
import { openDb } from './support/db';

const PRICE = { input: '0.25', cachedInput: '0.025', output: '2' };
const EVENTS = 400;
const PARALLEL = 20;


describe('charge worker killed (SIGKILL) mid-batch and restarted', () => {
  // Its own database and queue prefix: workers of other suites (sharing the run's database) must
  // not charge these events, and this suite's workers must not touch theirs.
  const services = isolatedServices('crash');
  const DATABASE_URL = services.databaseUrl;
  const QUEUE_PREFIX = services.queuePrefix;

  let api: TestApp | undefined;
  let db: Client | undefined;
  const workers: Service[] = [];

  function startWorker(): Service {
    const worker = spawnService({ DATABASE_URL, QUEUE_PREFIX, ROLE: 'worker', CHARGE_RELAY_AFTER_MS: '500', CHARGE_RELAY_EVERY_MS: '200' });
    workers.push(worker);
    return worker;
  }

  beforeAll(async () => {
    ensureBuilt();
    services.migrate();
    api = await startApp({ ROLE: 'api', DATABASE_URL, QUEUE_PREFIX });
    await ensureSeedModel(api);
    db = await openDb(DATABASE_URL);
  }, 120_000);

  afterAll(async () => {
    // Never leak a worker, whatever happened above.
    await Promise.all(workers.map(stopService));
    await api?.close();
    await db?.end();
    await services.drop();
  }, 60_000);

  const chargedCount = async (tenantId: string): Promise<number> =>
    (await db!.query('SELECT count(*)::int AS n FROM usage_events WHERE tenant_id = $1 AND charged_at IS NOT NULL', [tenantId])).rows[0].n;

  it('charges every usage event exactly once, at the exact price; balance = ledger, nothing left reserved', async () => {
    const tenant = await api!.tenant('100');
    const sdk = api!.openai(tenant.key);
    for (let i = 0; i < EVENTS; i += PARALLEL) {
      await Promise.all(
        Array.from({ length: Math.min(PARALLEL, EVENTS - i) }, (_, j) => sdk.responses.create({ model: SEED_MODEL, input: `crash test ${i + j}` })),
      );
    }
    const events = (await db!.query('SELECT count(*)::int AS n FROM usage_events WHERE tenant_id = $1', [tenant.tenantId])).rows[0].n;
    expect(events).toBe(EVENTS);
    expect(await chargedCount(tenant.tenantId)).toBe(0); // no worker anywhere yet

    const t0 = Date.now();
    // Worker 1: killed the moment its first charges are committed, while it holds the rest.
    const first = startWorker();
    await waitFor(
      'the first charges',
      async () => {
        if (first.child.exitCode !== null) throw new Error(`first worker exited on its own: ${first.output()}`);
        return (await chargedCount(tenant.tenantId)) > 0;
      },
      60_000,
      5,
    );
    first.child.kill('SIGKILL');
    expect(await first.exited).toEqual({ code: null, signal: 'SIGKILL' });
    const chargedAtKill = await chargedCount(tenant.tenantId);
    const redis = new Redis(process.env.REDIS_URL!);
    const activeAtKill = await redis.llen(`${QUEUE_PREFIX}:charges:active`);
    await redis.quit();
    const tKill = Date.now();
    // The kill must land mid-way: some charged, some not, and jobs the dead worker held.
    expect(chargedAtKill).toBeGreaterThan(0);
    expect(chargedAtKill).toBeLessThan(EVENTS);
    expect(activeAtKill).toBeGreaterThan(0);

    // Worker 2: picks up the stalled jobs (after their lock expires) and the relayed events.
    const second = startWorker();
    await waitFor(
      'every event charged by the second worker',
      async () => {
        if (second.child.exitCode !== null) throw new Error(`second worker exited: ${second.output()}`);
        return (await chargedCount(tenant.tenantId)) === EVENTS;
      },
      60_000,
      100,
    );
    const tCharged = Date.now();
    // The dead worker's jobs come back once their locks expire (the ones whose charge had committed
    // included): wait until the queue has run them all, so a redelivery cannot charge after the checks.
    const connection = new Redis(process.env.REDIS_URL!, { maxRetriesPerRequest: null });
    const queue = new Queue(QUEUES.charges, { connection, prefix: QUEUE_PREFIX });
    let counts: Record<string, number> = {};
    try {
      await waitFor(
        'the charge queue to drain',
        async () => {
          counts = await queue.getJobCounts('active', 'wait', 'delayed', 'prioritized', 'waiting-children', 'failed');
          return Object.values(counts).every((n) => n === 0);
        },
        60_000,
        200,
      ).catch((err) => {
        throw new Error(`${err.message}: ${JSON.stringify(counts)}`);
      });
    } finally {
      await queue.close();
      await connection.quit();
    }
    console.log(
      `worker 1 SIGKILLed ${tKill - t0} ms after start with ${chargedAtKill}/${EVENTS} events charged and ${activeAtKill} jobs active; ` +
        `worker 2 charged the rest in ${tCharged - tKill} ms and drained the queue in ${Date.now() - tKill} ms`,
    );

    const { rows } = await db!.query(
      `SELECT e.id, e.input_tokens, e.cached_tokens, e.output_tokens, e.reasoning_tokens,
              count(l.id)::int AS charges, min(l.amount::text) AS amount,
              min(l.input_cost::text) AS input_cost, min(l.cached_input_cost::text) AS cached_input_cost,
              min(l.output_cost::text) AS output_cost, min(l.reasoning_cost::text) AS reasoning_cost
         FROM usage_events e LEFT JOIN ledger_entries l ON l.usage_event_id = e.id AND l.kind = 'charge'
        WHERE e.tenant_id = $1 GROUP BY e.id`,
      [tenant.tenantId],
    );
    expect(rows).toHaveLength(EVENTS);
    let total = '0';
    const wrong: unknown[] = [];
    for (const r of rows) {
      const want = handCharge({ input: r.input_tokens, cached: r.cached_tokens, output: r.output_tokens, reasoning: r.reasoning_tokens }, PRICE);
      const got = {
        charges: r.charges,
        amount: r.amount === null ? null : addAmounts(r.amount),
        parts: [r.input_cost, r.cached_input_cost, r.output_cost, r.reasoning_cost].map((a: string | null) => (a === null ? null : addAmounts(a))),
      };
      const expected = { charges: 1, amount: negate(want.total), parts: [want.input, want.cachedInput, want.output, want.reasoning] };
      if (JSON.stringify(got) !== JSON.stringify(expected)) wrong.push({ id: r.id, got, expected });
      total = addAmounts(total, want.total);
    }
    expect(wrong).toEqual([]);
    // No charge entry for an event of another tenant or none at all, and none twice.
    const entries = (await db!.query("SELECT count(*)::int AS n FROM ledger_entries WHERE tenant_id = $1 AND kind = 'charge'", [tenant.tenantId])).rows[0].n;
    expect(entries).toBe(EVENTS);

    const t = (
      await db!.query(
        `SELECT t.balance::text AS balance, t.reserved::text AS reserved,
                (SELECT coalesce(sum(amount), 0)::text FROM ledger_entries WHERE tenant_id = t.id) AS ledger,
                (SELECT count(*)::int FROM reservations WHERE tenant_id = t.id) AS open_reservations
           FROM tenants t WHERE t.id = $1`,
        [tenant.tenantId],
      )
    ).rows[0];
    expect(addAmounts(t.balance)).toBe(addAmounts(t.ledger));
    expect(addAmounts(t.balance)).toBe(addAmounts('100', negate(total)));
    expect(addAmounts(t.reserved)).toBe('0');
    expect(t.open_reservations).toBe(0);
    // Balance = ledger, each balance_after on the running sum, rollups = charges, one charge per event.
    await expectMoneyInvariants(db!, [tenant.tenantId], 5_000);

    const exit2 = await stopService(second);
    expect(exit2.code === 0 || exit2.signal === 'SIGTERM').toBe(true);
  }, 150_000);
});
