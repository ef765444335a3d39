import { isUniqueViolation, LedgerService } from '../src/billing/ledger.service';
import { addAmounts, compareAmounts } from '../src/billing/money';
import { PrismaService } from '../src/prisma/prisma.service';
import { ensureSeedModel, http, HttpResult, SEED_MODEL, startApp, TestApp } from './support/harness';
import { seedPrice } from './support/prices';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const MISSING_UUID = '00000000-0000-4000-8000-000000000000';

let t: TestApp;

beforeAll(async () => {
  t = await startApp();
});

afterAll(async () => {
  await t?.close();
});

/** Asserts the OpenAI error shape, the status, code and param. */
function expectApiError(res: HttpResult, status: number, code: string | null, param?: string | null, type = 'invalid_request_error') {
  expect({ status: res.status, body: res.body }).toMatchObject({ status, body: { error: { type, code } } });
  expect(typeof res.body.error.message).toBe('string');
  expect(Object.keys(res.body.error).sort()).toEqual(['code', 'message', 'param', 'type']);
  if (param !== undefined) expect(res.body.error.param).toBe(param);
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  expect(res.headers.get('x-request-id')).toBeTruthy();
}

async function newTenant(credits?: string, name = `t-${Math.random().toString(36).slice(2, 8)}`) {
  const res = await t.admin('POST', '/admin/tenants', credits === undefined ? { name } : { name, credits });
  expect(res.status).toBe(201);
  return res.body as { id: string; name: string; status: string; balance: string; created_at: string };
}

async function fullLedger(tenantId: string) {
  const res = await t.admin('GET', `/admin/tenants/${tenantId}/ledger?limit=1000`);
  expect(res.status).toBe(200);
  expect(res.body.has_more).toBe(false);
  return res.body.data as Array<{ id: string; kind: string; amount: string; balance_after: string; reference: string | null; response_id: string | null; created_at: string }>;
}

async function expectBalanceMatchesLedger(tenantId: string) {
  const tenant = await t.admin('GET', `/admin/tenants/${tenantId}`);
  const entries = await fullLedger(tenantId);
  const sum = addAmounts('0', ...entries.map((e) => e.amount));
  expect(compareAmounts(tenant.body.balance, sum)).toBe(0);
  if (entries.length) expect(compareAmounts(entries[entries.length - 1].balance_after, tenant.body.balance)).toBe(0);
  return { balance: tenant.body.balance as string, entries };
}

/** A key's spend controls when none are set. */
const NO_SPEND_CONTROLS = { budget_limit: null, budget_period: null, expires_at: null, allowed_models: null };

describe('admin auth', () => {
  // Every row has a body slot: with fewer arguments than the test function, jest would pass `done`.
  const routes: Array<[string, string, unknown]> = [
    ['POST', '/admin/tenants', { name: 'x' }],
    ['GET', '/admin/tenants', undefined],
    ['GET', `/admin/tenants/${MISSING_UUID}`, undefined],
    ['PATCH', `/admin/tenants/${MISSING_UUID}`, { status: 'active' }],
    ['POST', `/admin/tenants/${MISSING_UUID}/credits`, { amount: '1' }],
    ['GET', `/admin/tenants/${MISSING_UUID}/ledger`, undefined],
    ['POST', `/admin/tenants/${MISSING_UUID}/api-keys`, {}],
    ['GET', `/admin/tenants/${MISSING_UUID}/api-keys`, undefined],
    ['DELETE', `/admin/api-keys/${MISSING_UUID}`, undefined],
    ['PUT', '/admin/models/m', { provider: 'simulated', input_price: '1', output_price: '1' }],
    ['GET', '/admin/models', undefined],
    ['GET', '/admin/models/m/prices', undefined],
  ];

  it.each(routes)('%s %s without a token is 401 invalid_api_key', async (method, path, body) => {
    const res = await http(t.baseUrl, method, path, { body });
    expectApiError(res, 401, 'invalid_api_key', null);
  });

  it.each(routes)('%s %s with a wrong token is 401 invalid_api_key', async (method, path, body) => {
    const res = await http(t.baseUrl, method, path, { body, token: `${t.env.ADMIN_TOKEN}x` });
    expectApiError(res, 401, 'invalid_api_key', null);
  });

  it('refuses a tenant API key and a non-Bearer header', async () => {
    const { key } = await t.tenant('1');
    expectApiError(await http(t.baseUrl, 'GET', '/admin/tenants', { token: key }), 401, 'invalid_api_key');
    const basic = await http(t.baseUrl, 'GET', '/admin/tenants', { headers: { authorization: `Basic ${t.env.ADMIN_TOKEN}` } });
    expectApiError(basic, 401, 'invalid_api_key');
  });

  it('answers with an x-request-id on success too', async () => {
    const res = await t.admin('GET', '/admin/tenants');
    expect(res.status).toBe(200);
    expect(res.headers.get('x-request-id')).toMatch(/^req_/);
  });
});

