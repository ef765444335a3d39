import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from 'pg';
import { addAmounts, negate } from '../src/billing/money';
import { handCharge } from './support/expected-charge';
import { DomainError } from '../src/common/errors';
import { toApiError } from '../src/common/openai-error.filter';
import { OpenAICompatibleProvider, promptTokenBound } from '../src/providers/openai-compatible/openai-compatible.provider';
import type { GenerateRequest, StreamEvent } from '../src/providers/provider';
import { ProvidersService } from '../src/providers/providers.service';
import { promptTokens } from '../src/providers/tokenizer';
import { FAKE_DEFAULTS, FakeUpstream, startFakeUpstream } from './support/fake-upstream';
import { http, startApp, TestApp } from './support/harness';
import { waitFor } from './support/wait';
import { openDb } from './support/db';

const KEY_VAR = 'TOLLGATE_TEST_UPSTREAM_KEY';
const SECRET = `prov-secret-${Math.random().toString(36).slice(2)}`;
const MODEL = 'up-model';
const SLOW_MODEL = 'up-slow-model';
const PRICE = { input: '0.25', cachedInput: '0.025', output: '2' };
const PRICE_BODY = { input_price: PRICE.input, cached_input_price: PRICE.cachedInput, output_price: PRICE.output };
const SLOW_TIMEOUT_MS = 400;


