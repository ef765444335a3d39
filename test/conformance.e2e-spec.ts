import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeUpstream, startFakeUpstream } from './support/fake-upstream';
import { ensureSeedModel, http, SEED_MODEL, startApp, TestApp } from './support/harness';
import { expectConforms, expectStreamConforms, violations } from './support/openapi';
import { parseSse, readStream } from './support/sse';
import { waitFor } from './support/wait';

const KEY_VAR = 'TOLLGATE_TEST_CONFORMANCE_KEY';
const UPSTREAM_MODEL = 'conformance-upstream';

/** Every object and stream event Tollgate sends on /v1/*, checked against OpenAI's OpenAPI document. */
describe('conformance with the OpenAI OpenAPI document', () => {
  let t: TestApp;
  let fake: FakeUpstream;
  let dir: string;
  let key: string;

  beforeAll(async () => {
    fake = await startFakeUpstream();
    process.env[KEY_VAR] = 'conformance-upstream-secret';
    dir = mkdtempSync(join(tmpdir(), 'tollgate-conformance-'));
    const file = join(dir, 'providers.json');
    writeFileSync(file, JSON.stringify({ fake: { type: 'openai', base_url: fake.url, api_key_env: KEY_VAR } }));
    t = await startApp({ PROVIDERS_FILE: file });
    await ensureSeedModel(t);
    const put = await t.admin('PUT', `/admin/models/${UPSTREAM_MODEL}`, { provider: 'fake', input_price: '0.25', output_price: '2' });
    expect(put.status).toBe(200);
    key = (await t.tenant('50')).key;
  });

  afterAll(async () => {
    await t?.close();
    await fake?.close();
    delete process.env[KEY_VAR];
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const api = (method: string, path: string, body?: unknown) => http(t.baseUrl, method, path, { token: key, body });
  const stream = (body: Record<string, unknown>, path = '/v1/responses') =>
    readStream(`${t.baseUrl}${path}`, key, { model: SEED_MODEL, stream: true, ...body });

  it('the validator finds the violations it is meant to find', () => {
    const usage = { input_tokens: 1, input_tokens_details: { cached_tokens: 0 }, output_tokens: 1, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 2 };
    expect(violations('ResponseUsage', usage)).toMatch(/cache_write_tokens/);
    expect(violations('ResponseUsage', { ...usage, input_tokens_details: { cached_tokens: 0, cache_write_tokens: 0 } })).toBe('');
    expect(() => expectStreamConforms([{ event: 'response.bogus', data: { type: 'response.bogus', sequence_number: 0 } }])).toThrow(/not a ResponseStreamEvent type/);
    const part = { type: 'output_text', text: '', annotations: [] };
    const added = { type: 'response.content_part.added', sequence_number: 0, item_id: 'msg_1', output_index: 0, content_index: 0, part };
    expect(() => expectStreamConforms([{ data: added }])).toThrow(/part must have required property 'logprobs'/);
    expect(() => expectStreamConforms([{ data: { ...added, part: { ...part, logprobs: [] }, sequence_number: 1 } }])).toThrow(/sequence_number 1, expected 0/);
    // Vendor extras are allowed; a misspelt OpenAI field is not.
    const receipt = { cost: '0.1', cost_details: { input: '0.1', cached_input: '0', output: '0', reasoning: '0', price_id: 'p' } };
    expect(violations('ResponseUsage', { ...usage, input_tokens_details: { cached_tokens: 0, cache_write_tokens: 0 }, ...receipt })).toBe('');
    expect(violations('CompletionUsage', { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2, ...receipt })).toBe('');
  });

  describe('/v1/responses on the simulated model', () => {
    it('a plain response, and the same response retrieved', async () => {
      const res = await api('POST', '/v1/responses', { model: SEED_MODEL, input: 'Hello there', metadata: { k: 'v' } });
      expect(res.status).toBe(200);
      expectConforms('Response', res.body);
      expect(res.body.usage.input_tokens_details.cache_write_tokens).toBe(0);
      expect(res.body).not.toHaveProperty('user');
      const got = await api('GET', `/v1/responses/${res.body.id}`);
      expect(got.status).toBe(200);
      expectConforms('Response', got.body);
    });

    it('echoes user as a string when one is sent', async () => {
      const res = await api('POST', '/v1/responses', { model: SEED_MODEL, input: 'Hi', user: 'user-42' });
      expectConforms('Response', res.body);
      expect(res.body.user).toBe('user-42');
    });

    it('a streamed response, with and without thinking', async () => {
      for (const thinking of [{ type: 'disabled' }, { type: 'enabled' }]) {
        const { status, events } = await stream({ input: 'Why is the sky blue?', thinking });
        expect(status).toBe(200);
        expectStreamConforms(events);
        expect(events[events.length - 1].event).toBe('response.completed');
        if (thinking.type === 'enabled') expect(events.some((e) => e.event === 'response.reasoning_summary_text.delta')).toBe(true);
      }
    });

    it('an incomplete response (max_output_tokens), plain and streamed', async () => {
      const res = await api('POST', '/v1/responses', { model: SEED_MODEL, input: 'Tell me a long story', max_output_tokens: 16 });
      expect(res.body.status).toBe('incomplete');
      expectConforms('Response', res.body);
      const { events } = await stream({ input: 'Tell me a long story', max_output_tokens: 16 });
      expectStreamConforms(events);
      expect(events[events.length - 1].event).toBe('response.incomplete');
    });

    it('input_items: non-empty (with an assistant turn and a refusal) and empty', async () => {
      const input = [
        { role: 'user', content: 'Hello' },
        { role: 'assistant', content: [{ type: 'output_text', text: 'Hi!' }, { type: 'refusal', refusal: 'I cannot.' }] },
        { role: 'developer', content: 'Be brief.' },
        { role: 'user', content: [{ type: 'input_text', text: 'And now?' }] },
      ];
      const res = await api('POST', '/v1/responses', { model: SEED_MODEL, input });
      expect(res.status).toBe(200);
      const list = await api('GET', `/v1/responses/${res.body.id}/input_items?order=asc`);
      expect(list.status).toBe(200);
      expect(list.body.data).toHaveLength(4);
      expectConforms('ResponseItemList', list.body);
      expect(list.body.data[1]).toMatchObject({ role: 'assistant', status: 'completed' });
      expect(list.body.data[1].content[1]).toEqual({ type: 'refusal', refusal: 'I cannot.' });
      const last = list.body.data[3].id;
      const empty = await api('GET', `/v1/responses/${res.body.id}/input_items?order=asc&after=${last}`);
      expect(empty.status).toBe(200);
      expect(empty.body.data).toEqual([]);
      expectConforms('ResponseItemList', empty.body);
    });
  });

  describe('a client that goes away mid-stream', () => {
    let slow: TestApp;
    beforeAll(async () => {
      slow = await startApp({ SIMULATED_TOKENS_PER_SECOND: '40', SIMULATED_OUTPUT_TOKENS: '60' });
    });
    afterAll(() => slow?.close());

    it('sent conformant events until then, and its stored response is conformant', async () => {
      const abort = new AbortController();
      const res = await fetch(`${slow.baseUrl}/v1/responses`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: SEED_MODEL, stream: true, input: 'A slow answer' }),
        signal: abort.signal,
      });
      const reader = res.body!.getReader();
      const decoder = new TextDecoder();
      let text = '';
      while ((text.match(/event: response\.output_text\.delta/g) ?? []).length < 6) {
        const { value, done } = await reader.read();
        if (done) break;
        text += decoder.decode(value, { stream: true });
      }
      abort.abort();
      const events = parseSse(text.slice(0, text.lastIndexOf('\n\n') + 2));
      expectStreamConforms(events);
      const id = events[0].data.response.id;
      const stored = await waitFor('the response to be stored', async () => {
        const r = await api('GET', `/v1/responses/${id}`);
        return r.status === 200 ? r : null;
      });
      expectConforms('Response', stored.body);
      expect(stored.body.status).toBe('cancelled');
      expect(stored.body.incomplete_details).toBeNull();
    });
  });

  describe('through an upstream provider', () => {
    it('a plain and a streamed answer', async () => {
      fake.set({});
      const res = await api('POST', '/v1/responses', { model: UPSTREAM_MODEL, input: 'Hello' });
      expect(res.status).toBe(200);
      expectConforms('Response', res.body);
      const { events } = await stream({ model: UPSTREAM_MODEL, input: 'Hello' });
      expectStreamConforms(events);
      expect(events[events.length - 1].event).toBe('response.completed');
    });

    it('a failure mid-stream ends with conformant error and response.failed events', async () => {
      fake.set({ streamError: 'the upstream fell over' });
      const { events } = await stream({ model: UPSTREAM_MODEL, input: 'Hello' });
      expectStreamConforms(events);
      expect(events.map((e) => e.event).slice(-2)).toEqual(['error', 'response.failed']);
      expect(events[events.length - 1].data.response.error.code).toBe('server_error');
    });

    it('a chat stream failing mid-way ends with a conformant error object', async () => {
      fake.set({ streamError: 'the upstream fell over' });
      const { events } = await stream({ model: UPSTREAM_MODEL, messages: [{ role: 'user', content: 'Hello' }] }, '/v1/chat/completions');
      expectStreamConforms(events);
      expect(events.some((e) => e.data?.error)).toBe(true);
    });
  });

  describe('/v1/models', () => {
    it('the list and one model', async () => {
      const list = await api('GET', '/v1/models');
      expect(list.status).toBe(200);
      expectConforms('ListModelsResponse', list.body);
      const one = await api('GET', `/v1/models/${SEED_MODEL}`);
      expect(one.status).toBe(200);
      expectConforms('Model', one.body);
      expect(one.body).toEqual(list.body.data.find((m: { id: string }) => m.id === SEED_MODEL));
    });

    it('a model the tenant cannot call is a 404 model_not_found', async () => {
      const res = await api('GET', '/v1/models/no-such-model');
      expect(res.status).toBe(404);
      expectConforms('ErrorResponse', res.body);
      expect(res.body.error).toMatchObject({ code: 'model_not_found', param: 'model' });
    });
  });

  describe('/v1/chat/completions', () => {
    const messages = [{ role: 'user', content: 'Hello there' }];

    it('a plain chat completion', async () => {
      const res = await api('POST', '/v1/chat/completions', { model: SEED_MODEL, messages });
      expect(res.status).toBe(200);
      expectConforms('CreateChatCompletionResponse', res.body);
    });

    it('a streamed chat completion with include_usage: usage null on every chunk but the last', async () => {
      const { events } = await stream({ messages, stream_options: { include_usage: true } }, '/v1/chat/completions');
      expectStreamConforms(events);
      const chunks = events.filter((e) => e.data !== '[DONE]').map((e) => e.data);
      expect(chunks.length).toBeGreaterThan(2);
      for (const chunk of chunks.slice(0, -1)) expect(chunk.usage).toBeNull();
      expect(chunks[chunks.length - 1].usage.total_tokens).toBeGreaterThan(0);
    });

    it('a streamed chat completion without include_usage', async () => {
      const { events } = await stream({ messages }, '/v1/chat/completions');
      expectStreamConforms(events);
    });
  });

  it('error bodies', async () => {
    const unknown = await api('POST', '/v1/responses', { model: SEED_MODEL, input: 'x', bogus: 1 });
    expect(unknown.status).toBe(400);
    expectConforms('ErrorResponse', unknown.body);
    const unauthorized = await http(t.baseUrl, 'GET', '/v1/models', { token: 'sk-wrong' });
    expect(unauthorized.status).toBe(401);
    expectConforms('ErrorResponse', unauthorized.body);
    const missing = await api('GET', '/v1/responses/resp_missing');
    expect(missing.status).toBe(404);
    expectConforms('ErrorResponse', missing.body);
    const route = await api('GET', '/v1/nothing-here');
    expect(route.status).toBe(404);
    expectConforms('ErrorResponse', route.body);
  });
});