describe('tenants', () => {
  it('creates a tenant without credits: balance 0, no ledger entry', async () => {
    const res = await t.admin('POST', '/admin/tenants', { name: 'Acme' });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      id: expect.stringMatching(UUID),
      name: 'Acme',
      status: 'active',
      balance: '0',
      credit_limit: '0',
      low_balance_threshold: null,
      created_at: expect.stringMatching(ISO),
    });
    expect(await fullLedger(res.body.id)).toEqual([]);
  });

  it('creates a tenant with opening credits written as a ledger credit', async () => {
    const tenant = await newTenant('10.00');
    expect(tenant.balance).toBe('10');
    const entries = await fullLedger(tenant.id);
    expect(entries).toEqual([
      {
        id: expect.stringMatching(UUID),
        kind: 'credit',
        amount: '10',
        balance_after: '10',
        response_id: null,
        reference: 'opening',
        created_at: expect.stringMatching(ISO),
      },
    ]);
  });

  it('gets a tenant by id', async () => {
    const tenant = await newTenant('2.5');
    const res = await t.admin('GET', `/admin/tenants/${tenant.id}`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual(tenant);
  });

  it.each([MISSING_UUID, 'not-a-uuid', '123'])('GET /admin/tenants/%s is 404 not_found', async (id) => {
    expectApiError(await t.admin('GET', `/admin/tenants/${id}`), 404, 'not_found');
  });

  it('lists tenants newest first', async () => {
    const a = await newTenant();
    const b = await newTenant();
    const res = await t.admin('GET', '/admin/tenants');
    expect(res.status).toBe(200);
    const ids = (res.body.data as Array<{ id: string }>).map((x) => x.id);
    expect(ids).toContain(a.id);
    expect(ids.indexOf(b.id)).toBeLessThan(ids.indexOf(a.id));
    expect(res.body.data.find((x: { id: string }) => x.id === a.id)).toEqual(a);
  });

  it('suspends and reactivates a tenant; a suspended tenant\'s keys are refused', async () => {
    const { tenantId, key } = await t.tenant('1');
    expect((await http(t.baseUrl, 'GET', '/v1/models', { token: key })).status).toBe(200);
    const suspended = await t.admin('PATCH', `/admin/tenants/${tenantId}`, { status: 'suspended' });
    expect(suspended.status).toBe(200);
    expect(suspended.body).toMatchObject({ id: tenantId, status: 'suspended', balance: '1' });
    expectApiError(await http(t.baseUrl, 'GET', '/v1/models', { token: key }), 401, 'invalid_api_key');
    const active = await t.admin('PATCH', `/admin/tenants/${tenantId}`, { status: 'active' });
    expect(active.body.status).toBe('active');
    expect((await http(t.baseUrl, 'GET', '/v1/models', { token: key })).status).toBe(200);
  });

  it('PATCH an unknown tenant is 404; a bad status is 400 param status', async () => {
    expectApiError(await t.admin('PATCH', `/admin/tenants/${MISSING_UUID}`, { status: 'active' }), 404, 'not_found');
    const tenant = await newTenant();
    expectApiError(await t.admin('PATCH', `/admin/tenants/${tenant.id}`, { status: 'deleted' }), 400, 'invalid_value', 'status');
    expectApiError(await t.admin('PATCH', `/admin/tenants/${tenant.id}`, {}), 400, 'invalid_value', 'status');
  });
});

