import Redis from 'ioredis';
import type { Client } from 'pg';
import { openDb } from './support/db';
import { ensureSeedModel, SEED_MODEL, startApp, TestApp } from './support/harness';
import { expectMoneyInvariants } from './support/invariants';

const FAST_RELAY = { CHARGE_RELAY_AFTER_MS: '300', CHARGE_RELAY_EVERY_MS: '100' };
const REQUESTS = 20;

/**
 * The outbox relay is what makes Postgres the truth: with no worker running, the API queues
 * charge jobs; Redis then loses every one of them; a worker started afterwards must still charge
 * every event, which only the relay (re-queueing uncharged events) can make happen.
 */
describe('relay: loses nothing when Redis loses every queued job', () => {
  let db: Client;
  let api: TestApp | undefined;
  let worker: TestApp | undefined;

  beforeAll(async () => {
    db = await openDb();
  });

  afterAll(async () => {
    await api?.close();
    await worker?.close();
    await db?.end();
  });

  const uncharged = async (tenantId: string) =>
    (await db.query('SELECT count(*)::int AS n FROM usage_events WHERE tenant_id = $1 AND charged_at IS NULL', [tenantId])).rows[0].n as number;

  it('an API without a worker, then every queue key deleted, then a worker: every event is charged once', async () => {
    api = await startApp({ ROLE: 'api' });
    await ensureSeedModel(api);
    const tenant = await api.tenant('5');
    const sdk = api.openai(tenant.key);
    for (let i = 0; i < REQUESTS; i++) await sdk.responses.create({ model: SEED_MODEL, input: `event ${i}` });
    await api.close();
    api = undefined;
    // Nothing has charged them: no process of this run runs a worker.
    expect(await uncharged(tenant.tenantId)).toBe(REQUESTS);

    // Redis "loses its data": every key under this run's prefix goes, the queued jobs with it.
    const redis = new Redis(process.env.REDIS_URL!);
    try {
      const keys = await redis.keys(`${process.env.QUEUE_PREFIX}:*`);
      expect(keys.length).toBeGreaterThan(0);
      await redis.del(...keys);
    } finally {
      await redis.quit();
    }

    worker = await startApp({ ROLE: 'worker', ...FAST_RELAY });
    await expectMoneyInvariants(db, [tenant.tenantId], 20_000);
    const { rows } = await db.query("SELECT count(*)::int AS n FROM ledger_entries WHERE tenant_id = $1 AND kind = 'charge'", [tenant.tenantId]);
    expect(rows[0].n).toBe(REQUESTS);
  });
});
