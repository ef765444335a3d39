import type { Client } from 'pg';
import { PrismaService } from '../src/prisma/prisma.service';
import { openDb } from './support/db';
import { http, startApp, TestApp } from './support/harness';
import { seedPrice } from './support/prices';
import { waitFor } from './support/wait';
import { WebhookReceiver } from './support/webhook-receiver';

const SIM = `prisma-free-${Date.now()}`;
// 1.00 USD per 1M tokens: a request costs its tokens in micro-dollars.
const PRICE = { input_price: '1.00', cached_input_price: '1.00', output_price: '1.00', effective_from: '2020-01-01T00:00:00Z' };
const OUTPUT_TOKENS = 20;
/** Every periodic task ticks several times a second; streams last long enough to be checkpointed. */
const FAST = {
  SIMULATED_OUTPUT_TOKENS: String(OUTPUT_TOKENS),
  SIMULATED_TOKENS_PER_SECOND: '100',
  STREAM_CHECKPOINT_MS: '50',
  CHARGE_RELAY_EVERY_MS: '100',
  CHARGE_RELAY_AFTER_MS: '200',
  WEBHOOK_SWEEP_EVERY_MS: '100',
  INVOICE_SWEEP_EVERY_MS: '100',
  WEBHOOK_ALLOW_PRIVATE: 'true',
  WEBHOOK_RETRY_BASE_MS: '100',
};

/**
 * The Prisma client's query compiler is WebAssembly, loaded with its first query (tens of MB of
 * RSS): a ROLE=all process serving only tenants' traffic and running its workers and periodic
 * tasks must never send a statement through it. Admin calls set the scene first (they use Prisma);
 * from then on the client's statement count must not move.
 */
describe("tenants' traffic and the workers send nothing through the Prisma client", () => {
  let t: TestApp;
  let db: Client;
  let receiver: WebhookReceiver;

  beforeAll(async () => {
    t = await startApp(FAST);
    db = await openDb();
    receiver = await new WebhookReceiver().start();
  });

  afterAll(async () => {
    await receiver?.stop();
    await db?.end();
    await t?.close();
  });

  it('answers, charges, alerts, relays, sweeps and polls on plain pg alone', async () => {
    await seedPrice(t.env.DATABASE_URL, SIM, PRICE, t);
    const { tenantId, key } = await t.tenant('1');
    // The first charge takes the balance below the threshold: a balance.low webhook, written in the charge.
    expect((await t.admin('PATCH', `/admin/tenants/${tenantId}`, { low_balance_threshold: '0.999999' })).status).toBe(200);
    expect((await t.admin('POST', '/admin/webhooks', { url: receiver.url, events: ['balance.low'], tenant_id: tenantId })).status).toBe(201);
    const budgeted = await t.admin('POST', `/admin/tenants/${tenantId}/api-keys`, { name: 'budgeted', budget_limit: '10', budget_period: 'day' });
    expect(budgeted.status).toBe(201);
    const prisma = t.app.get(PrismaService);
    const before = prisma.use.statements;

    const client = t.openai(key);
    const first = await client.responses.create({ model: SIM, input: 'Say hello.' });
    await client.responses.create({ model: SIM, input: 'And again.', previous_response_id: first.id });
    for await (const event of await client.responses.create({ model: SIM, input: 'Stream it.', stream: true })) void event;
    await client.chat.completions.create({ model: SIM, messages: [{ role: 'user', content: 'Hi.' }] });
    for await (const chunk of await client.chat.completions.create({ model: SIM, messages: [{ role: 'user', content: 'Hi.' }], stream: true })) void chunk;
    expect((await client.models.list()).data.map((m) => m.id)).toContain(SIM);
    expect((await client.models.retrieve(SIM)).id).toBe(SIM);
    expect((await client.responses.retrieve(first.id)).id).toBe(first.id);
    // A key not seen before: a key cache miss, looked up in Postgres; its budget shows in the balance.
    const budgetedClient = t.openai(budgeted.body.key);
    await budgetedClient.responses.create({ model: SIM, input: 'On a budget.' });
    for (const token of [key, budgeted.body.key]) expect((await http(t.baseUrl, 'GET', '/v1/balance', { token })).status).toBe(200);
    expect((await http(t.baseUrl, 'GET', '/health')).status).toBe(200);
    expect((await http(t.baseUrl, 'GET', '/ready')).status).toBe(200);

    await waitFor('every charge', async () => {
      const { rows } = await db.query('SELECT count(*)::int AS n FROM usage_events WHERE tenant_id = $1 AND charged_at IS NULL', [tenantId]);
      return rows[0].n === 0;
    });
    await waitFor('the balance.low delivery', () => receiver.accepted.length >= 1);
    const { rows } = await db.query('SELECT count(*)::int AS n FROM usage_events WHERE tenant_id = $1 AND checkpointed_at IS NOT NULL', [tenantId]);
    expect(rows[0].n).toBeGreaterThan(0);
    // Every periodic task (relay and lease settlement, sweepers, auth revision poll) ticks a few more times.
    await new Promise((resolve) => setTimeout(resolve, 1000));

    expect(prisma.use.statements - before).toBe(0);
  });
});