describe('credits', () => {
  it('adds credits exactly and returns the new balance and the entry id', async () => {
    const tenant = await newTenant('10.00');
    const res = await t.admin('POST', `/admin/tenants/${tenant.id}/credits`, { amount: '5.00' });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ balance: '15', entry_id: expect.stringMatching(UUID) });
    const tiny = await t.admin('POST', `/admin/tenants/${tenant.id}/credits`, { amount: '0.000000000000000001' });
    expect(tiny.body.balance).toBe('15.000000000000000001');
    const point = await t.admin('POST', `/admin/tenants/${tenant.id}/credits`, { amount: '0.1' });
    const point2 = await t.admin('POST', `/admin/tenants/${tenant.id}/credits`, { amount: '0.2' });
    expect(point.body.balance).toBe('15.100000000000000001');
    expect(point2.body.balance).toBe('15.300000000000000001');
    const { entries } = await expectBalanceMatchesLedger(tenant.id);
    expect(entries.map((e) => e.amount)).toEqual(['10', '5', '0.000000000000000001', '0.1', '0.2']);
    expect(entries[1]).toMatchObject({ id: res.body.entry_id, kind: 'credit', balance_after: '15', reference: null });
  });

  it('a repeated reference is a no-op returning the same entry and the current balance', async () => {
    const tenant = await newTenant('1');
    const first = await t.admin('POST', `/admin/tenants/${tenant.id}/credits`, { amount: '5', reference: 'invoice-42' });
    expect(first.status).toBe(201);
    expect(first.body.balance).toBe('6');
    await t.admin('POST', `/admin/tenants/${tenant.id}/credits`, { amount: '1' });
    const again = await t.admin('POST', `/admin/tenants/${tenant.id}/credits`, { amount: '5', reference: 'invoice-42' });
    expect(again.status).toBe(201);
    expect(again.body).toEqual({ balance: '7', entry_id: first.body.entry_id });
    const { entries } = await expectBalanceMatchesLedger(tenant.id);
    expect(entries.filter((e) => e.reference === 'invoice-42')).toHaveLength(1);
    // The same reference on another tenant is a different credit.
    const other = await newTenant();
    const elsewhere = await t.admin('POST', `/admin/tenants/${other.id}/credits`, { amount: '5', reference: 'invoice-42' });
    expect(elsewhere.body.balance).toBe('5');
    expect(elsewhere.body.entry_id).not.toBe(first.body.entry_id);
  });

  it('10 concurrent credits with the same reference write one entry', async () => {
    const tenant = await newTenant('1');
    const results = await Promise.all(
      Array.from({ length: 10 }, () => t.admin('POST', `/admin/tenants/${tenant.id}/credits`, { amount: '2.50', reference: 'race' })),
    );
    expect(results.map((r) => r.status)).toEqual(Array(10).fill(201));
    expect(new Set(results.map((r) => r.body.entry_id)).size).toBe(1);
    const { balance, entries } = await expectBalanceMatchesLedger(tenant.id);
    expect(balance).toBe('3.5');
    expect(entries.filter((e) => e.reference === 'race')).toHaveLength(1);
  });

  it('LedgerService: a duplicate reference is P2002 from the database; racing credits write once', async () => {
    const tenant = await newTenant('1');
    const ledger = t.app.get(LedgerService);
    const prisma = t.app.get(PrismaService);
    const first = await ledger.credit(tenant.id, '1', 'direct');
    expect(first).toMatchObject({ balance: '2', created: true });
    const err = await prisma.$transaction((tx) => ledger.creditWithin(tx, tenant.id, '1', 'direct')).catch((e: unknown) => e);
    expect(isUniqueViolation(err)).toBe(true);
    const results = await Promise.all(Array.from({ length: 10 }, () => ledger.credit(tenant.id, '3', 'direct-race')));
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect(new Set(results.map((r) => r.entryId)).size).toBe(1);
    const { balance } = await expectBalanceMatchesLedger(tenant.id);
    expect(balance).toBe('5');
  });

  it('concurrent distinct credits all land: balance == sum of ledger entries', async () => {
    const tenant = await newTenant('0.1');
    const amounts = Array.from({ length: 20 }, (_, i) => `0.${String(i + 1).padStart(3, '0')}000000001`);
    const results = await Promise.all(amounts.map((amount) => t.admin('POST', `/admin/tenants/${tenant.id}/credits`, { amount })));
    expect(results.every((r) => r.status === 201)).toBe(true);
    const { balance, entries } = await expectBalanceMatchesLedger(tenant.id);
    expect(balance).toBe(addAmounts('0.1', ...amounts));
    expect(entries).toHaveLength(21);
    // Each entry's balance_after is the running sum in ledger order.
    let running = '0';
    for (const e of entries) {
      running = addAmounts(running, e.amount);
      expect(e.balance_after).toBe(running);
    }
  });

  it('unknown tenant is 404', async () => {
    expectApiError(await t.admin('POST', `/admin/tenants/${MISSING_UUID}/credits`, { amount: '1' }), 404, 'not_found');
    expectApiError(await t.admin('POST', '/admin/tenants/nope/credits', { amount: '1' }), 404, 'not_found');
  });

  it.each<[string, unknown]>([
    ['negative', { amount: '-5.00' }],
    ['zero', { amount: '0' }],
    ['zero with decimals', { amount: '0.00' }],
    ['a JSON number', { amount: 5 }],
    ['not a number', { amount: 'five' }],
    ['an exponent', { amount: '1e3' }],
    ['too many decimals', { amount: '1.0000000000000000001' }],
    ['missing', {}],
  ])('amount %s is 400 param amount', async (_, body) => {
    const tenant = await newTenant('1');
    expectApiError(await t.admin('POST', `/admin/tenants/${tenant.id}/credits`, body), 400, 'invalid_value', 'amount');
    expect((await t.admin('GET', `/admin/tenants/${tenant.id}`)).body.balance).toBe('1');
  });

  it('an amount that would overflow the balance is 400 param amount', async () => {
    const tenant = await newTenant('99999999999999999999');
    expectApiError(await t.admin('POST', `/admin/tenants/${tenant.id}/credits`, { amount: '1' }), 400, 'invalid_value', 'amount');
    await expectBalanceMatchesLedger(tenant.id);
  });
});

