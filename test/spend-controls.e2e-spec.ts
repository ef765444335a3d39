import type { Client } from 'pg';
import { openDb } from './support/db';
import { http, startApp, TestApp } from './support/harness';
import { expectMoneyInvariants } from './support/invariants';
import { seedPrice } from './support/prices';

const SIM = `spend-sim-${Date.now()}`;
const OTHER = `spend-other-${Date.now()}`;
// Both at 1.00 USD per 1M tokens in and out, so a request costs (input + output tokens) / 1e6.
const PRICE = { input_price: '1.00', cached_input_price: '1.00', output_price: '1.00', effective_from: '2020-01-01T00:00:00Z' };
const OUTPUT_TOKENS = 100;

/** n micro-dollars as a decimal string ("0.000123"). */
const micros = (n: number) => {
  const s = String(n).padStart(7, '0');
  return `${s.slice(0, -6)}.${s.slice(-6)}`.replace(/0+$/, '').replace(/\.$/, '');
};
/** A decimal string with trailing zeros dropped. */
const plain = (v: string) => (v.includes('.') ? v.replace(/0+$/, '').replace(/\.$/, '') : v);

describe('spend controls: key budgets, expiry, allow-lists, postpaid credit limits', () => {
  let t: TestApp;
  let db: Client;
  /** Tokens (in + out) of the one request every test sends; its cost is that many micro-dollars, exactly its hold. */
  let tokens: number;

  beforeAll(async () => {
    // The answer always has exactly max_output_tokens, so each charge equals its hold.
    t = await startApp({ SIMULATED_OUTPUT_TOKENS: String(OUTPUT_TOKENS), CHARGE_RELAY_AFTER_MS: '300', CHARGE_RELAY_EVERY_MS: '100' });
    db = await openDb();
    await seedPrice(t.env.DATABASE_URL, SIM, PRICE, t);
    await seedPrice(t.env.DATABASE_URL, OTHER, PRICE, t);
    const probe = await t.tenant('1');
    const r = await ask(probe.key);
    expect(r.status).toBe(200);
    tokens = r.body.usage.input_tokens + r.body.usage.output_tokens;
    expect(r.body.usage.output_tokens).toBe(OUTPUT_TOKENS);
    expect(r.body.usage.cost).toBe(micros(tokens));
  });

  afterAll(async () => {
    await db?.end();
    await t?.close();
  });

  const ask = (key: string, model = SIM) => http(t.baseUrl, 'POST', '/v1/responses', { token: key, body: { model, input: 'Say hello.', max_output_tokens: OUTPUT_TOKENS } });
  const newKey = async (tenantId: string, body: Record<string, unknown>) => {
    const k = await t.admin('POST', `/admin/tenants/${tenantId}/api-keys`, body);
    expect(k.status).toBe(201);
    return k.body as { id: string; key: string } & Record<string, unknown>;
  };
  const spent = async (keyId: string) =>
    (await db.query('SELECT COALESCE(sum(spent), 0)::text AS spent, COALESCE(sum(reserved), 0)::text AS reserved FROM key_spend WHERE api_key_id = $1', [keyId])).rows[0];

  it('shows the spend controls on the key, with a budget period of "month" by default', async () => {
    const { tenantId } = await t.tenant('1');
    const k = await newKey(tenantId, { name: 'b', budget_limit: '5.00', expires_at: '2099-01-01T00:00:00Z', allowed_models: [SIM, SIM] });
    expect(k).toMatchObject({ budget_limit: '5', budget_period: 'month', expires_at: '2099-01-01T00:00:00.000Z', allowed_models: [SIM] });
    const patched = await t.admin('PATCH', `/admin/api-keys/${k.id}`, { budget_period: 'week', budget_limit: null, allowed_models: null, expires_at: null });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ budget_limit: null, budget_period: 'week', expires_at: null, allowed_models: null });
    const audit = await db.query(`SELECT action, summary FROM audit_log WHERE target_id = $1 ORDER BY created_at`, [k.id]);
    expect(audit.rows.map((r) => r.action)).toEqual(['api_key.create', 'api_key.update']);
    expect(audit.rows[1].summary).toEqual({ budget_period: 'week', budget_limit: null, allowed_models: null, expires_at: null });
  });

  it('over budget: 429 budget_exceeded, x-should-retry false and retry-after to the UTC midnight', async () => {
    const { tenantId } = await t.tenant('1');
    // Room for one request and a half.
    const k = await newKey(tenantId, { budget_limit: micros(Math.floor(tokens * 1.5)), budget_period: 'day' });
    expect((await ask(k.key)).status).toBe(200);
    const refused = await ask(k.key);
    const now = Date.now();
    expect(refused.status).toBe(429);
    expect(refused.body).toEqual({ error: { message: expect.stringContaining('budget'), type: 'insufficient_quota', param: null, code: 'budget_exceeded' } });
    expect(refused.headers.get('x-should-retry')).toBe('false');
    const midnight = Date.UTC(new Date(now).getUTCFullYear(), new Date(now).getUTCMonth(), new Date(now).getUTCDate() + 1);
    expect(Math.abs(Number(refused.headers.get('retry-after')) - (midnight - now) / 1000)).toBeLessThan(5);
    // A total budget has no reset: no retry-after.
    const total = await newKey(tenantId, { budget_limit: '0', budget_period: 'total' });
    const never = await ask(total.key);
    expect(never.status).toBe(429);
    expect(never.headers.get('retry-after')).toBeNull();
  });

  it('50 concurrent requests on a key budget: the budget is never overspent, and spent is exact after the charges', async () => {
    const { tenantId } = await t.tenant('100');
    // 10.5 requests' worth: exactly 10 fit (each holds what it costs).
    const k = await newKey(tenantId, { budget_limit: micros(tokens * 10 + Math.floor(tokens / 2)), budget_period: 'month' });
    const results = await Promise.all(Array.from({ length: 50 }, () => ask(k.key)));
    expect(results.filter((r) => r.status === 200)).toHaveLength(10);
    expect(results.filter((r) => r.status === 429).every((r) => r.body.error.code === 'budget_exceeded')).toBe(true);
    await expectMoneyInvariants(db, [tenantId]);
    const row = await spent(k.id);
    expect([plain(row.spent), plain(row.reserved)]).toEqual([micros(tokens * 10), '0']);
    const balance = await http(t.baseUrl, 'GET', '/v1/balance', { token: k.key });
    expect(balance.body.budget).toEqual({
      limit: micros(tokens * 10 + Math.floor(tokens / 2)),
      period: 'month',
      spent: micros(tokens * 10),
      reserved: '0',
      remaining: micros(Math.floor(tokens / 2)),
      resets_at: new Date(Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth() + 1, 1)).toISOString(),
    });
    expect(balance.body.credit_limit).toBe('0');
  });

  it('50 concurrent requests on a postpaid credit limit: the balance goes below zero by at most the limit', async () => {
    const { tenantId, key } = await t.tenant('0');
    const limit = micros(tokens * 10 + Math.floor(tokens / 2));
    const patched = await t.admin('PATCH', `/admin/tenants/${tenantId}`, { credit_limit: limit, low_balance_threshold: '0.5' });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ credit_limit: limit, low_balance_threshold: '0.5', status: 'active' });
    const results = await Promise.all(Array.from({ length: 50 }, () => ask(key)));
    expect(results.filter((r) => r.status === 200)).toHaveLength(10);
    for (const r of results.filter((x) => x.status !== 200)) {
      expect(r.status).toBe(429);
      expect(r.body.error).toMatchObject({ type: 'insufficient_quota', code: 'insufficient_quota' });
    }
    await expectMoneyInvariants(db, [tenantId]);
    const balance = await http(t.baseUrl, 'GET', '/v1/balance', { token: key });
    expect(balance.body).toMatchObject({ balance: `-${micros(tokens * 10)}`, reserved: '0', credit_limit: limit, available: micros(Math.floor(tokens / 2)), budget: null });
    expect((await t.admin('GET', `/admin/tenants/${tenantId}`)).body.balance).toBe(`-${micros(tokens * 10)}`);
  });

  it('an expired key is a 401 invalid_api_key, also once a PATCH expires a key in use', async () => {
    const { tenantId } = await t.tenant('1');
    const old = await newKey(tenantId, { expires_at: '2020-01-01T00:00:00Z' });
    const r = await ask(old.key);
    expect(r.status).toBe(401);
    expect(r.body.error).toMatchObject({ type: 'invalid_request_error', code: 'invalid_api_key' });
    const live = await newKey(tenantId, {});
    expect((await ask(live.key)).status).toBe(200);
    expect((await t.admin('PATCH', `/admin/api-keys/${live.id}`, { expires_at: new Date(Date.now() - 1000).toISOString() })).status).toBe(200);
    expect((await http(t.baseUrl, 'GET', '/v1/models', { token: live.key })).status).toBe(401);
  });

  it('a model outside allowed_models is a 403 model_not_allowed, and /v1/models lists only the allowed ones', async () => {
    const { tenantId } = await t.tenant('1');
    const k = await newKey(tenantId, { allowed_models: [SIM] });
    expect((await ask(k.key, SIM)).status).toBe(200);
    const refused = await ask(k.key, OTHER);
    expect(refused.status).toBe(403);
    expect(refused.body.error).toMatchObject({ type: 'invalid_request_error', code: 'model_not_allowed', param: 'model' });
    const chat = await http(t.baseUrl, 'POST', '/v1/chat/completions', { token: k.key, body: { model: OTHER, messages: [{ role: 'user', content: 'hi' }] } });
    expect(chat.status).toBe(403);
    const models = await http(t.baseUrl, 'GET', '/v1/models', { token: k.key });
    expect(models.body.data.map((m: { id: string }) => m.id)).toEqual([SIM]);
    expect((await http(t.baseUrl, 'GET', `/v1/models/${OTHER}`, { token: k.key })).status).toBe(404);
    expect((await http(t.baseUrl, 'GET', `/v1/models/${SIM}`, { token: k.key })).status).toBe(200);
    // Lifting the allow-list reaches the cached key at once.
    expect((await t.admin('PATCH', `/admin/api-keys/${k.id}`, { allowed_models: null })).status).toBe(200);
    expect((await ask(k.key, OTHER)).status).toBe(200);
  });

  it.each([
    ['budget_limit', { budget_limit: '-1' }],
    ['budget_limit', { budget_limit: 5 }],
    ['budget_period', { budget_limit: '5', budget_period: 'year' }],
    ['expires_at', { expires_at: 'next tuesday' }],
    ['allowed_models', { allowed_models: [SIM, 'no-such-model'] }],
    ['allowed_models', { allowed_models: 'seed' }],
    ['allowed_models', { allowed_models: [] }],
  ])('a bad key field is a 400 naming %s', async (param, body) => {
    const { tenantId, keyId } = await t.tenant('1');
    for (const [method, path] of [
      ['POST', `/admin/tenants/${tenantId}/api-keys`],
      ['PATCH', `/admin/api-keys/${keyId}`],
    ]) {
      const r = await t.admin(method, path, body);
      expect(r.status).toBe(400);
      expect(r.body.error).toMatchObject({ type: 'invalid_request_error', code: 'invalid_value', param });
    }
  });

  it.each([
    ['credit_limit', { credit_limit: '-5' }],
    ['credit_limit', { credit_limit: 100 }],
    ['low_balance_threshold', { low_balance_threshold: 'five' }],
  ])('a bad tenant field is a 400 naming %s', async (param, body) => {
    const { tenantId } = await t.tenant('1');
    const r = await t.admin('PATCH', `/admin/tenants/${tenantId}`, body);
    expect(r.status).toBe(400);
    expect(r.body.error).toMatchObject({ code: 'invalid_value', param });
  });
});
