import { Webhook } from 'standardwebhooks';
import { http, startApp, TestApp } from './support/harness';
import { seedPrice } from './support/prices';
import { waitFor } from './support/wait';
import { ReceivedWebhook, WebhookReceiver } from './support/webhook-receiver';

const SIM = `spend-hooks-${Date.now()}`;
// 1.00 USD per 1M tokens in and out: a request costs (input + output tokens) micro-dollars.
const PRICE = { input_price: '1.00', cached_input_price: '1.00', output_price: '1.00', effective_from: '2020-01-01T00:00:00Z' };
const OUTPUT_TOKENS = 100;
const HOOKS = { WEBHOOK_ALLOW_PRIVATE: 'true', WEBHOOK_RETRY_BASE_MS: '150', WEBHOOK_SWEEP_EVERY_MS: '300', WEBHOOK_TIMEOUT_MS: '2000' };

/** n micro-dollars as a decimal string ("0.000123", "-0.00025"). */
const micros = (n: number): string => {
  if (n < 0) return `-${micros(-n)}`;
  const s = String(n).padStart(7, '0');
  return `${s.slice(0, -6)}.${s.slice(-6)}`.replace(/0+$/, '').replace(/\.$/, '');
};

describe('spend webhooks: balance.low and budget.threshold', () => {
  let t: TestApp;
  /** Micro-dollars of the one request every test sends: its exact charge, and its hold. */
  let c: number;
  const receivers: WebhookReceiver[] = [];

  beforeAll(async () => {
    t = await startApp({ ...HOOKS, SIMULATED_OUTPUT_TOKENS: String(OUTPUT_TOKENS) });
    await seedPrice(t.env.DATABASE_URL, SIM, PRICE, t);
    const probe = await t.tenant('1');
    const r = await ask(probe.key);
    expect(r.status).toBe(200);
    c = r.body.usage.input_tokens + r.body.usage.output_tokens;
    expect(r.body.usage.cost).toBe(micros(c));
  });

  afterAll(async () => {
    await Promise.all(receivers.map((r) => r.stop()));
    await t?.close();
  });

  const ask = (key: string) => http(t.baseUrl, 'POST', '/v1/responses', { token: key, body: { model: SIM, input: 'Say hello.', max_output_tokens: OUTPUT_TOKENS } });

  /** One request, answered, then waits until its charge is in the tenant's balance. */
  async function charged(key: string, tenantId: string, balanceAfter: number) {
    const r = await ask(key);
    expect(r.status).toBe(200);
    await waitFor(`balance ${micros(balanceAfter)}`, async () => (await t.admin('GET', `/admin/tenants/${tenantId}`)).body.balance === micros(balanceAfter));
  }

  async function subscribed(tenantId: string, events: string[]) {
    const r = await new WebhookReceiver().start();
    receivers.push(r);
    const res = await t.admin('POST', '/admin/webhooks', { url: r.url, events, tenant_id: tenantId });
    expect(res.status).toBe(201);
    return { r, secret: res.body.secret as string, id: res.body.id as string };
  }

  const verified = (secret: string, got: ReceivedWebhook[]) =>
    got.map((x) =>
      new Webhook(secret).verify(x.body, {
        'webhook-id': String(x.headers['webhook-id']),
        'webhook-timestamp': String(x.headers['webhook-timestamp']),
        'webhook-signature': String(x.headers['webhook-signature']),
      }),
    ) as Array<{ id: string; type: string; created_at: string; data: Record<string, unknown> }>;

  /** Long enough for a delivery that was wrongly queued to arrive (sweeper and first attempt). */
  const settle = () => new Promise((res) => setTimeout(res, 1200));

  it('balance.low once per downward crossing of a prepaid balance, again after a top-up and a new crossing', async () => {
    const { tenantId, key } = await t.tenant(micros(3 * c));
    expect((await t.admin('PATCH', `/admin/tenants/${tenantId}`, { low_balance_threshold: micros(2 * c) })).status).toBe(200);
    const { r, secret, id } = await subscribed(tenantId, ['balance.low']);

    await charged(key, tenantId, 2 * c); // at the threshold is not below it
    await charged(key, tenantId, c); // crosses
    await charged(key, tenantId, 0); // already below: nothing new
    await waitFor('the first balance.low', () => r.received.length >= 1);
    await settle();
    const [first] = verified(secret, r.received);
    expect(r.received).toHaveLength(1);
    expect(first).toEqual({
      id: r.received[0].headers['webhook-id'],
      type: 'balance.low',
      created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      data: { tenant_id: tenantId, balance: micros(c), available: micros(c), threshold: micros(2 * c) },
    });

    // Back to the threshold exactly, then one charge below it: a second crossing.
    expect((await t.admin('POST', `/admin/tenants/${tenantId}/credits`, { amount: micros(2 * c) })).status).toBe(201);
    await charged(key, tenantId, c);
    await waitFor('the second balance.low', () => r.received.length >= 2);
    await settle();
    expect(r.received).toHaveLength(2);
    const [, second] = verified(secret, r.received);
    expect(second.id).not.toBe(first.id);
    expect(second.data).toEqual({ tenant_id: tenantId, balance: micros(c), available: micros(c), threshold: micros(2 * c) });
    const list = await t.admin('GET', `/admin/webhooks/${id}/deliveries`);
    expect(list.body.data.map((d: { event_id: string; status: string }) => [d.event_id, d.status])).toEqual([
      [second.id, 'delivered'],
      [first.id, 'delivered'],
    ]);
  });

  it('balance.low on a postpaid tenant when the available balance (credit limit included) crosses below the threshold', async () => {
    const { tenantId, key } = await t.tenant('0');
    const patch = await t.admin('PATCH', `/admin/tenants/${tenantId}`, { credit_limit: micros(3 * c), low_balance_threshold: micros(2 * c) });
    expect(patch.status).toBe(200);
    const { r, secret } = await subscribed(tenantId, ['balance.low']);

    await charged(key, tenantId, -c); // available 2c: not below
    await charged(key, tenantId, -2 * c); // available c: crosses
    await charged(key, tenantId, -3 * c); // available 0: already below
    await waitFor('balance.low', () => r.received.length >= 1);
    await settle();
    expect(r.received).toHaveLength(1);
    expect(verified(secret, r.received)[0].data).toEqual({ tenant_id: tenantId, balance: micros(-2 * c), available: micros(c), threshold: micros(2 * c) });
    const balance = await http(t.baseUrl, 'GET', '/v1/balance', { token: key });
    expect(balance.body).toMatchObject({ balance: micros(-3 * c), available: '0', credit_limit: micros(3 * c) });
  });

  it('budget.threshold at 80% and at 100% of a daily budget, once each in the period', async () => {
    const { tenantId } = await t.tenant('1');
    const k = await t.admin('POST', `/admin/tenants/${tenantId}/api-keys`, { budget_limit: micros(5 * c), budget_period: 'day' });
    expect(k.status).toBe(201);
    const { r, secret } = await subscribed(tenantId, ['budget.threshold']);
    const balanceOf = (n: number) => 1_000_000 - n * c;

    for (let n = 1; n <= 3; n++) await charged(k.body.key, tenantId, balanceOf(n));
    await settle();
    expect(r.received).toHaveLength(0);
    await charged(k.body.key, tenantId, balanceOf(4)); // 4c of 5c: 80%
    await waitFor('the 80% event', () => r.received.length >= 1);
    await charged(k.body.key, tenantId, balanceOf(5)); // 100%
    await waitFor('the 100% event', () => r.received.length >= 2);
    expect((await ask(k.body.key)).status).toBe(429);

    // A larger budget in the same period reaches 80% and 100% again, but they were sent already.
    expect((await t.admin('PATCH', `/admin/api-keys/${k.body.id}`, { budget_limit: micros(6 * c) })).status).toBe(200);
    await charged(k.body.key, tenantId, balanceOf(6));
    await settle();
    expect(r.received).toHaveLength(2);

    const now = new Date();
    const periodStart = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate())).toISOString();
    const resetsAt = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1)).toISOString();
    const common = { tenant_id: tenantId, api_key_id: k.body.id, limit: micros(5 * c), period_start: periodStart, resets_at: resetsAt };
    expect(verified(secret, r.received).map((p) => [p.type, p.data])).toEqual([
      ['budget.threshold', { ...common, percent: 80, spent: micros(4 * c) }],
      ['budget.threshold', { ...common, percent: 100, spent: micros(5 * c) }],
    ]);
  });

  it('budget.threshold on a total budget: both marks reached by one charge, resets_at null', async () => {
    const { tenantId } = await t.tenant('1');
    const k = await t.admin('POST', `/admin/tenants/${tenantId}/api-keys`, { budget_limit: micros(2 * c), budget_period: 'total' });
    expect(k.status).toBe(201);
    const { r, secret } = await subscribed(tenantId, ['budget.threshold']);
    await charged(k.body.key, tenantId, 1_000_000 - c);
    await settle();
    expect(r.received).toHaveLength(0);
    await charged(k.body.key, tenantId, 1_000_000 - 2 * c);
    await waitFor('both events', () => r.received.length >= 2);
    await settle();
    expect(r.received).toHaveLength(2);
    const common = { tenant_id: tenantId, api_key_id: k.body.id, limit: micros(2 * c), spent: micros(2 * c), resets_at: null };
    const got = verified(secret, r.received).map((p) => p.data);
    expect(got.sort((x, y) => Number(x.percent) - Number(y.percent))).toEqual([
      { ...common, percent: 80, period_start: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) },
      { ...common, percent: 100, period_start: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) },
    ]);
  });
});