describe('ledger', () => {
  it('pages with limit, has_more and after, in created_at order', async () => {
    const tenant = await newTenant('1');
    for (const amount of ['2', '3', '4', '5', '6']) {
      await t.admin('POST', `/admin/tenants/${tenant.id}/credits`, { amount });
    }
    const seen: string[] = [];
    let after: string | undefined;
    let pages = 0;
    for (;;) {
      const res = await t.admin('GET', `/admin/tenants/${tenant.id}/ledger?limit=2${after ? `&after=${after}` : ''}`);
      expect(res.status).toBe(200);
      pages++;
      seen.push(...res.body.data.map((e: { amount: string }) => e.amount));
      if (!res.body.has_more) break;
      expect(res.body.data).toHaveLength(2);
      after = res.body.data[res.body.data.length - 1].id;
    }
    expect(pages).toBe(3);
    expect(seen).toEqual(['1', '2', '3', '4', '5', '6']);
    const def = await t.admin('GET', `/admin/tenants/${tenant.id}/ledger`);
    expect(def.body.data).toHaveLength(6);
    expect(def.body.has_more).toBe(false);
  });

  it('filters by from (inclusive) and to (exclusive)', async () => {
    const tenant = await newTenant('1');
    const all = await fullLedger(tenant.id);
    const at = all[0].created_at;
    const from = await t.admin('GET', `/admin/tenants/${tenant.id}/ledger?from=${encodeURIComponent(at)}`);
    expect(from.body.data).toHaveLength(1);
    const to = await t.admin('GET', `/admin/tenants/${tenant.id}/ledger?to=${encodeURIComponent(at)}`);
    expect(to.body.data).toHaveLength(0);
    const future = await t.admin('GET', `/admin/tenants/${tenant.id}/ledger?from=2999-01-01T00:00:00Z`);
    expect(future.body).toEqual({ data: [], has_more: false });
  });

  it.each<[string, string]>([
    ['limit=0', 'limit'],
    ['limit=1001', 'limit'],
    ['limit=abc', 'limit'],
    ['limit=1.5', 'limit'],
    ['from=yesterday', 'from'],
    ['to=2024-13-45', 'to'],
    ['from=2025-01-02T00:00:00Z&to=2025-01-01T00:00:00Z', 'to'],
    [`after=${MISSING_UUID}`, 'after'],
    ['after=garbage', 'after'],
  ])('?%s is 400 param %s', async (query, param) => {
    const tenant = await newTenant('1');
    expectApiError(await t.admin('GET', `/admin/tenants/${tenant.id}/ledger?${query}`), 400, 'invalid_value', param);
  });

  it('an entry of another tenant is not a valid cursor; unknown query params are refused', async () => {
    const a = await newTenant('1');
    const b = await newTenant('1');
    const [entry] = await fullLedger(a.id);
    expectApiError(await t.admin('GET', `/admin/tenants/${b.id}/ledger?after=${entry.id}`), 400, 'invalid_value', 'after');
    expectApiError(await t.admin('GET', `/admin/tenants/${b.id}/ledger?page=2`), 400, 'unknown_parameter', 'page');
  });

  it('unknown tenant is 404', async () => {
    expectApiError(await t.admin('GET', `/admin/tenants/${MISSING_UUID}/ledger`), 404, 'not_found');
  });
});

