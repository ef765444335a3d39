import { parse } from 'csv-parse/sync';
import type { Client } from 'pg';
import { addAmounts } from '../src/billing/money';
import { insertEvent as insertUsageEvent } from './support/events';
import { handCharge } from './support/expected-charge';
import { ChargerService } from '../src/metering/charger.service';
import { ensureSeedModel, http, HttpResult, SEED_MODEL, startApp, TestApp } from './support/harness';
import { seedPrice } from './support/prices';
import { waitFor } from './support/wait';
import { openDb } from './support/db';

const SEED_PRICE = { input: '0.25', cachedInput: '0.025', output: '2' };
const OTHER_MODEL = `sim-report-${Date.now()}`;
const OTHER_PRICE = { input: '1.5', cachedInput: '0.15', output: '3.000000001' };
const PRICES: Record<string, typeof SEED_PRICE> = { [SEED_MODEL]: SEED_PRICE, [OTHER_MODEL]: OTHER_PRICE };
const MISSING_UUID = '00000000-0000-4000-8000-000000000000';


function expectApiError(res: HttpResult, status: number, code: string | null, param: string | null) {
  expect({ status: res.status, error: res.body?.error }).toMatchObject({ status, error: { code, param } });
  expect(typeof res.body.error.message).toBe('string');
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
}

interface Usage {
  input: number;
  cached: number;
  output: number;
  reasoning: number;
}

/** What a report row must say for a set of usages (cost: the exact charges at `price`). */
function expected(usages: Usage[], price: typeof SEED_PRICE) {
  let cost = '0';
  for (const u of usages) {
    cost = addAmounts(cost, handCharge(u, price).total);
  }
  return {
    requests: usages.length,
    input_tokens: usages.reduce((s, u) => s + u.input, 0),
    cached_tokens: usages.reduce((s, u) => s + u.cached, 0),
    output_tokens: usages.reduce((s, u) => s + u.output, 0),
    reasoning_tokens: usages.reduce((s, u) => s + u.reasoning, 0),
    cost,
  };
}

