import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from 'pg';
import { openDb } from './support/db';
import { handCharge, HandPrice, sumAmounts } from './support/expected-charge';
import { FakeUpstream, startFakeUpstream } from './support/fake-upstream';
import { http, startApp, TestApp } from './support/harness';
import { seedPrice } from './support/prices';
import { parseSse, readStream } from './support/sse';
import { waitFor } from './support/wait';

const SIM = 'rcpt-sim';
const UP = 'rcpt-up';
const SIM_PRICE: HandPrice = { input: '0.123456789', cachedInput: '0.012345678', output: '1.987654321' };
const UP_PRICE: HandPrice = { input: '0.25', cachedInput: '0.025', output: '2' };
const TENANT_PRICE: HandPrice = { input: '0.1', cachedInput: '0.01', output: '0.7' };
const LONG_INPUT = Array.from({ length: 120 }, (_, i) => `Line ${i} of the shared context about tolls, gates and ledgers.`).join('\n');

/** A decimal string without trailing zeros ("0.500" -> "0.5", "2.000" -> "2"). */
const plain = (v: string) => (v.includes('.') ? v.replace(/0+$/, '').replace(/\.$/, '') : v);

describe('cost receipts: every answer carries the exact charge the ledger makes', () => {
  let t: TestApp;
  let fake: FakeUpstream;
  let db: Client;
  let dir: string;
  let simPriceId: string;

  beforeAll(async () => {
    fake = await startFakeUpstream();
    dir = mkdtempSync(join(tmpdir(), 'tollgate-receipts-'));
    const file = join(dir, 'providers.json');
    writeFileSync(file, JSON.stringify({ fake: { type: 'openai', base_url: fake.url, api_key: 'up-secret' } }));
    t = await startApp({ PROVIDERS_FILE: file, CHARGE_RELAY_AFTER_MS: '300', CHARGE_RELAY_EVERY_MS: '100' });
    db = await openDb();
    await seedPrice(t.env.DATABASE_URL, SIM, { input_price: SIM_PRICE.input, cached_input_price: SIM_PRICE.cachedInput, output_price: SIM_PRICE.output, effective_from: '2020-01-01T00:00:00Z' }, t);
    simPriceId = (await db.query('SELECT id FROM prices WHERE model_id = $1 AND tenant_id IS NULL', [SIM])).rows[0].id;
    const up = await t.admin('PUT', `/admin/models/${UP}`, { provider: 'fake', input_price: UP_PRICE.input, cached_input_price: UP_PRICE.cachedInput, output_price: UP_PRICE.output });
    expect(up.status).toBe(200);
  });

  afterAll(async () => {
    await db?.end();
    await t?.close();
    await fake?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  beforeEach(() => fake.set({}));

  const post = (key: string, path: string, body: unknown) => http(t.baseUrl, 'POST', path, { token: key, body });
  const respId = (chatId: string) => chatId.replace(/^chatcmpl-/, 'resp_');

  /** The ledger charge of a response, once the worker has made it. */
  const ledgerCharge = (responseId: string) =>
    waitFor(`the charge of ${responseId}`, async () => {
      const { rows } = await db.query(
        `SELECT (-amount)::text AS cost, input_cost::text AS input, cached_input_cost::text AS cached_input, output_cost::text AS output,
                reasoning_cost::text AS reasoning, price_id::text AS price_id
           FROM ledger_entries WHERE response_id = $1 AND kind = 'charge'`,
        [responseId],
      );
      return rows[0] ?? null;
    });

  /** The receipt equals the ledger entry digit for digit, and the hand-computed charge of the reported usage. */
  async function expectReceiptIsCharge(responseId: string, usage: any, price: HandPrice, priceId: string) {
    const charge = await ledgerCharge(responseId);
    const d = usage.cost_details;
    expect(usage.cost).toBe(plain(charge.cost));
    expect(d).toEqual({
      input: plain(charge.input),
      cached_input: plain(charge.cached_input),
      output: plain(charge.output),
      reasoning: plain(charge.reasoning),
      price_id: charge.price_id,
    });
    expect(d.price_id).toBe(priceId);
    const tokens = {
      input: usage.input_tokens ?? usage.prompt_tokens,
      cached: (usage.input_tokens_details ?? usage.prompt_tokens_details).cached_tokens,
      output: usage.output_tokens ?? usage.completion_tokens,
      reasoning: (usage.output_tokens_details ?? usage.completion_tokens_details).reasoning_tokens,
    };
    const hand = handCharge(tokens, price);
    expect([usage.cost, d.input, d.cached_input, d.output, d.reasoning]).toEqual([hand.total, hand.input, hand.cachedInput, hand.output, hand.reasoning]);
    expect(sumAmounts([d.input, d.cached_input, d.output, d.reasoning])).toBe(usage.cost);
    return charge;
  }

  it('a plain response: body, x-tollgate-cost header and GET /v1/responses/:id', async () => {
    const { key } = await t.tenant('10');
    const res = await post(key, '/v1/responses', { model: SIM, input: 'Tell me about toll gates.' });
    expect(res.status).toBe(200);
    expect(res.body.usage.output_tokens).toBeGreaterThan(0);
    expect(res.headers.get('x-tollgate-cost')).toBe(res.body.usage.cost);
    await expectReceiptIsCharge(res.body.id, res.body.usage, SIM_PRICE, simPriceId);
    const got = await http(t.baseUrl, 'GET', `/v1/responses/${res.body.id}`, { token: key });
    expect(got.body.usage).toEqual(res.body.usage);
  });

  it('a streamed response: response.completed carries it (no header on a stream)', async () => {
    const { key } = await t.tenant('10');
    const res = await fetch(`${t.baseUrl}/v1/responses`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: SIM, input: 'Stream about ledgers.', stream: true }),
    });
    expect(res.headers.get('x-tollgate-cost')).toBeNull();
    const completed = parseSse(await res.text()).find((e) => e.event === 'response.completed')!.data.response;
    await expectReceiptIsCharge(completed.id, completed.usage, SIM_PRICE, simPriceId);
  });

  it('chat completions, plain and streamed with include_usage', async () => {
    const { key } = await t.tenant('10');
    const messages = [{ role: 'user', content: 'Hello, chat.' }];
    const res = await post(key, '/v1/chat/completions', { model: SIM, messages });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-tollgate-cost')).toBe(res.body.usage.cost);
    await expectReceiptIsCharge(respId(res.body.id), res.body.usage, SIM_PRICE, simPriceId);

    const streamed = await readStream(`${t.baseUrl}/v1/chat/completions`, key, { model: SIM, messages, stream: true, stream_options: { include_usage: true } });
    const chunks = streamed.events.map((e) => e.data).filter((d) => typeof d === 'object');
    const last = chunks[chunks.length - 1];
    expect(last.choices).toEqual([]);
    await expectReceiptIsCharge(respId(last.id), last.usage, SIM_PRICE, simPriceId);
  });

  it('thinking: reasoning tokens are billed at the output price, shown apart', async () => {
    const { key } = await t.tenant('10');
    const res = await post(key, '/v1/responses', { model: SIM, input: 'Think about the gate.', thinking: { type: 'enabled' } });
    expect(res.body.usage.output_tokens_details.reasoning_tokens).toBeGreaterThan(0);
    expect(res.body.usage.cost_details.reasoning).not.toBe('0');
    await expectReceiptIsCharge(res.body.id, res.body.usage, SIM_PRICE, simPriceId);
  });

  it('a cached prefix, and the next request reusing it', async () => {
    const { key } = await t.tenant('10');
    const prefix = await post(key, '/v1/responses', { model: SIM, input: LONG_INPUT, caching: { type: 'enabled', prefix: true } });
    expect(prefix.status).toBe(200);
    await expectReceiptIsCharge(prefix.body.id, prefix.body.usage, SIM_PRICE, simPriceId);
    const next = await post(key, '/v1/responses', { model: SIM, input: 'Now summarise it.', previous_response_id: prefix.body.id, caching: { type: 'enabled' } });
    expect(next.status).toBe(200);
    expect(next.body.usage.input_tokens_details.cached_tokens).toBeGreaterThan(0);
    expect(next.body.usage.cost_details.cached_input).not.toBe('0');
    await expectReceiptIsCharge(next.body.id, next.body.usage, SIM_PRICE, simPriceId);
  });

  it("an upstream's reported usage, and usage held to the reserved bounds", async () => {
    const { key } = await t.tenant('10');
    fake.set({ usage: { input_tokens: 60, input_tokens_details: { cached_tokens: 48 }, output_tokens: 321, output_tokens_details: { reasoning_tokens: 21 }, total_tokens: 381 } });
    // An input long enough that its prompt bound is above the 60 input tokens reported.
    const res = await post(key, '/v1/responses', { model: UP, input: 'Hi upstream. '.repeat(20), max_output_tokens: 500 });
    expect(res.status).toBe(200);
    expect(res.body.usage.input_tokens).toBe(60);
    const upPriceId = (await db.query('SELECT id FROM prices WHERE model_id = $1 AND tenant_id IS NULL', [UP])).rows[0].id;
    // (12 x 0.25 + 48 x 0.025 + 300 x 2 + 21 x 2) / 1e6 = 646.2 / 1e6, worked by hand
    expect(res.body.usage.cost).toBe('0.0006462');
    await expectReceiptIsCharge(res.body.id, res.body.usage, UP_PRICE, upPriceId);

    // An upstream that reports more output than max_output_tokens allows is charged the bound only.
    fake.set({ usage: { input_tokens: 10, output_tokens: 900, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 910 } });
    const over = await post(key, '/v1/responses', { model: UP, input: 'Hi upstream.', max_output_tokens: 16 });
    expect(over.status).toBe(200);
    expect(over.body.usage.output_tokens).toBe(16);
    const event = (await db.query('SELECT output_tokens, overrun_output_tokens FROM usage_events WHERE response_id = $1', [over.body.id])).rows[0];
    expect(event).toEqual({ output_tokens: 16, overrun_output_tokens: 884 });
    await expectReceiptIsCharge(over.body.id, over.body.usage, UP_PRICE, upPriceId);
  });

  it('a client that disconnects mid-stream: the stored response carries what was charged', async () => {
    const { key } = await t.tenant('10');
    fake.set({ text: 'word '.repeat(40), deltas: 20, deltaDelayMs: 100 });
    const abort = new AbortController();
    const res = await fetch(`${t.baseUrl}/v1/responses`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: UP, input: 'A slow answer.', stream: true }),
      signal: abort.signal,
    });
    const reader = res.body!.getReader();
    let text = '';
    while (!text.includes('response.output_text.delta')) text += new TextDecoder().decode((await reader.read()).value);
    const id = parseSse(text).find((e) => e.event === 'response.created')!.data.response.id;
    abort.abort();
    const stored = await waitFor('the cancelled response', async () => {
      const got = await http(t.baseUrl, 'GET', `/v1/responses/${id}`, { token: key });
      return got.status === 200 && got.body.status !== 'in_progress' && got.body;
    });
    expect(stored.status).toBe('cancelled');
    await expectReceiptIsCharge(id, stored.usage, UP_PRICE, stored.usage.cost_details.price_id);
  });

  it('an interrupted stream: response.failed carries the cost of what was produced', async () => {
    const { key } = await t.tenant('10');
    fake.set({ text: 'Partial answer that breaks.', deltas: 4, streamError: 'upstream blew up' });
    const { events } = await readStream(`${t.baseUrl}/v1/responses`, key, { model: UP, input: 'Break please.', stream: true });
    const failed = events.find((e) => e.event === 'response.failed')!.data.response;
    expect(failed.usage.output_tokens).toBeGreaterThan(0);
    await expectReceiptIsCharge(failed.id, failed.usage, UP_PRICE, failed.usage.cost_details.price_id);
  });

  describe('tenant price books', () => {
    it("charges the tenant's own version in force, else the model's; GET lists it", async () => {
      const { tenantId, key } = await t.tenant('10');
      const other = await t.tenant('10');
      const put = await t.admin('PUT', `/admin/tenants/${tenantId}/prices/${SIM}`, { input_price: '0.1', output_price: '0.7' });
      expect(put.status).toBe(200);
      expect(put.body).toEqual({
        id: expect.any(String),
        tenant_id: tenantId,
        model: SIM,
        input_price: '0.1',
        cached_input_price: '0.01',
        output_price: '0.7',
        effective_from: expect.any(String),
      });
      expect((await t.admin('GET', `/admin/tenants/${tenantId}/prices`)).body).toEqual({ data: [put.body] });
      expect((await t.admin('GET', `/admin/tenants/${other.tenantId}/prices`)).body).toEqual({ data: [] });

      const own = await post(key, '/v1/responses', { model: SIM, input: 'Negotiated, please.' });
      await expectReceiptIsCharge(own.body.id, own.body.usage, TENANT_PRICE, put.body.id);
      const theirs = await post(other.key, '/v1/responses', { model: SIM, input: 'Negotiated, please.' });
      await expectReceiptIsCharge(theirs.body.id, theirs.body.usage, SIM_PRICE, simPriceId);
      expect(theirs.body.usage.output_tokens).toBe(own.body.usage.output_tokens);
      expect(theirs.body.usage.cost).not.toBe(own.body.usage.cost);

      const audit = await t.admin('GET', '/admin/audit?action=tenant_price.put');
      expect(audit.body.data.some((e: any) => e.target_id === tenantId)).toBe(true);
    });

    it('a version coming into force never re-prices a request admitted before it', async () => {
      const { tenantId, key } = await t.tenant('10');
      fake.set({ text: 'slow '.repeat(20), deltas: 10, deltaDelayMs: 150 });
      const running = readStream(`${t.baseUrl}/v1/responses`, key, { model: UP, input: 'Admitted first.', stream: true });
      await waitFor('the request admitted', async () => (await db.query('SELECT 1 FROM usage_events WHERE tenant_id = $1', [tenantId])).rows.length > 0);
      const from = new Date(Date.now() + 300).toISOString();
      const put = await t.admin('PUT', `/admin/tenants/${tenantId}/prices/${UP}`, { input_price: '0.1', output_price: '0.7', effective_from: from });
      expect(put.status).toBe(200);
      const { events } = await running;
      const done = events.find((e) => e.event === 'response.completed')!.data.response;
      expect(Date.now()).toBeGreaterThan(Date.parse(from));
      const upPriceId = (await db.query('SELECT id FROM prices WHERE model_id = $1 AND tenant_id IS NULL', [UP])).rows[0].id;
      await expectReceiptIsCharge(done.id, done.usage, UP_PRICE, upPriceId);

      fake.set({});
      const after = await post(key, '/v1/responses', { model: UP, input: 'Admitted after.' });
      await expectReceiptIsCharge(after.body.id, after.body.usage, TENANT_PRICE, put.body.id);
    });

    it('refuses bad price books with a 400 naming the field, and unknown tenants or models with 404', async () => {
      const { tenantId } = await t.tenant('1');
      const put = (body: unknown, tenant = tenantId, model = SIM) => t.admin('PUT', `/admin/tenants/${tenant}/prices/${model}`, body);
      const cases: Array<[unknown, string]> = [
        [{ input_price: '-1', output_price: '1' }, 'input_price'],
        [{ input_price: 0.5, output_price: '1' }, 'input_price'],
        [{ input_price: '1', output_price: '1', cached_input_price: 'lots' }, 'cached_input_price'],
        [{ input_price: '1' }, 'output_price'],
        [{ input_price: '1', output_price: '1', effective_from: '2020-01-01T00:00:00Z' }, 'effective_from'],
        [{ input_price: '1', output_price: '1', effective_from: 'tomorrow' }, 'effective_from'],
      ];
      for (const [body, param] of cases) {
        const res = await put(body);
        expect([res.status, res.body.error.type, res.body.error.param]).toEqual([400, 'invalid_request_error', param]);
      }
      const noTenant = await put({ input_price: '1', output_price: '1' }, '00000000-0000-4000-8000-000000000000');
      expect([noTenant.status, noTenant.body.error.code]).toEqual([404, 'not_found']);
      const noModel = await put({ input_price: '1', output_price: '1' }, tenantId, 'no-such-model');
      expect([noModel.status, noModel.body.error.code, noModel.body.error.param]).toEqual([404, 'not_found', 'model']);
      expect((await t.admin('GET', '/admin/tenants/not-a-tenant/prices')).status).toBe(404);
      expect((await t.admin('GET', `/admin/tenants/${tenantId}/prices`)).body).toEqual({ data: [] });

      // The same version again is a no-op; other prices at the same effective_from are a conflict.
      const from = new Date(Date.now() + 3_600_000).toISOString();
      const first = await put({ input_price: '1', output_price: '1', effective_from: from });
      const again = await put({ input_price: '1', output_price: '1', effective_from: from });
      expect(again.body).toEqual(first.body);
      const clash = await put({ input_price: '2', output_price: '1', effective_from: from });
      expect([clash.status, clash.body.error.param]).toEqual([409, 'effective_from']);

      const modelPast = await t.admin('PUT', `/admin/models/${SIM}`, { provider: 'simulated', input_price: '1', output_price: '1', effective_from: '2021-01-01T00:00:00Z' });
      expect([modelPast.status, modelPast.body.error.param]).toEqual([400, 'effective_from']);
    });

    it('keeps the price table append-only', async () => {
      // In a transaction rolled back either way, so a missing trigger cannot wipe the run's prices.
      for (const sql of ['UPDATE prices SET input_price = 0', 'DELETE FROM prices', 'TRUNCATE prices CASCADE']) {
        await db.query('BEGIN');
        const err = await db.query(sql).catch((e: Error) => e);
        await db.query('ROLLBACK');
        expect((err as Error)?.message).toMatch(/prices is append-only/);
      }
    });

    it('invoice lines show the unit price charged and its price version', async () => {
      const { tenantId, key } = await t.tenant('10');
      const put = await t.admin('PUT', `/admin/tenants/${tenantId}/prices/${SIM}`, { input_price: '0.1', output_price: '0.7' });
      const res = await post(key, '/v1/responses', { model: SIM, input: 'Invoice me.' });
      const charge = await ledgerCharge(res.body.id);
      const start = new Date(Date.now() - 3_600_000).toISOString();
      const end = new Date(Date.now() + 3_600_000).toISOString();
      const created = await t.admin('POST', '/admin/invoices', { tenant_id: tenantId, period_start: start, period_end: end });
      const invoice = await waitFor('the invoice', async () => {
        const got = await t.admin('GET', `/admin/invoices/${created.body.id}`);
        return got.body.status === 'ready' && got.body;
      });
      const byKind = Object.fromEntries(invoice.lines.map((l: any) => [l.kind, l]));
      expect(byKind.input).toMatchObject({ model: SIM, unit_price: '0.1', price_id: put.body.id, amount: res.body.usage.cost_details.input });
      expect(byKind.output).toMatchObject({ model: SIM, unit_price: '0.7', price_id: put.body.id, amount: res.body.usage.cost_details.output });
      expect(invoice.total).toBe(plain(charge.cost));
      const csv = await t.admin('GET', `/admin/invoices/${created.body.id}/export?format=csv`);
      expect(csv.text).toContain(`${SIM},input,${put.body.id}`);
    });
  });

  describe('model_not_priced', () => {
    it('refuses a model with no price in force before it runs; an unknown model stays invalid_value', async () => {
      const { tenantId, key } = await t.tenant('10');
      const later = new Date(Date.now() + 3_600_000).toISOString();
      expect((await t.admin('PUT', '/admin/models/rcpt-later', { provider: 'simulated', input_price: '1', output_price: '1', effective_from: later })).status).toBe(200);
      const res = await post(key, '/v1/responses', { model: 'rcpt-later', input: 'Too early.' });
      expect(res.status).toBe(400);
      expect(res.body.error).toMatchObject({ type: 'invalid_request_error', code: 'model_not_priced', param: 'model' });
      const chat = await post(key, '/v1/chat/completions', { model: 'rcpt-later', messages: [{ role: 'user', content: 'hi' }] });
      expect([chat.status, chat.body.error.code]).toEqual([400, 'model_not_priced']);
      const events = await db.query('SELECT 1 FROM usage_events WHERE tenant_id = $1', [tenantId]);
      expect(events.rows).toHaveLength(0);

      const unknown = await post(key, '/v1/responses', { model: 'rcpt-nope', input: 'Who?' });
      expect([unknown.status, unknown.body.error.code, unknown.body.error.param]).toEqual([400, 'invalid_value', 'model']);
    });
  });
});