describe('api keys', () => {
  it('shows the key once at creation; the list hides it', async () => {
    const tenant = await newTenant('1');
    const res = await t.admin('POST', `/admin/tenants/${tenant.id}/api-keys`, { name: 'ci' });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      id: expect.stringMatching(UUID),
      key: expect.stringMatching(/^sk-tg-[A-Za-z0-9_-]{40}$/),
      prefix: expect.any(String),
      name: 'ci',
      created_at: expect.stringMatching(ISO),
      revoked_at: null,
      rpm_limit: null,
      tpm_limit: null,
      ...NO_SPEND_CONTROLS,
    });
    expect(res.body.key.startsWith(res.body.prefix)).toBe(true);
    const list = await t.admin('GET', `/admin/tenants/${tenant.id}/api-keys`);
    expect(list.status).toBe(200);
    expect(list.body.data).toEqual([
      { id: res.body.id, prefix: res.body.prefix, name: 'ci', created_at: res.body.created_at, revoked_at: null, rpm_limit: null, tpm_limit: null, ...NO_SPEND_CONTROLS },
    ]);
    expect(list.text).not.toContain(res.body.key);
    // The key works for the tenant API.
    expect((await http(t.baseUrl, 'GET', '/v1/models', { token: res.body.key })).status).toBe(200);
  });

  it('creates a key without a body or name', async () => {
    const tenant = await newTenant();
    const res = await http(t.baseUrl, 'POST', `/admin/tenants/${tenant.id}/api-keys`, { token: t.env.ADMIN_TOKEN });
    expect(res.status).toBe(201);
    expect(res.body.name).toBeNull();
    const empty = await t.admin('POST', `/admin/tenants/${tenant.id}/api-keys`, {});
    expect(empty.status).toBe(201);
    expect(empty.body.key).not.toBe(res.body.key);
  });

  it('revokes a key: refused from the next request on; revoking twice answers the same', async () => {
    const { tenantId, key, keyId } = await t.tenant('1');
    const res = await t.admin('DELETE', `/admin/api-keys/${keyId}`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: keyId, revoked: true });
    expectApiError(await http(t.baseUrl, 'GET', '/v1/models', { token: key }), 401, 'invalid_api_key');
    const again = await t.admin('DELETE', `/admin/api-keys/${keyId}`);
    expect(again.status).toBe(200);
    expect(again.body).toEqual(res.body);
    const list = await t.admin('GET', `/admin/tenants/${tenantId}/api-keys`);
    expect(list.body.data[0].revoked_at).toEqual(expect.stringMatching(ISO));
  });

  it('unknown tenant or key is 404', async () => {
    expectApiError(await t.admin('POST', `/admin/tenants/${MISSING_UUID}/api-keys`, {}), 404, 'not_found');
    expectApiError(await t.admin('GET', `/admin/tenants/${MISSING_UUID}/api-keys`), 404, 'not_found');
    expectApiError(await t.admin('DELETE', `/admin/api-keys/${MISSING_UUID}`), 404, 'not_found');
    expectApiError(await t.admin('DELETE', '/admin/api-keys/not-a-uuid'), 404, 'not_found');
  });

  it('a bad key name is 400 param name', async () => {
    const tenant = await newTenant();
    expectApiError(await t.admin('POST', `/admin/tenants/${tenant.id}/api-keys`, { name: 7 }), 400, 'invalid_value', 'name');
    expectApiError(await t.admin('POST', `/admin/tenants/${tenant.id}/api-keys`, { name: 'x'.repeat(201) }), 400, 'invalid_value', 'name');
  });
});

