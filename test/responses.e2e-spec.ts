import OpenAI from 'openai';
import type { Client } from 'pg';
import { ensureSeedModel, http, SEED_MODEL, startApp, TestApp } from './support/harness';
import { expectConforms } from './support/openapi';
import { openDb } from './support/db';

/** A prompt long enough for a prefix cache (>= 256 tokens). */
const LONG_CONTEXT = Array.from({ length: 60 }, (_, i) => `Rule ${i + 1}: answer politely and cite the handbook section.`).join(' ');

describe('POST /v1/responses on the simulated model (openai SDK)', () => {
  let t: TestApp;
  let client: OpenAI;
  let tenant: { tenantId: string; key: string; keyId: string };
  let db: Client;

  beforeAll(async () => {
    t = await startApp();
    await ensureSeedModel(t);
    tenant = await t.tenant('50');
    client = t.openai(tenant.key);
    db = await openDb();
  });

  afterAll(async () => {
    await db.end();
    await t.close();
  });

  const usageEvent = async (responseId: string) =>
    (await db.query('SELECT * FROM usage_events WHERE response_id = $1', [responseId])).rows;

  describe('create', () => {
    it('answers a string input with a Responses API object and writes one usage event', async () => {
      const res = await client.responses.create({ model: SEED_MODEL, input: 'Say hello to the gateway.' });
      expect(res.id).toMatch(/^resp_/);
      expectConforms('Response', res);
      expect(res.object).toBe('response');
      expect(res.status).toBe('completed');
      expect(res.model).toBe(SEED_MODEL);
      expect(res.output_text.length).toBeGreaterThan(0);
      const message = res.output.find((o) => o.type === 'message')!;
      expect(message).toMatchObject({ type: 'message', role: 'assistant', status: 'completed' });
      expect(res.usage!.input_tokens).toBeGreaterThan(0);
      expect(res.usage!.output_tokens).toBeGreaterThanOrEqual(16);
      expect(res.usage!.total_tokens).toBe(res.usage!.input_tokens + res.usage!.output_tokens);
      expect(res.usage!.input_tokens_details.cached_tokens).toBe(0);
      expect(res.usage!.output_tokens_details.reasoning_tokens).toBe(0);

      const events = await usageEvent(res.id);
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({
        tenant_id: tenant.tenantId,
        api_key_id: tenant.keyId,
        model: SEED_MODEL,
        input_tokens: res.usage!.input_tokens,
        cached_tokens: 0,
        output_tokens: res.usage!.output_tokens,
        reasoning_tokens: 0,
      });
    });

    it('accepts message items, content parts and instructions; instructions count as input', async () => {
      const input: OpenAI.Responses.ResponseInput = [
        { role: 'user', content: 'What is a ledger?' },
        { type: 'message', role: 'assistant', id: 'msg_prior', status: 'completed', content: [{ type: 'output_text', text: 'A book of accounts.', annotations: [] }] },
        { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'And a journal?' }] },
      ];
      const plain = await client.responses.create({ model: SEED_MODEL, input });
      const withInstructions = await client.responses.create({ model: SEED_MODEL, input, instructions: 'You are an accountant. Be brief.' });
      expect(plain.status).toBe('completed');
      expect(withInstructions.instructions).toBe('You are an accountant. Be brief.');
      expect(withInstructions.usage!.input_tokens).toBeGreaterThan(plain.usage!.input_tokens);
    });

    it('accepts the seed `messages` alias of input', async () => {
      const res = await client.responses.create({ model: SEED_MODEL, messages: [{ role: 'user', content: 'Hi there' }] } as any);
      const same = await client.responses.create({ model: SEED_MODEL, input: [{ role: 'user', content: 'Hi there' }] });
      expect(res.output_text).toBe(same.output_text);
      expect(res.usage).toEqual(same.usage);
    });

    it('is deterministic: the same request gives the same text and usage; another prompt does not', async () => {
      const a = await client.responses.create({ model: SEED_MODEL, input: 'Determinism check', temperature: 0.3 });
      const b = await client.responses.create({ model: SEED_MODEL, input: 'Determinism check', temperature: 0.3 });
      const c = await client.responses.create({ model: SEED_MODEL, input: 'Another prompt entirely', temperature: 0.3 });
      expect(b.output_text).toBe(a.output_text);
      expect(b.usage).toEqual(a.usage);
      expect(a.id).not.toBe(b.id);
      expect(c.output_text).not.toBe(a.output_text);
      expect(a.temperature).toBe(0.3);
    });

    it('thinks when thinking is enabled (top-level or in extra_body), not when disabled', async () => {
      const enabled = await client.responses.create({ model: SEED_MODEL, input: 'Plan a trip', thinking: { type: 'enabled' } } as any);
      const nested = await client.responses.create({ model: SEED_MODEL, input: 'Plan a trip', extra_body: { thinking: { type: 'enabled' } } } as any);
      const disabled = await client.responses.create({ model: SEED_MODEL, input: 'Plan a trip', thinking: { type: 'disabled' } } as any);

      const reasoning = enabled.output.find((o) => o.type === 'reasoning') as any;
      expect(reasoning.id).toMatch(/^rs_/);
      expect(reasoning.summary[0].type).toBe('summary_text');
      expect(reasoning.summary[0].text.length).toBeGreaterThan(0);
      const r = enabled.usage!.output_tokens_details.reasoning_tokens;
      expect(r).toBeGreaterThan(0);
      expect(enabled.usage!.output_tokens).toBeGreaterThan(r);
      expect(nested.usage).toEqual(enabled.usage);
      expect((enabled as any).thinking).toEqual({ type: 'enabled' });

      expect(disabled.output.some((o) => o.type === 'reasoning')).toBe(false);
      expect(disabled.usage!.output_tokens_details.reasoning_tokens).toBe(0);
      // Reasoning is part of output tokens: the event stores both, the visible part is the difference.
      const [event] = await usageEvent(enabled.id);
      expect(event.reasoning_tokens).toBe(r);
      expect(event.output_tokens).toBe(enabled.usage!.output_tokens);
    });

    it('honours max_output_tokens with status incomplete', async () => {
      const full = await client.responses.create({ model: SEED_MODEL, input: 'Tell me a long story' });
      const cut = await client.responses.create({ model: SEED_MODEL, input: 'Tell me a long story', max_output_tokens: 5 });
      expect(full.usage!.output_tokens).toBeGreaterThan(5);
      expect(cut.status).toBe('incomplete');
      expect(cut.incomplete_details).toEqual({ reason: 'max_output_tokens' });
      expect(cut.usage!.output_tokens).toBe(5);
      expect(cut.max_output_tokens).toBe(5);
      expect((cut.output[0] as any).status).toBe('incomplete');
      expect(full.output_text.startsWith(cut.output_text)).toBe(true);
    });

    it('stores metadata and echoes it; store:false is answered and metered but not retrievable', async () => {
      const res = await client.responses.create({ model: SEED_MODEL, input: 'meta', metadata: { order: '42' } });
      expect(res.metadata).toEqual({ order: '42' });
      const unstored = await client.responses.create({ model: SEED_MODEL, input: 'ephemeral', store: false });
      expect((unstored as any).store).toBe(false);
      await expect(client.responses.retrieve(unstored.id)).rejects.toMatchObject({ status: 404 });
      expect(await usageEvent(unstored.id)).toHaveLength(1);
    });
  });

  describe('conversations', () => {
    it('continues a stored conversation with previous_response_id', async () => {
      const first = await client.responses.create({ model: SEED_MODEL, input: 'My name is Ada.' });
      const second = await client.responses.create({ model: SEED_MODEL, input: 'What is my name?', previous_response_id: first.id });
      const third = await client.responses.create({ model: SEED_MODEL, input: 'And again?', previous_response_id: second.id });
      expect(second.previous_response_id).toBe(first.id);
      // The whole conversation is the prompt: earlier input and answers count as input tokens.
      const alone = await client.responses.create({ model: SEED_MODEL, input: 'What is my name?' });
      expect(second.usage!.input_tokens).toBeGreaterThan(alone.usage!.input_tokens + first.usage!.output_tokens - 1);
      expect(third.usage!.input_tokens).toBeGreaterThan(second.usage!.input_tokens + second.usage!.output_tokens - 1);
      expect(second.output_text).not.toBe(alone.output_text);
    });

    it('refuses an unknown previous_response_id with previous_response_not_found', async () => {
      const err = await client.responses.create({ model: SEED_MODEL, input: 'x', previous_response_id: 'resp_nope' }).catch((e) => e);
      expect(err.status).toBe(400);
      expect(err.code).toBe('previous_response_not_found');
      expect(err.param).toBe('previous_response_id');
      expect(err.type).toBe('invalid_request_error');
    });

    it('prefix caching builds a cache, generates nothing, and the next turn reports cached_tokens', async () => {
      const prefix = await client.responses.create({
        model: SEED_MODEL,
        input: [{ role: 'system', content: LONG_CONTEXT }],
        caching: { type: 'enabled', prefix: true },
      } as any);
      expect(prefix.usage!.input_tokens).toBeGreaterThanOrEqual(256);
      expect(prefix.usage!.output_tokens).toBe(0);
      expect(prefix.output).toEqual([]);
      expect(prefix.usage!.total_tokens).toBe(prefix.usage!.input_tokens);

      const next = await client.responses.create({
        model: SEED_MODEL,
        input: 'Which rule is first?',
        previous_response_id: prefix.id,
        caching: { type: 'enabled' },
      } as any);
      expect(next.usage!.input_tokens_details.cached_tokens).toBe(prefix.usage!.input_tokens);
      expect(next.usage!.input_tokens).toBeGreaterThan(prefix.usage!.input_tokens);
      const [event] = await usageEvent(next.id);
      expect(event.cached_tokens).toBe(prefix.usage!.input_tokens);

      // Without caching on the follow-up, nothing is served from the cache.
      const uncached = await client.responses.create({ model: SEED_MODEL, input: 'Which rule is first?', previous_response_id: prefix.id });
      expect(uncached.usage!.input_tokens_details.cached_tokens).toBe(0);
      expect(uncached.usage!.input_tokens).toBe(next.usage!.input_tokens);
    });

    it('prefix caching refuses short input, max_output_tokens and stream, each naming its param', async () => {
      const cases: Array<[Record<string, unknown>, string]> = [
        [{ input: 'too short' }, 'input'],
        [{ input: LONG_CONTEXT, max_output_tokens: 100 }, 'max_output_tokens'],
        [{ input: LONG_CONTEXT, stream: true }, 'stream'],
      ];
      for (const [body, param] of cases) {
        const res = await http(t.baseUrl, 'POST', '/v1/responses', {
          token: tenant.key,
          body: { model: SEED_MODEL, caching: { type: 'enabled', prefix: true }, ...body },
        });
        expect({ status: res.status, param: res.body.error.param }).toEqual({ status: 400, param });
      }
    });

    it('session caching caches this turn (input and answer) for the next turn', async () => {
      const first = await client.responses.create({ model: SEED_MODEL, input: 'Remember the number 7.', caching: { type: 'enabled' } } as any);
      expect(first.usage!.input_tokens_details.cached_tokens).toBe(0);
      const second = await client.responses.create({
        model: SEED_MODEL,
        input: 'What number?',
        previous_response_id: first.id,
        caching: { type: 'enabled' },
      } as any);
      const cached = second.usage!.input_tokens_details.cached_tokens;
      // The cache holds turn one's prompt and its answer.
      expect(cached).toBeGreaterThan(first.usage!.input_tokens);
      expect(cached).toBeLessThan(second.usage!.input_tokens);
      const third = await client.responses.create({
        model: SEED_MODEL,
        input: 'Once more',
        previous_response_id: second.id,
        caching: { type: 'enabled' },
      } as any);
      expect(third.usage!.input_tokens_details.cached_tokens).toBeGreaterThan(cached);
    });
  });

  describe('retrieve, delete, input_items', () => {
    it('retrieves a stored response exactly as created', async () => {
      const created = await client.responses.create({ model: SEED_MODEL, input: 'keep me', metadata: { a: 'b' } });
      const got = await client.responses.retrieve(created.id);
      expect(got.id).toBe(created.id);
      expect(got.output).toEqual(created.output);
      expect(got.usage).toEqual(created.usage);
      expect(got.output_text).toBe(created.output_text);
      expect(got.metadata).toEqual({ a: 'b' });
    });

    it('lists input items with cursor paging, newest first by default', async () => {
      const input = ['one', 'two', 'three', 'four', 'five'].map((text) => ({ role: 'user' as const, content: text }));
      const created = await client.responses.create({ model: SEED_MODEL, input });
      const firstPage = await client.responses.inputItems.list(created.id, { limit: 2 });
      const texts = (page: any[]) => page.map((i) => i.content[0].text);
      expect(texts(firstPage.data)).toEqual(['five', 'four']);
      expect(firstPage.has_more).toBe(true);
      const all: any[] = [];
      for await (const item of client.responses.inputItems.list(created.id, { limit: 2 })) all.push(item);
      expect(texts(all)).toEqual(['five', 'four', 'three', 'two', 'one']);
      const asc = await client.responses.inputItems.list(created.id, { order: 'asc', limit: 100 });
      expect(texts(asc.data)).toEqual(['one', 'two', 'three', 'four', 'five']);
      expect(asc.data.every((i: any) => /^msg_/.test(i.id))).toBe(true);
    });

    it('deletes a response: gone for GET and for continuing; its usage event stays', async () => {
      const created = await client.responses.create({ model: SEED_MODEL, input: 'delete me' });
      const del = await http(t.baseUrl, 'DELETE', `/v1/responses/${created.id}`, { token: tenant.key });
      expect(del.status).toBe(200);
      expect(del.body).toEqual({ id: created.id, object: 'response', deleted: true });
      await expect(client.responses.retrieve(created.id)).rejects.toMatchObject({ status: 404, code: 'not_found' });
      await expect(client.responses.delete(created.id)).rejects.toMatchObject({ status: 404 });
      await expect(
        client.responses.create({ model: SEED_MODEL, input: 'x', previous_response_id: created.id }),
      ).rejects.toMatchObject({ status: 400, code: 'previous_response_not_found' });
      expect(await usageEvent(created.id)).toHaveLength(1);
    });

    it('answers unknown ids with 404 not_found', async () => {
      const res = await http(t.baseUrl, 'GET', '/v1/responses/resp_missing', { token: tenant.key });
      expect(res.status).toBe(404);
      expect(res.body.error).toMatchObject({ type: 'invalid_request_error', code: 'not_found' });
      const items = await http(t.baseUrl, 'GET', '/v1/responses/resp_missing/input_items', { token: tenant.key });
      expect(items.status).toBe(404);
    });
  });

  describe('tenant isolation', () => {
    it("hides one tenant's responses from another: 404 to read or delete, cannot be continued", async () => {
      const mine = await client.responses.create({ model: SEED_MODEL, input: 'private' });
      const other = await t.tenant('5');
      const theirs = t.openai(other.key);
      await expect(theirs.responses.retrieve(mine.id)).rejects.toMatchObject({ status: 404 });
      await expect(theirs.responses.delete(mine.id)).rejects.toMatchObject({ status: 404 });
      await expect(theirs.responses.inputItems.list(mine.id)).rejects.toMatchObject({ status: 404 });
      await expect(
        theirs.responses.create({ model: SEED_MODEL, input: 'x', previous_response_id: mine.id }),
      ).rejects.toMatchObject({ status: 400, code: 'previous_response_not_found' });
      // Still there for its owner.
      expect((await client.responses.retrieve(mine.id)).id).toBe(mine.id);
    });
  });

  describe('API keys', () => {
    const expect401 = async (promise: Promise<unknown>) => {
      const err: any = await promise.catch((e) => e);
      expect(err).toBeInstanceOf(OpenAI.AuthenticationError);
      expect(err.status).toBe(401);
      expect(err.code).toBe('invalid_api_key');
      expect(err.type).toBe('invalid_request_error');
    };

    it('refuses a wrong key and a missing key with 401 invalid_api_key', async () => {
      await expect401(t.openai('sk-tg-wrongwrongwrongwrong').responses.create({ model: SEED_MODEL, input: 'x' }));
      const res = await http(t.baseUrl, 'POST', '/v1/responses', { body: { model: SEED_MODEL, input: 'x' } });
      expect(res.status).toBe(401);
      expect(res.body.error.code).toBe('invalid_api_key');
      expect(res.headers.get('x-request-id')).toMatch(/^req_/);
    });

    it('refuses a revoked key on the very next request, and writes no usage event', async () => {
      const fresh = await t.tenant('5');
      const sdk = t.openai(fresh.key);
      await sdk.responses.create({ model: SEED_MODEL, input: 'before' });
      const revoke = await t.admin('DELETE', `/admin/api-keys/${fresh.keyId}`);
      expect(revoke.status).toBe(200);
      await expect401(sdk.responses.create({ model: SEED_MODEL, input: 'after' }));
      await expect401(sdk.models.list());
      const { rows } = await db.query('SELECT count(*)::int AS n FROM usage_events WHERE api_key_id = $1', [fresh.keyId]);
      expect(rows[0].n).toBe(1);
    });

    it('refuses a key revoked through another process on its next request (cache dropped over Redis pub/sub)', async () => {
      const other = await startApp();
      try {
        const fresh = await t.tenant('5');
        const onOther = other.openai(fresh.key);
        await onOther.responses.create({ model: SEED_MODEL, input: 'warm the key cache' });
        await onOther.models.list();
        expect((await t.admin('DELETE', `/admin/api-keys/${fresh.keyId}`)).status).toBe(200);
        // The broadcast crosses Redis; give it a moment, far below the cache's 30 s lifetime.
        await new Promise((r) => setTimeout(r, 100));
        await expect401(onOther.models.list());

        const suspended = await t.tenant('5');
        await other.openai(suspended.key).models.list();
        expect((await t.admin('PATCH', `/admin/tenants/${suspended.tenantId}`, { status: 'suspended' })).status).toBe(200);
        await new Promise((r) => setTimeout(r, 100));
        await expect401(other.openai(suspended.key).models.list());
      } finally {
        await other.close();
      }
    });

    it('lists the callable models', async () => {
      const models = await client.models.list();
      expect(models.data.map((m) => m.id)).toContain(SEED_MODEL);
      expect(models.data[0].object).toBe('model');
    });
  });

  describe('bad input', () => {
    const cases: Array<[string, string, Record<string, unknown>]> = [
      ['temperature too high', 'temperature', { input: 'x', temperature: 3 }],
      ['temperature as a string', 'temperature', { input: 'x', temperature: 'hot' }],
      ['top_p above 1', 'top_p', { input: 'x', top_p: 1.5 }],
      ['max_output_tokens zero', 'max_output_tokens', { input: 'x', max_output_tokens: 0 }],
      ['max_output_tokens fractional', 'max_output_tokens', { input: 'x', max_output_tokens: 2.5 }],
      ['unknown model', 'model', { model: 'gpt-nope', input: 'x' }],
      ['missing model', 'model', { model: undefined, input: 'x' }],
      ['missing input', 'input', {}],
      ['input a number', 'input', { input: 42 }],
      ['empty input array', 'input', { input: [] }],
      ['bad role', 'input[0].role', { input: [{ role: 'robot', content: 'x' }] }],
      ['content a number', 'input[0].content', { input: [{ role: 'user', content: 5 }] }],
      ['assistant input_text part', 'input[0].content[0].type', { input: [{ role: 'assistant', content: [{ type: 'input_text', text: 'x' }] }] }],
      ['part text missing', 'input[0].content[0].text', { input: [{ role: 'user', content: [{ type: 'input_text' }] }] }],
      ['second item bad', 'input[1]', { input: [{ role: 'user', content: 'ok' }, 'nope'] }],
      ['stream not boolean', 'stream', { input: 'x', stream: 'yes' }],
      ['thinking type unknown', 'thinking.type', { input: 'x', thinking: { type: 'sometimes' } }],
      ['caching type unknown', 'caching.type', { input: 'x', caching: { type: 'on' } }],
      ['extra_body thinking unknown', 'extra_body.thinking.type', { input: 'x', extra_body: { thinking: { type: 'x' } } }],
      ['metadata value not a string', 'metadata', { input: 'x', metadata: { a: 1 } }],
      ['unknown parameter', 'frobnicate', { input: 'x', frobnicate: true }],
      ['previous_response_id not a string', 'previous_response_id', { input: 'x', previous_response_id: 7 }],
      ['store not boolean', 'store', { input: 'x', store: 'no' }],
    ];

    it.each(cases)('%s -> 400 naming %s', async (_name, param, body) => {
      const res = await http(t.baseUrl, 'POST', '/v1/responses', { token: tenant.key, body: { model: SEED_MODEL, ...body } });
      expect(res.status).toBe(400);
      expect(res.headers.get('content-type')).toMatch(/application\/json/);
      expect(res.headers.get('x-request-id')).toMatch(/^req_/);
      expect(res.body.error).toMatchObject({ type: 'invalid_request_error', param });
      expect(typeof res.body.error.message).toBe('string');
      expect(res.body.error.code).toBeTruthy();
    });

    it('malformed JSON -> 400 invalid_value', async () => {
      const res = await http(t.baseUrl, 'POST', '/v1/responses', { token: tenant.key, rawBody: '{"model": ' });
      expect(res.status).toBe(400);
      expect(res.body.error).toMatchObject({ type: 'invalid_request_error', code: 'invalid_value' });
    });

    it('a body over the limit -> 413', async () => {
      // A small limit keeps the body small, so the client has sent it all before the 413 comes back.
      const small = await startApp({ BODY_LIMIT_BYTES: '4096' });
      try {
        const res = await http(small.baseUrl, 'POST', '/v1/responses', {
          token: tenant.key,
          body: { model: SEED_MODEL, input: 'x'.repeat(10_000) },
        });
        expect(res.status).toBe(413);
        expect(res.body.error).toMatchObject({ type: 'invalid_request_error', code: 'request_too_large' });
        expect(res.headers.get('x-request-id')).toMatch(/^req_/);
      } finally {
        await small.close();
      }
    });

    it('a refused request writes no usage event', async () => {
      const before = (await db.query('SELECT count(*)::int AS n FROM usage_events WHERE tenant_id = $1', [tenant.tenantId])).rows[0].n;
      await http(t.baseUrl, 'POST', '/v1/responses', { token: tenant.key, body: { model: SEED_MODEL, input: 'x', temperature: 9 } });
      const after = (await db.query('SELECT count(*)::int AS n FROM usage_events WHERE tenant_id = $1', [tenant.tenantId])).rows[0].n;
      expect(after).toBe(before);
    });
  });
});
