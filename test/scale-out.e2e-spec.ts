import OpenAI from 'openai';
import type { Client } from 'pg';
import { addAmounts, negate } from '../src/billing/money';
import { handCharge } from './support/expected-charge';
import { http, SEED_MODEL } from './support/harness';
import { ensureBuilt, isolatedServices, Service, spawnService, stopService } from './support/processes';
import { openDb } from './support/db';

/** docs/scaling.md: N API and M worker processes on one Postgres and one Redis. */
describe('scale-out: two API processes and two workers on one database', () => {
  const services = isolatedServices('scale');
  const running: Service[] = [];
  let db: Client;

  beforeAll(async () => {
    ensureBuilt();
    services.migrate();
    const env = { DATABASE_URL: services.databaseUrl, QUEUE_PREFIX: services.queuePrefix, CHARGE_RELAY_AFTER_MS: '1000', CHARGE_RELAY_EVERY_MS: '300' };
    running.push(spawnService({ ...env, ROLE: 'api' }), spawnService({ ...env, ROLE: 'api' }), spawnService({ ...env, ROLE: 'worker' }), spawnService({ ...env, ROLE: 'worker' }));
    db = await openDb(services.databaseUrl);
  }, 120_000);

  afterAll(async () => {
    await Promise.all(running.map(stopService));
    await db?.end();
    await services.drop();
  }, 60_000);

  it('answers on both APIs and charges every request exactly once', async () => {
    const [a, b] = await Promise.all([running[0].url, running[1].url]);
    const admin = (base: string, method: string, path: string, body?: unknown) => http(base, method, path, { token: process.env.ADMIN_TOKEN, body });
    expect((await admin(a, 'PUT', `/admin/models/${SEED_MODEL}`, { provider: 'simulated', input_price: '0.25', output_price: '2' })).status).toBe(200);
    const tenant = (await admin(b, 'POST', '/admin/tenants', { name: 'scale', credits: '50' })).body;
    const key = (await admin(a, 'POST', `/admin/tenants/${tenant.id}/api-keys`, {})).body.key;

    const clients = [a, b].map((base) => new OpenAI({ apiKey: key, baseURL: `${base}/v1`, maxRetries: 0 }));
    const N = 200;
    const answers = await Promise.all(
      Array.from({ length: N }, (_, i) => clients[i % 2].responses.create({ model: SEED_MODEL, input: `scale ${i}`, stream: false })),
    );
    expect(new Set(answers.map((r) => r.id)).size).toBe(N);

    let charged = 0;
    for (let i = 0; i < 300 && charged < N; i++) {
      charged = (await db.query('SELECT count(*)::int AS n FROM usage_events WHERE tenant_id = $1 AND charged_at IS NOT NULL', [tenant.id])).rows[0].n;
      if (charged < N) await new Promise((r) => setTimeout(r, 100));
    }
    expect(charged).toBe(N);
    const { rows } = await db.query(
      `SELECT e.input_tokens, e.output_tokens, count(l.id)::int AS n, min(l.amount::text) AS amount
         FROM usage_events e LEFT JOIN ledger_entries l ON l.usage_event_id = e.id WHERE e.tenant_id = $1 GROUP BY e.id`,
      [tenant.id],
    );
    expect(rows).toHaveLength(N);
    let total = '0';
    for (const r of rows) {
      expect(r.n).toBe(1);
      const want = handCharge({ input: r.input_tokens, cached: 0, output: r.output_tokens, reasoning: 0 }, { input: '0.25', cachedInput: '0.025', output: '2' });
      expect(addAmounts(r.amount)).toBe(negate(want.total));
      total = addAmounts(total, want.total);
    }
    const balance = (await http(a, 'GET', '/v1/balance', { token: key })).body;
    expect(balance.balance).toBe(addAmounts('50', negate(total)));
    expect(balance.reserved).toBe('0');
  });
});