describe('models', () => {
  const uniqueModel = () => `test-model-${Math.random().toString(36).slice(2, 10)}`;

  it('registers a model; cached_input_price defaults to 10% of input_price', async () => {
    const model = uniqueModel();
    const before = Date.now();
    const res = await t.admin('PUT', `/admin/models/${model}`, { provider: 'simulated', input_price: '0.25', output_price: '2.00' });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      model,
      provider: 'simulated',
      upstream_model: null,
      price: { input_price: '0.25', cached_input_price: '0.025', output_price: '2' },
      effective_from: expect.stringMatching(ISO),
    });
    expect(Date.parse(res.body.effective_from)).toBeGreaterThanOrEqual(before - 1000);
    expect(Date.parse(res.body.effective_from)).toBeLessThanOrEqual(Date.now() + 1000);
    // 10% of a 9-decimal price is stored exactly (10 decimals).
    const fine = await t.admin('PUT', `/admin/models/${model}`, {
      provider: 'simulated',
      input_price: '0.123456789',
      output_price: '1',
      effective_from: '2991-01-01T00:00:00Z',
    });
    expect(fine.body.price.cached_input_price).toBe('0.0123456789');
  });

  it('keeps every price version; GET /admin/models shows the one in force now', async () => {
    const model = uniqueModel();
    // History cannot be written through the API (a past effective_from is refused): seed it.
    await seedPrice(t.env.DATABASE_URL, model, { input_price: '1', cached_input_price: '0.5', output_price: '3', effective_from: '2020-01-01T00:00:00Z' }, t);
    const v2 = { provider: 'simulated', upstream_model: 'up-2', input_price: '2', output_price: '4' };
    const v3 = { provider: 'simulated', upstream_model: 'up-2', input_price: '9', output_price: '9', effective_from: '2999-01-01T00:00:00Z' };
    const now = await t.admin('PUT', `/admin/models/${model}`, v2);
    expect(now.status).toBe(200);
    expect((await t.admin('PUT', `/admin/models/${model}`, v3)).status).toBe(200);

    const prices = await t.admin('GET', `/admin/models/${model}/prices`);
    expect(prices.status).toBe(200);
    expect(prices.body.model).toBe(model);
    expect(prices.body.data.map((p: { effective_from: string; input_price: string; cached_input_price: string }) => [p.effective_from, p.input_price, p.cached_input_price])).toEqual([
      ['2999-01-01T00:00:00.000Z', '9', '0.9'],
      [now.body.effective_from, '2', '0.2'],
      ['2020-01-01T00:00:00.000Z', '1', '0.5'],
    ]);

    const list = await t.admin('GET', '/admin/models');
    expect(list.status).toBe(200);
    expect(list.body.data.find((m: { model: string }) => m.model === model)).toEqual({
      model,
      provider: 'simulated',
      upstream_model: 'up-2',
      price: { input_price: '2', cached_input_price: '0.2', output_price: '4', effective_from: now.body.effective_from },
    });
  });

  it('refuses a price version that would take effect in the past (it would re-price history); a repeat of a stored one is still idempotent', async () => {
    const model = uniqueModel();
    const past = { provider: 'simulated', input_price: '1', output_price: '1', effective_from: new Date(Date.now() - 60_000).toISOString() };
    expectApiError(await t.admin('PUT', `/admin/models/${model}`, past), 400, 'invalid_value', 'effective_from');
    expectApiError(await t.admin('PUT', `/admin/models/${model}`, { ...past, effective_from: '2020-01-01T00:00:00Z' }), 400, 'invalid_value', 'effective_from');
    expect((await t.admin('GET', `/admin/models/${model}/prices`)).status).toBe(404);
    await seedPrice(t.env.DATABASE_URL, model, { input_price: '1', output_price: '1', effective_from: '2020-01-01T00:00:00Z' }, t);
    expect((await t.admin('PUT', `/admin/models/${model}`, { ...past, effective_from: '2020-01-01T00:00:00Z' })).status).toBe(200);
  });

  it('a model whose only price is in the future has price null', async () => {
    const model = uniqueModel();
    await t.admin('PUT', `/admin/models/${model}`, { provider: 'simulated', input_price: '1', output_price: '1', effective_from: '2998-01-01T00:00:00Z' });
    const list = await t.admin('GET', '/admin/models');
    expect(list.body.data.find((m: { model: string }) => m.model === model)).toMatchObject({ model, price: null });
  });

  it('the same effective_from with the same prices is idempotent; different prices are 409', async () => {
    const model = uniqueModel();
    const body = { provider: 'simulated', input_price: '0.25', output_price: '2.00', effective_from: '2992-01-01T00:00:00Z' };
    const first = await t.admin('PUT', `/admin/models/${model}`, body);
    expect(first.status).toBe(200);
    const again = await t.admin('PUT', `/admin/models/${model}`, { ...body, input_price: '0.250', cached_input_price: '0.025' });
    expect(again.status).toBe(200);
    expect(again.body).toEqual(first.body);

    const conflict = await t.admin('PUT', `/admin/models/${model}`, { ...body, upstream_model: 'changed', output_price: '2.01' });
    expectApiError(conflict, 409, 'conflict', 'effective_from');
    // Nothing of the refused request was applied.
    const prices = await t.admin('GET', `/admin/models/${model}/prices`);
    expect(prices.body.data).toHaveLength(1);
    const list = await t.admin('GET', '/admin/models');
    expect(list.body.data.find((m: { model: string }) => m.model === model).upstream_model).toBeNull();
  });

  it('concurrent identical PUTs create one version', async () => {
    const model = uniqueModel();
    const body = { provider: 'simulated', input_price: '0.5', output_price: '1.5', effective_from: '2993-03-03T03:03:03.333Z' };
    const results = await Promise.all(Array.from({ length: 8 }, () => t.admin('PUT', `/admin/models/${model}`, body)));
    expect(results.map((r) => r.status)).toEqual(Array(8).fill(200));
    const prices = await t.admin('GET', `/admin/models/${model}/prices`);
    expect(prices.body.data).toHaveLength(1);
  });

  it('the seed model can be registered repeatedly through the harness', async () => {
    await ensureSeedModel(t);
    await ensureSeedModel(t);
    const prices = await t.admin('GET', `/admin/models/${SEED_MODEL}/prices`);
    expect(prices.body.data).toEqual([expect.objectContaining({ input_price: '0.25', cached_input_price: '0.025', output_price: '2', effective_from: '2020-01-01T00:00:00.000Z' })]);
  });

  it('accepts model ids with . _ : / - (a slash URL-encoded)', async () => {
    const model = `org/${uniqueModel()}:v1.2_x`;
    const res = await t.admin('PUT', `/admin/models/${encodeURIComponent(model)}`, { provider: 'simulated', input_price: '1', output_price: '1' });
    expect(res.status).toBe(200);
    expect(res.body.model).toBe(model);
    const prices = await t.admin('GET', `/admin/models/${encodeURIComponent(model)}/prices`);
    expect(prices.status).toBe(200);
    expect(prices.body.model).toBe(model);
  });

  it('accepts a 100-character model id', async () => {
    const model = `long-${'x'.repeat(95)}`;
    const res = await t.admin('PUT', `/admin/models/${model}`, { provider: 'simulated', input_price: '1', output_price: '1' });
    expect(res.status).toBe(200);
    expect(res.body.model).toBe(model);
  });

  it('prices of an unknown model is 404', async () => {
    expectApiError(await t.admin('GET', '/admin/models/no-such-model/prices'), 404, 'not_found');
  });

  const good = { provider: 'simulated', input_price: '0.25', output_price: '2.00' };
  it.each<[string, string, unknown, string]>([
    ['negative input_price', 'm-ok', { ...good, input_price: '-1' }, 'input_price'],
    ['numeric input_price', 'm-ok', { ...good, input_price: 0.25 }, 'input_price'],
    ['10-decimal input_price', 'm-ok', { ...good, input_price: '0.1234567891' }, 'input_price'],
    ['missing output_price', 'm-ok', { provider: 'simulated', input_price: '1' }, 'output_price'],
    ['exponent output_price', 'm-ok', { ...good, output_price: '2e0' }, 'output_price'],
    ['bad cached_input_price', 'm-ok', { ...good, cached_input_price: 'abc' }, 'cached_input_price'],
    ['unknown provider', 'm-ok', { ...good, provider: 'openai-nope' }, 'provider'],
    ['missing provider', 'm-ok', { input_price: '1', output_price: '1' }, 'provider'],
    ['numeric provider', 'm-ok', { ...good, provider: 1 }, 'provider'],
    ['non-date effective_from', 'm-ok', { ...good, effective_from: 'not-a-date' }, 'effective_from'],
    ['impossible effective_from', 'm-ok', { ...good, effective_from: '2020-13-01T00:00:00Z' }, 'effective_from'],
    ['numeric effective_from', 'm-ok', { ...good, effective_from: 1700000000000 }, 'effective_from'],
    ['non-string upstream_model', 'm-ok', { ...good, upstream_model: 5 }, 'upstream_model'],
    ['unknown field', 'm-ok', { ...good, currency: 'EUR' }, 'currency'],
    ['model id with a bad character', 'bad!model', good, 'model'],
    ['model id with a space', 'bad%20model', good, 'model'],
  ])('%s is 400 with param', async (_, model, body, param) => {
    const res = await t.admin('PUT', `/admin/models/${model}`, body);
    expectApiError(res, 400, param === 'currency' ? 'unknown_parameter' : 'invalid_value', param);
  });

  it('nothing is written for a refused PUT', async () => {
    const prices = await t.admin('GET', '/admin/models/m-ok/prices');
    expect(prices.status).toBe(404);
  });
});