describe('usage reports: GET /admin/usage and GET /v1/usage', () => {
  let t: TestApp;
  let db: Client;

  beforeAll(async () => {
    t = await startApp();
    await ensureSeedModel(t);
    await seedPrice(
      t.env.DATABASE_URL,
      OTHER_MODEL,
      { input_price: OTHER_PRICE.input, cached_input_price: OTHER_PRICE.cachedInput, output_price: OTHER_PRICE.output, effective_from: '2020-01-01T00:00:00Z' },
      t,
    );
    db = await openDb();
  });

  afterAll(async () => {
    await db?.end();
    await t?.close();
  });

  const uncharged = async (tenantId: string) =>
    (await db.query('SELECT count(*)::int AS n FROM usage_events WHERE tenant_id = $1 AND charged_at IS NULL', [tenantId])).rows[0].n;
  const allCharged = (tenantId: string) => waitFor(`charges of ${tenantId}`, async () => (await uncharged(tenantId)) === 0);

  /** The ledger's own sum of the tenant's charges (of events created in [from, to)). */
  async function ledgerCharges(tenantId: string, from = '-infinity', to = 'infinity') {
    const { rows } = await db.query(
      `SELECT coalesce(sum(-l.amount), 0)::text AS total FROM ledger_entries l JOIN usage_events e ON e.id = l.usage_event_id
        WHERE l.kind = 'charge' AND e.tenant_id = $1 AND e.created_at >= $2::timestamptz AND e.created_at < $3::timestamptz`,
      [tenantId, from, to],
    );
    return addAmounts(rows[0].total);
  }

  const insertEvent = (tenant: { tenantId: string; keyId: string }, model: string, u: Usage, createdAt: string) =>
    insertUsageEvent(db, tenant, model, u, { requestedAt: createdAt });

  const usage = (tenantId: string, query: string) => t.admin('GET', `/admin/usage?tenant_id=${tenantId}${query ? `&${query}` : ''}`);

  describe('traffic through the SDK', () => {
    let tenant: { tenantId: string; key: string; keyId: string };
    let key2: { id: string; key: string };
    /** model -> key id -> usages, from the responses themselves. */
    const seen = new Map<string, Usage[]>();

    beforeAll(async () => {
      tenant = await t.tenant('50');
      const k = await t.admin('POST', `/admin/tenants/${tenant.tenantId}/api-keys`, { name: 'second' });
      key2 = { id: k.body.id, key: k.body.key };
      const calls: Array<[string, string, string, any]> = [
        [tenant.key, tenant.keyId, SEED_MODEL, { input: 'Report on this please' }],
        [tenant.key, tenant.keyId, SEED_MODEL, { input: 'Think about reports', thinking: { type: 'enabled' } }],
        [tenant.key, tenant.keyId, OTHER_MODEL, { input: 'A different model' }],
        [key2.key, key2.id, SEED_MODEL, { input: 'From the second key', max_output_tokens: 5 }],
        [key2.key, key2.id, OTHER_MODEL, { input: 'Second key, other model, thinking', thinking: { type: 'enabled' } }],
        [key2.key, key2.id, OTHER_MODEL, { input: 'not stored', store: false }],
      ];
      // A cached turn: prefix cache, then a follow-up that reports cached tokens.
      const sdk = t.openai(tenant.key);
      const prefix = await sdk.responses.create({
        model: SEED_MODEL,
        input: Array.from({ length: 80 }, (_, i) => `fact ${i}`).join('; '),
        caching: { type: 'enabled', prefix: true },
      } as any);
      const cachedTurn = await sdk.responses.create({ model: SEED_MODEL, input: 'go', previous_response_id: prefix.id, caching: { type: 'enabled' } } as any);
      expect(cachedTurn.usage!.input_tokens_details.cached_tokens).toBeGreaterThan(0);
      const record = (model: string, keyId: string, u: any) => {
        const k = `${model}|${keyId}`;
        seen.set(k, [
          ...(seen.get(k) ?? []),
          { input: u.input_tokens, cached: u.input_tokens_details.cached_tokens, output: u.output_tokens, reasoning: u.output_tokens_details.reasoning_tokens },
        ]);
      };
      record(SEED_MODEL, tenant.keyId, prefix.usage);
      record(SEED_MODEL, tenant.keyId, cachedTurn.usage);
      for (const [key, keyId, model, body] of calls) {
        const res = await t.openai(key).responses.create({ model, ...body });
        record(model, keyId, res.usage);
      }
      await allCharged(tenant.tenantId);
    });

    const all = () => [...seen.values()].flat();
    const byModel = (model: string) => [...seen.entries()].filter(([k]) => k.startsWith(`${model}|`)).flatMap(([, v]) => v);

    it('one total row (no group_by) equals the responses usage and the ledger charges, to the last digit', async () => {
      const res = await usage(tenant.tenantId, '');
      expect(res.status).toBe(200);
      expect(res.body.data).toHaveLength(1);
      const want = expected(byModel(SEED_MODEL), SEED_PRICE);
      const other = expected(byModel(OTHER_MODEL), OTHER_PRICE);
      const total = {
        requests: want.requests + other.requests,
        uncharged_requests: 0,
        input_tokens: want.input_tokens + other.input_tokens,
        cached_tokens: want.cached_tokens + other.cached_tokens,
        output_tokens: want.output_tokens + other.output_tokens,
        reasoning_tokens: want.reasoning_tokens + other.reasoning_tokens,
        cost: addAmounts(want.cost, other.cost),
      };
      expect(res.body.data[0]).toEqual(total);
      expect(res.body.totals).toEqual(total);
      expect(total.cost).toBe(await ledgerCharges(tenant.tenantId));
      expect(typeof res.body.totals.cost).toBe('string');
      expect(total.requests).toBe(all().length);
    });

    it('group_by=model,api_key: each row equals its responses and its exact charges', async () => {
      const res = await usage(tenant.tenantId, 'group_by=model,api_key');
      expect(res.status).toBe(200);
      const rows = res.body.data;
      expect(rows).toHaveLength(seen.size);
      for (const row of rows) {
        expect(Object.keys(row).slice(0, 2)).toEqual(['model', 'api_key_id']);
        const usages = seen.get(`${row.model}|${row.api_key_id}`)!;
        expect(row).toEqual({ model: row.model, api_key_id: row.api_key_id, uncharged_requests: 0, ...expected(usages, PRICES[row.model]) });
      }
      // Sorted by the group keys, and the totals are the ledger.
      const keys = rows.map((r: any) => `${r.model}|${r.api_key_id}`);
      expect(keys).toEqual([...keys].sort());
      expect(res.body.totals.cost).toBe(await ledgerCharges(tenant.tenantId));
    });

    it('gives the same figures for a range with partial hours (read raw) as for all time (read from the rollups)', async () => {
      const from = new Date(Date.now() - 20 * 60_000).toISOString();
      const to = new Date(Date.now() + 20 * 60_000).toISOString();
      const [open, ranged] = await Promise.all([
        usage(tenant.tenantId, 'group_by=model,day,api_key'),
        usage(tenant.tenantId, `group_by=model,day,api_key&from=${from}&to=${to}`),
      ]);
      expect(ranged.status).toBe(200);
      expect(ranged.body.data).toEqual(open.body.data);
      expect(ranged.body.totals).toEqual(open.body.totals);
      const today = new Date().toISOString().slice(0, 10);
      const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
      const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
      expect(ranged.body.data.every((r: any) => [yesterday, today, tomorrow].includes(r.day))).toBe(true);
    });

    it('still equals the ledger after a new price version is added after the traffic', async () => {
      const before = await usage(tenant.tenantId, 'group_by=model,api_key');
      // A later, dearer price for the other model, in force from now: what was charged must not change.
      await seedPrice(t.env.DATABASE_URL, OTHER_MODEL, { input_price: '9', cached_input_price: '0.9', output_price: '9', effective_from: new Date().toISOString() }, t);
      const after = await usage(tenant.tenantId, 'group_by=model,api_key');
      expect(after.body.data).toEqual(before.body.data);
      expect(after.body.totals.cost).toBe(await ledgerCharges(tenant.tenantId));
      for (const row of after.body.data) expect(row.cost).toBe(expected(seen.get(`${row.model}|${row.api_key_id}`)!, PRICES[row.model]).cost);
    });

    it('format=csv: a header row and the same rows, readable by a CSV parser', async () => {
      const [json, csv] = await Promise.all([usage(tenant.tenantId, 'group_by=model,api_key'), usage(tenant.tenantId, 'group_by=model,api_key&format=csv')]);
      expect(csv.status).toBe(200);
      expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
      expect(csv.text.split('\n')[0]).toBe('model,api_key_id,requests,uncharged_requests,input_tokens,cached_tokens,output_tokens,reasoning_tokens,cost');
      const rows = parse(csv.text, { columns: true }) as Array<Record<string, string>>;
      expect(rows).toEqual(
        json.body.data.map((r: any) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, String(v)]))),
      );
      expect(addAmounts(...rows.map((r) => r.cost))).toBe(json.body.totals.cost);
    });

    it('GET /v1/usage shows the caller its own usage only, with the same figures', async () => {
      const other = await t.tenant('5');
      await t.openai(other.key).responses.create({ model: SEED_MODEL, input: 'someone else' });
      await allCharged(other.tenantId);

      const mine = await http(t.baseUrl, 'GET', '/v1/usage?group_by=tenant,model,api_key', { token: tenant.key });
      expect(mine.status).toBe(200);
      expect(new Set(mine.body.data.map((r: any) => r.tenant_id))).toEqual(new Set([tenant.tenantId]));
      const admin = await usage(tenant.tenantId, 'group_by=tenant,model,api_key');
      expect(mine.body.data).toEqual(admin.body.data);
      expect(mine.body.totals).toEqual(admin.body.totals);
      // Either key of the tenant sees the tenant's usage.
      const viaKey2 = await http(t.baseUrl, 'GET', '/v1/usage', { token: key2.key });
      expect(viaKey2.body.totals).toEqual(admin.body.totals);

      const theirs = await http(t.baseUrl, 'GET', '/v1/usage?group_by=tenant&format=csv', { token: other.key });
      const rows = parse(theirs.text, { columns: true }) as Array<Record<string, string>>;
      expect(rows).toEqual([expect.objectContaining({ tenant_id: other.tenantId, requests: '1' })]);
      expect(rows[0].cost).toBe(await ledgerCharges(other.tenantId));

      // Naming a tenant is not a tenant's to do.
      expectApiError(await http(t.baseUrl, 'GET', `/v1/usage?tenant_id=${other.tenantId}`, { token: tenant.key }), 400, 'unknown_parameter', 'tenant_id');
      expectApiError(await http(t.baseUrl, 'GET', '/v1/usage'), 401, 'invalid_api_key', null);
    });

    it('over all tenants, group_by=tenant has one row per tenant whose cost is that tenant\'s ledger', async () => {
      const res = await t.admin('GET', '/admin/usage?group_by=tenant');
      expect(res.status).toBe(200);
      const row = res.body.data.find((r: any) => r.tenant_id === tenant.tenantId);
      expect(row.cost).toBe(await ledgerCharges(tenant.tenantId));
      expect(res.body.totals.requests).toBe(res.body.data.reduce((s: number, r: any) => s + r.requests, 0));
      const { rows } = await db.query(
        `SELECT coalesce(sum(-l.amount), 0)::text AS total, (SELECT count(*)::int FROM usage_events) AS events
           FROM ledger_entries l JOIN usage_events e ON e.id = l.usage_event_id WHERE l.kind = 'charge'`,
      );
      expect(res.body.totals.cost).toBe(addAmounts(rows[0].total));
      expect(res.body.totals.requests).toBe(rows[0].events);
    });
  });

  describe('events at known times (inserted, then charged)', () => {
    const U = (input: number, cached: number, output: number, reasoning: number): Usage => ({ input, cached, output, reasoning });
    const events: Array<{ at: string; model: string; u: Usage }> = [
      { at: '2025-03-01T22:59:59.999Z', model: SEED_MODEL, u: U(100, 0, 20, 0) },
      { at: '2025-03-01T23:00:00.000Z', model: SEED_MODEL, u: U(333, 33, 77, 7) },
      { at: '2025-03-01T23:30:00.000Z', model: OTHER_MODEL, u: U(1000, 999, 1, 0) },
      { at: '2025-03-02T00:00:00.000Z', model: OTHER_MODEL, u: U(12345, 0, 678, 600) },
      { at: '2025-03-02T00:45:10.123Z', model: SEED_MODEL, u: U(1, 0, 1, 0) },
      { at: '2025-03-02T05:00:00.000Z', model: SEED_MODEL, u: U(5000, 4000, 300, 100) },
      { at: '2025-03-03T00:00:00.000Z', model: SEED_MODEL, u: U(42, 0, 42, 0) },
    ];
    let tenant: { tenantId: string; key: string; keyId: string };
    let unpricedUsage: Usage;

    beforeAll(async () => {
      tenant = await t.tenant('100');
      const ids = [];
      for (const e of events) ids.push(await insertEvent(tenant, e.model, e.u, e.at));
      await t.app.get(ChargerService).chargeEvents(ids);
      // One event that cannot be charged (its model has no price in force): counted, not costed.
      const unpriced = `sim-unpriced-${Date.now()}`;
      await t.admin('PUT', `/admin/models/${unpriced}`, { provider: 'simulated', input_price: '1', output_price: '1', effective_from: '2099-01-01T00:00:00Z' });
      unpricedUsage = U(7, 0, 3, 0);
      await insertEvent(tenant, unpriced, unpricedUsage, '2025-03-02T05:30:00.000Z');
      await allChargedExcept(tenant.tenantId, 1);
    });

    const allChargedExcept = (tenantId: string, n: number) => waitFor('charges', async () => (await uncharged(tenantId)) === n);

    const pick = (from: string, to: string) => events.filter((e) => e.at >= from && e.at < to);
    const want = (list: typeof events) => {
      const seed = expected(list.filter((e) => e.model === SEED_MODEL).map((e) => e.u), SEED_PRICE);
      const other = expected(list.filter((e) => e.model === OTHER_MODEL).map((e) => e.u), OTHER_PRICE);
      return {
        requests: seed.requests + other.requests,
        input_tokens: seed.input_tokens + other.input_tokens,
        cached_tokens: seed.cached_tokens + other.cached_tokens,
        output_tokens: seed.output_tokens + other.output_tokens,
        reasoning_tokens: seed.reasoning_tokens + other.reasoning_tokens,
        cost: addAmounts(seed.cost, other.cost),
      };
    };

    it.each([
      ['whole hours', '2025-03-01T22:00:00Z', '2025-03-02T01:00:00Z'],
      ['partial hours at both ends', '2025-03-01T22:59:59.999Z', '2025-03-02T00:45:10.124Z'],
      ['inside one hour', '2025-03-01T23:10:00Z', '2025-03-01T23:50:00Z'],
      ['half-open: from includes its instant, to excludes its own', '2025-03-01T23:00:00Z', '2025-03-02T05:00:00Z'],
      ['one millisecond either side', '2025-03-01T23:00:00.001Z', '2025-03-02T05:00:00.001Z'],
      ['empty', '2025-03-02T00:00:00Z', '2025-03-02T00:00:00Z'],
    ])('%s: [from, to) counts exactly the events created in it', async (_, from, to) => {
      const res = await usage(tenant.tenantId, `from=${from}&to=${to}`);
      expect(res.status).toBe(200);
      const list = pick(new Date(from).toISOString(), new Date(to).toISOString());
      expect(res.body.data).toEqual([{ uncharged_requests: 0, ...want(list) }]);
      expect(res.body.totals.cost).toBe(await ledgerCharges(tenant.tenantId, from, to));
    });

    it('group_by=day uses UTC dates; an uncharged event counts its tokens and request but adds no cost', async () => {
      const res = await usage(tenant.tenantId, 'group_by=day&from=2025-03-01T00:00:00Z&to=2025-04-01T00:00:00Z');
      expect(res.status).toBe(200);
      const day2 = want(pick('2025-03-02', '2025-03-03'));
      expect(res.body.data).toEqual([
        { day: '2025-03-01', uncharged_requests: 0, ...want(pick('2025-03-01', '2025-03-02')) },
        {
          day: '2025-03-02',
          ...day2,
          requests: day2.requests + 1,
          uncharged_requests: 1,
          input_tokens: day2.input_tokens + unpricedUsage.input,
          output_tokens: day2.output_tokens + unpricedUsage.output,
        },
        { day: '2025-03-03', uncharged_requests: 0, ...want(pick('2025-03-03', '2025-03-04')) },
      ]);
      // The cost is still exactly the ledger.
      expect(res.body.totals.cost).toBe(await ledgerCharges(tenant.tenantId));
      // The same from raw rows only (a range that is all partial hours).
      const raw = await usage(tenant.tenantId, 'group_by=day&from=2025-03-01T00:00:00.001Z&to=2025-03-03T23:59:59.999Z');
      expect(raw.body.data.map((r: any) => r.cost)).toEqual(res.body.data.map((r: any) => r.cost));
      expect(raw.body.data.map((r: any) => r.uncharged_requests)).toEqual([0, 1, 0]);
    });

    it('group_by=model,day: rows by model and UTC day, sorted', async () => {
      const res = await usage(tenant.tenantId, 'group_by=model,day&from=2025-03-01T00:00:00Z&to=2025-03-02T06:00:00Z');
      const rows = res.body.data.filter((r: any) => r.model === SEED_MODEL || r.model === OTHER_MODEL);
      expect(rows.map((r: any) => `${r.model} ${r.day}`)).toEqual([
        `${SEED_MODEL} 2025-03-01`,
        `${SEED_MODEL} 2025-03-02`,
        `${OTHER_MODEL} 2025-03-01`,
        `${OTHER_MODEL} 2025-03-02`,
      ].sort());
      const seed02 = rows.find((r: any) => r.model === SEED_MODEL && r.day === '2025-03-02');
      expect(seed02.cost).toBe(expected(pick('2025-03-02', '2025-03-02T06').filter((e) => e.model === SEED_MODEL).map((e) => e.u), SEED_PRICE).cost);
    });
  });

  describe('bad input', () => {
    it.each([
      ['group_by=week', 400, 'invalid_value', 'group_by'],
      ['group_by=model,model', 400, 'invalid_value', 'group_by'],
      ['format=xml', 400, 'invalid_value', 'format'],
      ['from=yesterday', 400, 'invalid_value', 'from'],
      ['to=2025-13-01T00:00:00Z', 400, 'invalid_value', 'to'],
      ['from=2025-02-01T00:00:00Z&to=2025-01-01T00:00:00Z', 400, 'invalid_value', 'to'],
      ['colour=blue', 400, 'unknown_parameter', 'colour'],
      [`tenant_id=${MISSING_UUID}`, 404, 'not_found', 'tenant_id'],
      ['tenant_id=not-a-uuid', 404, 'not_found', 'tenant_id'],
    ])('?%s -> %i %s (param %s)', async (query, status, code, param) => {
      expectApiError(await t.admin('GET', `/admin/usage?${query}`), status, code, param);
    });

    it('needs the admin token', async () => {
      expectApiError(await http(t.baseUrl, 'GET', '/admin/usage'), 401, 'invalid_api_key', null);
    });

    it('answers an empty report with one zero total row', async () => {
      const res = await t.admin('GET', '/admin/usage?from=1999-01-01T00:00:00Z&to=1999-02-01T00:00:00Z');
      const zero = { requests: 0, uncharged_requests: 0, input_tokens: 0, cached_tokens: 0, output_tokens: 0, reasoning_tokens: 0, cost: '0' };
      expect(res.body.data).toEqual([zero]);
      expect(res.body.totals).toEqual(zero);
      const grouped = await t.admin('GET', '/admin/usage?from=1999-01-01T00:00:00Z&to=1999-02-01T00:00:00Z&group_by=model');
      expect(grouped.body.data).toEqual([]);
    });
  });

  it('keeps the rollups equal to the ledger (the trigger adds every charge once)', async () => {
    const { rows } = await db.query(
      `SELECT (SELECT coalesce(sum(cost), 0)::text FROM usage_rollups) AS rollup,
              (SELECT coalesce(sum(requests), 0)::int FROM usage_rollups) AS requests,
              (SELECT coalesce(sum(-amount), 0)::text FROM ledger_entries WHERE kind = 'charge') AS ledger,
              (SELECT count(*)::int FROM ledger_entries WHERE kind = 'charge') AS charges`,
    );
    expect(addAmounts(rows[0].rollup)).toBe(addAmounts(rows[0].ledger));
    expect(rows[0].requests).toBe(rows[0].charges);
  });
});