describe('upstream provider (type "openai") through Tollgate', () => {
  let fake: FakeUpstream;
  let t: TestApp;
  let db: Client;
  let dir: string;

  beforeAll(async () => {
    fake = await startFakeUpstream();
    process.env[KEY_VAR] = SECRET;
    dir = mkdtempSync(join(tmpdir(), 'tollgate-upstream-'));
    const file = join(dir, 'providers.json');
    writeFileSync(
      file,
      JSON.stringify({
        fake: { type: 'openai', base_url: fake.url, api_key_env: KEY_VAR },
        'fake-slow': { type: 'openai', base_url: `${fake.url}/`, api_key_env: KEY_VAR, timeout_ms: SLOW_TIMEOUT_MS, max_output_tokens: 100 },
      }),
    );
    t = await startApp({ PROVIDERS_FILE: file, CHARGE_RELAY_AFTER_MS: '300', CHARGE_RELAY_EVERY_MS: '100' });
    for (const [model, provider] of [[MODEL, 'fake'], [SLOW_MODEL, 'fake-slow']]) {
      const res = await t.admin('PUT', `/admin/models/${model}`, { provider, upstream_model: 'vendor-model-x', ...PRICE_BODY });
      expect(res.status).toBe(200);
    }
    db = await openDb();
  });

  afterAll(async () => {
    await db?.end();
    await t?.close();
    await fake?.close();
    delete process.env[KEY_VAR];
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  beforeEach(() => fake.set({}));

  const eventsOf = async (tenantId: string) =>
    (await db.query('SELECT * FROM usage_events WHERE tenant_id = $1 ORDER BY requested_at', [tenantId])).rows;
  const reservedOf = async (tenantId: string) =>
    addAmounts((await db.query('SELECT reserved::text AS r FROM tenants WHERE id = $1', [tenantId])).rows[0].r);
  /** Upstream requests made while `fn` ran. */
  async function upstreamCalls<T>(fn: () => Promise<T>): Promise<{ result: T; calls: typeof fake.requests }> {
    const before = fake.requests.length;
    const result = await fn();
    return { result, calls: fake.requests.slice(before) };
  }

  describe('admin model registration', () => {
    it('accepts any configured provider and still refuses unknown ones with param provider', async () => {
      const ok = await t.admin('PUT', '/admin/models/up-other', { provider: 'fake-slow', ...PRICE_BODY });
      expect(ok.status).toBe(200);
      expect(ok.body).toMatchObject({ model: 'up-other', provider: 'fake-slow' });
      const bad = await t.admin('PUT', '/admin/models/up-other', { provider: 'not-configured', ...PRICE_BODY });
      expect(bad.status).toBe(400);
      expect(bad.body.error).toMatchObject({ type: 'invalid_request_error', code: 'invalid_value', param: 'provider' });
      expect(t.app.get(ProvidersService).names().sort()).toEqual(['fake', 'fake-slow', 'simulated']);
    });
  });

  describe('non-streaming (openai SDK)', () => {
    it('passes text and usage through exactly, with the provider key and the upstream model; never the tenant key', async () => {
      const tenant = await t.tenant('10');
      fake.set({
        text: 'Upstream says hi.',
        usage: { input_tokens: 60, input_tokens_details: { cached_tokens: 48 }, output_tokens: 321, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 381 },
      });
      const { result: res, calls } = await upstreamCalls(() =>
        t.openai(tenant.key).responses.create({ model: MODEL, input: 'Say hi.', instructions: 'Be nice.', temperature: 0.2, top_p: 0.9, max_output_tokens: 500 }),
      );
      expect(res.status).toBe('completed');
      expect(res.model).toBe(MODEL);
      expect(res.output_text).toBe('Upstream says hi.');
      expect(res.usage).toEqual({
        input_tokens: 60,
        input_tokens_details: { cached_tokens: 48, cache_write_tokens: 0 },
        output_tokens: 321,
        output_tokens_details: { reasoning_tokens: 0 },
        total_tokens: 381,
        // (12 x 0.25 + 48 x 0.025 + 321 x 2) / 1e6, worked by hand
        cost: '0.0006462',
        cost_details: { input: '0.000003', cached_input: '0.0000012', output: '0.000642', reasoning: '0', price_id: expect.any(String) },
      });

      expect(calls).toHaveLength(1);
      const [call] = calls;
      expect(call.method).toBe('POST');
      expect(call.url).toBe('/v1/responses');
      expect(call.headers.authorization).toBe(`Bearer ${SECRET}`);
      expect(call.headers['content-type']).toBe('application/json');
      expect(call.body).toEqual({
        model: 'vendor-model-x',
        input: [
          { role: 'system', content: 'Be nice.' },
          { role: 'user', content: 'Say hi.' },
        ],
        max_output_tokens: 500,
        temperature: 0.2,
        top_p: 0.9,
        stream: false,
        store: false,
      });
      // The tenant's key appears nowhere in what the upstream received.
      const everything = JSON.stringify(call.headers) + call.rawBody;
      expect(everything).not.toContain(tenant.key);
      expect(everything).not.toContain(tenant.key.slice(3, 15));

      const [event] = await eventsOf(tenant.tenantId);
      expect(event).toMatchObject({ response_id: res.id, model: MODEL, input_tokens: 60, cached_tokens: 48, output_tokens: 321, reasoning_tokens: 0 });
    });

    it('forwards the vendor fields top-level and passes reasoning (and its tokens) through', async () => {
      const tenant = await t.tenant('10');
      fake.set({
        reasoning: 'Thinking it over.',
        text: 'Done thinking.',
        usage: { input_tokens: 50, input_tokens_details: { cached_tokens: 0 }, output_tokens: 40, output_tokens_details: { reasoning_tokens: 30 }, total_tokens: 90 },
      });
      const { result: res, calls } = await upstreamCalls(() =>
        t.openai(tenant.key).responses.create({ model: MODEL, input: 'Think.', caching: { type: 'enabled' }, thinking: { type: 'enabled' } } as any),
      );
      expect(calls[0].body).toMatchObject({ caching: { type: 'enabled' }, thinking: { type: 'enabled' }, store: false });
      expect(calls[0].body).not.toHaveProperty('extra_body');
      const reasoning = res.output.find((o) => o.type === 'reasoning') as any;
      expect(reasoning.summary[0].text).toBe('Thinking it over.');
      expect(res.output_text).toBe('Done thinking.');
      expect(res.usage!.output_tokens_details.reasoning_tokens).toBe(30);
      expect(res.usage!.output_tokens).toBe(40);

      // From extra_body too; a thinking "disabled" the client asked for is forwarded (some upstream
      // models think by default); one it did not ask for is not sent.
      const { calls: nested } = await upstreamCalls(() =>
        t.openai(tenant.key).responses.create({ model: MODEL, input: 'x', extra_body: { caching: { type: 'enabled', prefix: true }, thinking: { type: 'disabled' } } } as any),
      );
      expect(nested[0].body.caching).toEqual({ type: 'enabled', prefix: true });
      expect(nested[0].body.thinking).toEqual({ type: 'disabled' });
      const { calls: plain } = await upstreamCalls(() => t.openai(tenant.key).responses.create({ model: MODEL, input: 'x' }));
      expect(plain[0].body).not.toHaveProperty('thinking');
    });

    it('continues a conversation with previous_response_id over the stateless upstream', async () => {
      const tenant = await t.tenant('10');
      const sdk = t.openai(tenant.key);
      fake.set({ text: 'Nice to meet you, Ada.' });
      const first = await sdk.responses.create({ model: MODEL, input: 'My name is Ada.' });
      fake.set({ text: 'Your name is Ada.' });
      const { result: second, calls } = await upstreamCalls(() =>
        sdk.responses.create({ model: MODEL, input: 'What is my name?', previous_response_id: first.id }),
      );
      expect(second.previous_response_id).toBe(first.id);
      expect(second.output_text).toBe('Your name is Ada.');
      expect(calls[0].body.input).toEqual([
        { role: 'user', content: 'My name is Ada.' },
        { role: 'assistant', content: 'Nice to meet you, Ada.' },
        { role: 'user', content: 'What is my name?' },
      ]);
      expect(calls[0].body).not.toHaveProperty('previous_response_id');
      expect(calls[0].rawBody).not.toContain(first.id);
    });

    it('reports an upstream cut (incomplete, max_output_tokens)', async () => {
      const tenant = await t.tenant('10');
      fake.set({ status: 'incomplete', text: 'Once upon a', usage: { input_tokens: 8, output_tokens: 3 } });
      const res = await t.openai(tenant.key).responses.create({ model: MODEL, input: 'Story', max_output_tokens: 16 });
      expect(res.status).toBe('incomplete');
      expect(res.incomplete_details).toEqual({ reason: 'max_output_tokens' });
      expect(res.output_text).toBe('Once upon a');
      expect(res.usage).toMatchObject({ input_tokens: 8, output_tokens: 3, input_tokens_details: { cached_tokens: 0 }, output_tokens_details: { reasoning_tokens: 0 } });
    });

    it('counts with the tokenizer when the upstream reports no usage (never a silent zero)', async () => {
      const tenant = await t.tenant('10');
      fake.set({ usage: null, text: 'No usage in this answer.' });
      const res = await t.openai(tenant.key).responses.create({ model: MODEL, input: 'Count me.' });
      expect(res.usage!.input_tokens).toBe(promptTokens([{ role: 'user', text: 'Count me.' }]));
      expect(res.usage!.output_tokens).toBeGreaterThan(0);
    });

    it('answers 502 server_error for an upstream 500, writes no usage event and releases the reservation', async () => {
      const tenant = await t.tenant('10');
      fake.set({ httpStatus: 500 });
      const res = await http(t.baseUrl, 'POST', '/v1/responses', { token: tenant.key, body: { model: MODEL, input: 'fail please' } });
      expect(res.status).toBe(502);
      expect(res.body.error).toMatchObject({ type: 'server_error', code: 'upstream_error', message: 'The upstream provider returned an error (HTTP 500).' });
      expect(res.text).not.toContain(SECRET);
      expect(res.text).not.toContain(fake.url);
      expect(await eventsOf(tenant.tenantId)).toHaveLength(0);
      expect(await reservedOf(tenant.tenantId)).toBe('0');

      // The SDK sees the same (no retries in this harness).
      const err = await t.openai(tenant.key).responses.create({ model: MODEL, input: 'again' }).catch((e) => e);
      expect(err.status).toBe(502);
      expect(await eventsOf(tenant.tenantId)).toHaveLength(0);
    });

    it('passes a 400 from the upstream on as 502 with its (sanitized) message', async () => {
      const tenant = await t.tenant('10');
      fake.set({ httpStatus: 400, errorBody: { error: { message: `Unsupported parameter: 'top_p' (key ${SECRET}).`, type: 'invalid_request_error', code: 'unsupported_parameter' } } });
      const res = await http(t.baseUrl, 'POST', '/v1/responses', { token: tenant.key, body: { model: MODEL, input: 'x', top_p: 0.5 } });
      expect(res.status).toBe(502);
      expect(res.body.error.code).toBe('upstream_error');
      expect(res.body.error.message).toContain("Unsupported parameter: 'top_p'");
      expect(res.text).not.toContain(SECRET);
      expect(await eventsOf(tenant.tenantId)).toHaveLength(0);
    });

    it('answers 504 upstream_timeout when the upstream is slower than timeout_ms, and charges nothing', async () => {
      const tenant = await t.tenant('10');
      fake.set({ delayMs: SLOW_TIMEOUT_MS + 1500 });
      const started = Date.now();
      const res = await http(t.baseUrl, 'POST', '/v1/responses', { token: tenant.key, body: { model: SLOW_MODEL, input: 'slow' } });
      expect(res.status).toBe(504);
      expect(res.body.error).toMatchObject({ type: 'server_error', code: 'upstream_timeout' });
      expect(Date.now() - started).toBeLessThan(SLOW_TIMEOUT_MS + 1400);
      expect(await eventsOf(tenant.tenantId)).toHaveLength(0);
      expect(await reservedOf(tenant.tenantId)).toBe('0');
    });

    it('reserves the provider max_output_tokens as the output bound when the request sets none', async () => {
      // fake-slow's bound is 100 output tokens: 100 * $2/M = $0.0002 plus the input; $0.0001 cannot cover it.
      const tenant = await t.tenant('0.0001');
      const refused = await http(t.baseUrl, 'POST', '/v1/responses', { token: tenant.key, body: { model: SLOW_MODEL, input: 'x' } });
      expect(refused.status).toBe(429);
      expect(refused.body.error.code).toBe('insufficient_quota');
      const ok = await http(t.baseUrl, 'POST', '/v1/responses', { token: tenant.key, body: { model: SLOW_MODEL, input: 'x', max_output_tokens: 16 } });
      expect(ok.status).toBe(200);
    });

    it("charges every successful request exactly once in the ledger, with the upstream's usage", async () => {
      const tenant = await t.tenant('10');
      const sdk = t.openai(tenant.key);
      const usages = [
        { input_tokens: 1000, input_tokens_details: { cached_tokens: 400 }, output_tokens: 200, output_tokens_details: { reasoning_tokens: 50 } },
        { input_tokens: 77, input_tokens_details: { cached_tokens: 0 }, output_tokens: 9, output_tokens_details: { reasoning_tokens: 0 } },
      ];
      const ids: string[] = [];
      for (const usage of usages) {
        fake.set({ usage, reasoning: usage.output_tokens_details.reasoning_tokens ? 'r' : null });
        // A prompt long enough for the usage reported (the charge never exceeds the reserved bound).
        ids.push((await sdk.responses.create({ model: MODEL, input: `bill me ${'x'.repeat(1000)}` })).id);
      }
      fake.set({ httpStatus: 503 });
      await expect(sdk.responses.create({ model: MODEL, input: 'fails' })).rejects.toMatchObject({ status: 502 });

      await waitFor('charges', async () => {
        const { rows } = await db.query('SELECT count(*)::int AS n FROM usage_events WHERE tenant_id = $1 AND charged_at IS NULL', [tenant.tenantId]);
        return rows[0].n === 0;
      });
      const { rows } = await db.query(
        `SELECT e.response_id, count(l.id)::int AS charges, min(l.amount::text) AS amount
           FROM usage_events e LEFT JOIN ledger_entries l ON l.usage_event_id = e.id
          WHERE e.tenant_id = $1 GROUP BY e.response_id`,
        [tenant.tenantId],
      );
      expect(rows.map((r) => r.response_id).sort()).toEqual([...ids].sort());
      let total = '0';
      for (const [i, id] of ids.entries()) {
        const row = rows.find((r) => r.response_id === id)!;
        const u = usages[i];
        const want = handCharge(
          { input: u.input_tokens, cached: u.input_tokens_details.cached_tokens, output: u.output_tokens, reasoning: u.output_tokens_details.reasoning_tokens },
          PRICE,
        );
        expect(row.charges).toBe(1);
        expect(addAmounts(row.amount)).toBe(negate(want.total));
        total = addAmounts(total, want.total);
      }
      // By hand: (1000 - 400) * 0.25 + 400 * 0.025 + 200 * 2 = 150 + 10 + 400 = 560 -> 0.00056;
      // 77 * 0.25 + 9 * 2 = 19.25 + 18 = 37.25 -> 0.00003725; together 0.00059725.
      expect(total).toBe('0.00059725');
      const balance = await http(t.baseUrl, 'GET', '/v1/balance', { token: tenant.key });
      expect(balance.body.balance).toBe(addAmounts('10', negate(total)));
      expect(await reservedOf(tenant.tenantId)).toBe('0');
    });
  });
  describe('streaming and chat through Tollgate', () => {
    const chargedEvents = (tenantId: string, n: number) =>
      waitFor(`${n} charged events`, async () => {
        const rows = await eventsOf(tenantId);
        return rows.length === n && rows.every((r) => r.charged_at) ? rows : null;
      });

    it('streams the upstream deltas as OpenAI events and charges the upstream usage once', async () => {
      const tenant = await t.tenant('10');
      fake.set({
        text: 'Streamed from upstream.',
        reasoning: 'Pondering.',
        deltas: 4,
        usage: { input_tokens: 50, input_tokens_details: { cached_tokens: 10 }, output_tokens: 30, output_tokens_details: { reasoning_tokens: 12 }, total_tokens: 80 },
      });
      const types: string[] = [];
      const { result: final, calls } = await upstreamCalls(() => {
        const stream = t.openai(tenant.key).responses.stream({ model: MODEL, input: 'Stream please' });
        stream.on('event', (e) => types.push(e.type));
        return stream.finalResponse();
      });
      // Streamed too, the upstream gets the provider key and never the tenant's.
      expect(calls).toHaveLength(1);
      expect(calls[0].headers.authorization).toBe(`Bearer ${SECRET}`);
      const everything = JSON.stringify(calls[0].headers) + calls[0].rawBody;
      expect(everything).not.toContain(tenant.key);
      expect(everything).not.toContain(tenant.key.slice(3, 15));
      expect(final.output_text).toBe('Streamed from upstream.');
      expect(final.usage).toMatchObject({ input_tokens: 50, output_tokens: 30, input_tokens_details: { cached_tokens: 10 }, output_tokens_details: { reasoning_tokens: 12 } });
      expect(types[0]).toBe('response.created');
      expect(types).toContain('response.reasoning_summary_text.delta');
      expect(types.filter((x) => x === 'response.output_text.delta').length).toBe(4);
      expect(types[types.length - 1]).toBe('response.completed');
      expect(fake.requests[fake.requests.length - 1].body.stream).toBe(true);
      const [event] = await chargedEvents(tenant.tenantId, 1);
      expect([event.input_tokens, event.cached_tokens, event.output_tokens, event.reasoning_tokens]).toEqual([50, 10, 30, 12]);
      // (50 - 10) * 0.25 / 1e6 + 10 * 0.025 / 1e6 + 30 * 2 / 1e6 = 0.00001 + 0.00000025 + 0.00006 = 0.00007025
      const charge = (await db.query('SELECT amount::text FROM ledger_entries WHERE usage_event_id = $1', [event.id])).rows;
      expect(charge.map((r) => addAmounts(r.amount))).toEqual(['-0.00007025']);
    });

    it('answers an upstream failure before the first event with a JSON 502, and charges nothing', async () => {
      const tenant = await t.tenant('10');
      fake.set({ httpStatus: 500 });
      const err: any = await t.openai(tenant.key).responses.create({ model: MODEL, input: 'x', stream: true }).catch((e) => e);
      expect(err.status).toBe(502);
      expect(err.code).toBe('upstream_error');
      await new Promise((r) => setTimeout(r, 500));
      expect(await eventsOf(tenant.tenantId)).toHaveLength(0);
      expect(await reservedOf(tenant.tenantId)).toBe('0');
    });

    it('reports an upstream error mid-stream as error + response.failed and charges what was produced', async () => {
      const tenant = await t.tenant('10');
      fake.set({ text: 'one two three four', deltas: 4, streamError: 'upstream exploded' });
      const raw = await t.openai(tenant.key).responses.create({ model: MODEL, input: 'x', stream: true });
      const seen: string[] = [];
      const err = await (async () => {
        for await (const e of raw) seen.push(e.type);
      })().catch((e) => e);
      expect(err).toBeInstanceOf(Error);
      expect(seen.filter((x) => x === 'response.output_text.delta').length).toBe(4);
      const [event] = await chargedEvents(tenant.tenantId, 1);
      expect(event.output_tokens).toBeGreaterThan(0);
      const stored = await db.query('SELECT status FROM responses WHERE id = $1', [event.response_id]);
      expect(stored.rows[0].status).toBe('failed');
    });

    it('aborts the upstream when the client goes away, and charges the tokens streamed so far', async () => {
      const tenant = await t.tenant('10');
      fake.set({ text: Array.from({ length: 40 }, (_, i) => `w${i}`).join(' '), deltas: 40, deltaDelayMs: 30 });
      const abort = new AbortController();
      const res = await fetch(`${t.baseUrl}/v1/responses`, {
        method: 'POST',
        headers: { authorization: `Bearer ${tenant.key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: MODEL, input: 'long', stream: true }),
        signal: abort.signal,
      });
      const reader = res.body!.getReader();
      let text = '';
      while ((text.match(/output_text\.delta/g) ?? []).length < 8) text += new TextDecoder().decode((await reader.read()).value);
      abort.abort();
      const [event] = await chargedEvents(tenant.tenantId, 1);
      expect(event.output_tokens).toBeGreaterThan(0);
      expect(event.input_tokens).toBeGreaterThan(0);
      await waitFor('the upstream request to be cut', () => fake.requests[fake.requests.length - 1].closedEarly);
      const stored = await db.query('SELECT status FROM responses WHERE id = $1', [event.response_id]);
      expect(stored.rows[0].status).toBe('incomplete');
    });

    it('serves /v1/chat/completions from the upstream, plain and streamed with usage, metered exactly', async () => {
      const tenant = await t.tenant('10');
      fake.set({ text: 'Chat via upstream.', usage: { input_tokens: 9, output_tokens: 5, total_tokens: 14 } });
      const sdk = t.openai(tenant.key);
      const plain = await sdk.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'hi' }] });
      expect(plain.choices[0].message.content).toBe('Chat via upstream.');
      expect(plain.usage).toMatchObject({ prompt_tokens: 9, completion_tokens: 5, total_tokens: 14 });
      const stream = await sdk.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'hi' }], stream: true, stream_options: { include_usage: true } });
      let text = '';
      let usage: any;
      for await (const c of stream) {
        text += c.choices[0]?.delta?.content ?? '';
        usage = c.usage ?? usage;
      }
      expect(text).toBe('Chat via upstream.');
      expect(usage).toMatchObject({ prompt_tokens: 9, completion_tokens: 5 });
      const events = await chargedEvents(tenant.tenantId, 2);
      expect(events.map((e) => [e.input_tokens, e.output_tokens])).toEqual([
        [9, 5],
        [9, 5],
      ]);
    });
  });
});

describe('OpenAICompatibleProvider.stream() against the fake upstream', () => {
  let fake: FakeUpstream;
  let provider: OpenAICompatibleProvider;
  let slow: OpenAICompatibleProvider;
  const SECRET_2 = 'stream-provider-secret';

  const request = (over: Partial<GenerateRequest> = {}): GenerateRequest => ({
    model: 'tollgate-id',
    upstreamModel: 'vendor-model-x',
    messages: [{ role: 'user', text: 'Stream to me.' }],
    newInputStart: 0,
    maxOutputTokens: null,
    temperature: null,
    topP: null,
    thinking: 'enabled',
    caching: { enabled: false, prefix: false },
    stream: true,
    ...over,
  });

  async function collect(p: OpenAICompatibleProvider, req = request(), signal?: AbortSignal) {
    const events: StreamEvent[] = [];
    for await (const event of p.stream(req, signal)) events.push(event);
    return events;
  }
  const RELAYED = { 'text.delta': 'response.output_text.delta', 'reasoning.delta': 'response.reasoning_summary_text.delta' };
  /** The relayed upstream events carrying `type`'s text. */
  const deltasOf = (events: StreamEvent[], type: 'text.delta' | 'reasoning.delta') =>
    events.filter((e) => e.type === 'relay' && e.event.type === RELAYED[type]).map((e) => (e as unknown as { event: { delta: string } }).event.delta);
  const joined = (events: StreamEvent[], type: 'text.delta' | 'reasoning.delta') => deltasOf(events, type).join('');
  const indexOf = (events: StreamEvent[], type: 'text.delta' | 'reasoning.delta') =>
    events.findIndex((e) => e.type === 'relay' && e.event.type === RELAYED[type]);

  beforeAll(async () => {
    fake = await startFakeUpstream();
    const config = { type: 'openai' as const, baseUrl: fake.url, apiKey: SECRET_2, maxOutputTokens: 4096 };
    provider = new OpenAICompatibleProvider({ ...config, name: 'fake', timeoutMs: 10_000 });
    slow = new OpenAICompatibleProvider({ ...config, name: 'fake-slow', timeoutMs: 300 });
  });

  afterAll(async () => {
    await provider.close();
    await slow.close();
    await fake.close();
  });

  beforeEach(() => fake.set({}));

  it('streams reasoning and text deltas, then done with the upstream usage', async () => {
    fake.set({
      reasoning: 'Let me see.',
      text: 'Here is a streamed answer.',
      deltas: 5,
      usage: { input_tokens: 30, input_tokens_details: { cached_tokens: 10 }, output_tokens: 20, output_tokens_details: { reasoning_tokens: 5 } },
    });
    const before = fake.requests.length;
    const events = await collect(provider);
    const call = fake.requests[before];
    expect(call.headers.authorization).toBe(`Bearer ${SECRET_2}`);
    expect(call.headers.accept).toBe('text/event-stream');
    expect(call.body).toMatchObject({ model: 'vendor-model-x', stream: true, store: false, thinking: { type: 'enabled' } });

    expect(deltasOf(events, 'text.delta').length).toBeGreaterThanOrEqual(5);
    expect(joined(events, 'reasoning.delta')).toBe('Let me see.');
    expect(joined(events, 'text.delta')).toBe('Here is a streamed answer.');
    // Reasoning first, then text, then done.
    expect(indexOf(events, 'text.delta')).toBeGreaterThan(indexOf(events, 'reasoning.delta'));
    expect(events[events.length - 1]).toEqual({
      type: 'done',
      result: {
        reasoning: 'Let me see.',
        text: 'Here is a streamed answer.',
        status: 'completed',
        incompleteReason: null,
        usage: { inputTokens: 30, cachedTokens: 10, outputTokens: 20, reasoningTokens: 5 },
        cache: null,
        output: [expect.objectContaining({ type: 'reasoning' }), expect.objectContaining({ type: 'message' })],
      },
    });
  });

  it('tolerates a trailing data: [DONE] and maps response.incomplete', async () => {
    fake.set({ sendDone: true, status: 'incomplete', text: 'Cut sh' });
    const events = await collect(provider);
    expect(joined(events, 'text.delta')).toBe('Cut sh');
    expect(events[events.length - 1]).toMatchObject({ type: 'done', result: { status: 'incomplete', incompleteReason: 'max_output_tokens' } });
  });

  it('uses the streamed text when the terminal event carries no output', async () => {
    fake.set({ omitOutputOnCompleted: true, text: 'kept from deltas' });
    const events = await collect(provider);
    expect(events[events.length - 1]).toMatchObject({ type: 'done', result: { text: 'kept from deltas' } });
  });

  it('aborts the upstream request when the caller aborts, and ends without an error', async () => {
    fake.set({ text: 'x'.repeat(200), deltas: 50, deltaDelayMs: 50 });
    const before = fake.requests.length;
    const controller = new AbortController();
    const events: StreamEvent[] = [];
    for await (const event of provider.stream(request(), controller.signal)) {
      events.push(event);
      if (events.length === 3) controller.abort();
    }
    expect(events.length).toBeGreaterThanOrEqual(3);
    expect(events.length).toBeLessThan(10);
    expect(events.some((e) => e.type === 'done')).toBe(false);
    await waitFor('the upstream to see the disconnect', () => fake.requests[before].closedEarly);
  });

  it('aborts the upstream when the consumer stops iterating', async () => {
    fake.set({ text: 'y'.repeat(200), deltas: 50, deltaDelayMs: 50 });
    const before = fake.requests.length;
    for await (const event of provider.stream(request())) {
      if (event.type === 'relay' && event.event.type === 'response.output_text.delta') break;
    }
    await waitFor('the upstream to see the disconnect', () => fake.requests[before].closedEarly);
  });

  it('returns at once for an already aborted signal', async () => {
    const before = fake.requests.length;
    const controller = new AbortController();
    controller.abort();
    expect(await collect(provider, request(), controller.signal)).toEqual([]);
    expect(fake.requests.length).toBe(before);
  });

  it('throws 502 upstream_error on event: error / response.failed, a non-2xx answer, or a cut stream', async () => {
    fake.set({ streamError: 'The model crashed.' });
    const streamed = await collect(provider).catch((e) => e);
    expect(streamed).toBeInstanceOf(DomainError);
    expect(toApiError(streamed)).toMatchObject({ status: 502, type: 'server_error', code: 'upstream_error' });
    expect(streamed.message).toContain('The model crashed.');

    fake.set({ httpStatus: 500 });
    const events: StreamEvent[] = [];
    const status = await (async () => {
      for await (const e of provider.stream(request())) events.push(e);
    })().catch(toApiError);
    expect(events).toEqual([]);
    expect(status).toMatchObject({ status: 502, code: 'upstream_error', message: 'The upstream provider returned an error (HTTP 500).' });

    fake.set({ truncate: true });
    expect(await collect(provider).catch(toApiError)).toMatchObject({ status: 502, code: 'upstream_error' });
  });

  it('throws 504 upstream_timeout when the upstream does not answer, or stalls mid-stream, past timeout_ms', async () => {
    fake.set({ delayMs: 1500 });
    expect(await collect(slow).catch(toApiError)).toMatchObject({ status: 504, type: 'server_error', code: 'upstream_timeout' });
    fake.set({ deltas: 3, deltaDelayMs: 1500 });
    const events: StreamEvent[] = [];
    const err = await (async () => {
      for await (const e of slow.stream(request())) events.push(e);
    })().catch(toApiError);
    expect(err).toMatchObject({ status: 504, code: 'upstream_timeout' });
    expect(events.length).toBeGreaterThan(0);
  });

  it('answers 502 when the upstream cannot be reached', async () => {
    const dead = new OpenAICompatibleProvider({ name: 'dead', type: 'openai', baseUrl: 'http://127.0.0.1:1/v1', apiKey: 'k', timeoutMs: 2000, maxOutputTokens: 10 });
    try {
      expect(await collect(dead).catch(toApiError)).toMatchObject({ status: 502, code: 'upstream_error' });
      expect(await dead.generate(request({ stream: false })).catch(toApiError)).toMatchObject({ status: 502, code: 'upstream_error' });
    } finally {
      await dead.close();
    }
  });

  it('usageBounds: the prompt estimate and max_output_tokens, else the provider default', async () => {
    const req = request();
    expect(await provider.usageBounds(req)).toEqual({ inputTokens: promptTokenBound(req), outputTokens: 4096 });
    expect(promptTokenBound(req)).toBeGreaterThanOrEqual(promptTokens(req.messages));
    expect((await provider.usageBounds(request({ maxOutputTokens: 12 }))).outputTokens).toBe(12);
  });

  it('refuses new requests after close()', async () => {
    const closing = new OpenAICompatibleProvider({ name: 'c', type: 'openai', baseUrl: fake.url, apiKey: 'k', timeoutMs: 2000, maxOutputTokens: 10 });
    expect((await closing.generate(request({ stream: false }))).text).toBe(FAKE_DEFAULTS.text);
    await closing.close();
    expect(await closing.generate(request({ stream: false })).catch(toApiError)).toMatchObject({ status: 502 });
  });
});