describe('bad inputs on tenant endpoints', () => {
  it.each<[string, unknown, string, string]>([
    ['missing name', {}, 'name', 'invalid_value'],
    ['empty name', { name: '' }, 'name', 'invalid_value'],
    ['blank name', { name: '   ' }, 'name', 'invalid_value'],
    ['numeric name', { name: 42 }, 'name', 'invalid_value'],
    ['too long name', { name: 'n'.repeat(201) }, 'name', 'invalid_value'],
    ['numeric credits', { name: 'x', credits: 10 }, 'credits', 'invalid_value'],
    ['negative credits', { name: 'x', credits: '-1' }, 'credits', 'invalid_value'],
    ['unknown field', { name: 'x', plan: 'gold' }, 'plan', 'unknown_parameter'],
  ])('POST /admin/tenants with %s is 400 param %s', async (_, body, param, code) => {
    expectApiError(await t.admin('POST', '/admin/tenants', body), 400, code, param);
  });

  it('bad credit references are 400 param reference', async () => {
    const tenant = await newTenant('1');
    expectApiError(await t.admin('POST', `/admin/tenants/${tenant.id}/credits`, { amount: '1', reference: 5 }), 400, 'invalid_value', 'reference');
    expectApiError(await t.admin('POST', `/admin/tenants/${tenant.id}/credits`, { amount: '1', reference: '' }), 400, 'invalid_value', 'reference');
  });

  it('malformed JSON is 400', async () => {
    const res = await http(t.baseUrl, 'POST', '/admin/tenants', { token: t.env.ADMIN_TOKEN, rawBody: '{"name": ' });
    expectApiError(res, 400, 'invalid_value');
  });
});
