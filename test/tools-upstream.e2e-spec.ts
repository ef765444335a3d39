import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { Client } from 'pg';
import { FakeUpstream, fakeFunctionCall, startFakeUpstream } from './support/fake-upstream';
import { startApp, TestApp } from './support/harness';
import { parseSse } from './support/sse';
import { waitFor } from './support/wait';

const KEY_VAR = 'TOLLGATE_TOOLS_UPSTREAM_KEY';
const MODEL = 'up-tools-model';
const weatherTool = {
  type: 'function' as const,
  name: 'get_weather',
  description: 'Current weather for a city',
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false },
  strict: true,
};

/** Item-level events: what Tollgate relays (its own envelope events aside). */
const ENVELOPE = new Set(['response.created', 'response.in_progress', 'response.completed', 'response.incomplete', 'response.failed']);
const withoutSeq = ({ sequence_number: _s, ...rest }: any) => rest;

describe('tools and pass-through over an upstream (openai SDK, fake upstream)', () => {
  let fake: FakeUpstream;
  let t: TestApp;
  let client: OpenAI;
  let key: string;
  let db: Client;
  let dir: string;

  beforeAll(async () => {
    fake = await startFakeUpstream();
    process.env[KEY_VAR] = 'sk-upstream-secret';
    dir = mkdtempSync(join(tmpdir(), 'tollgate-tools-'));
    const file = join(dir, 'providers.json');
    writeFileSync(file, JSON.stringify({ fake: { type: 'openai', base_url: fake.url, api_key_env: KEY_VAR } }));
    t = await startApp({ PROVIDERS_FILE: file });
    const res = await t.admin('PUT', `/admin/models/${MODEL}`, { provider: 'fake', upstream_model: 'vendor-model-x', input_price: '0.25', output_price: '2' });
    expect(res.status).toBe(200);
    key = (await t.tenant('10')).key;
    client = t.openai(key);
    db = new Client({ connectionString: process.env.DATABASE_URL });
    await db.connect();
  });

  afterAll(async () => {
    await db?.end();
    await t?.close();
    await fake?.close();
    delete process.env[KEY_VAR];
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  beforeEach(() => fake.set({}));

  const lastUpstreamBody = () => fake.requests[fake.requests.length - 1].body;

  it('forwards every field as the client sent it; only model is rewritten and the call is stateless', async () => {
    const sent = {
      model: MODEL,
      instructions: 'You are a coding agent.',
      input: [
        { role: 'user' as const, content: 'List the files.' },
        { type: 'reasoning' as const, id: 'rs_abc', summary: [], encrypted_content: 'gAAAAB-opaque-blob' },
        { type: 'function_call' as const, id: 'fc_1', call_id: 'call_1', name: 'shell', arguments: '{"command":["ls"]}', status: 'completed' as const },
        { type: 'function_call_output' as const, call_id: 'call_1', output: 'README.md\nsrc' },
        { type: 'custom_tool_call' as const, call_id: 'call_2', name: 'apply_patch', input: '*** Begin Patch' },
        { type: 'custom_tool_call_output' as const, call_id: 'call_2', output: 'Done' },
      ],
      tools: [
        { ...weatherTool, name: 'shell' },
        { type: 'custom' as const, name: 'apply_patch', description: 'Patches files', format: { type: 'text' as const } },
        { type: 'web_search' as const },
      ],
      tool_choice: 'auto' as const,
      parallel_tool_calls: false,
      max_tool_calls: 4,
      text: { format: { type: 'json_schema' as const, name: 'answer', schema: { type: 'object', properties: { a: { type: 'string' } }, required: ['a'] }, strict: false }, verbosity: 'low' as const },
      reasoning: { effort: 'high' as const, summary: 'auto' as const },
      include: ['reasoning.encrypted_content' as const],
      prompt_cache_key: 'session-42',
      prompt_cache_retention: '24h' as const,
      safety_identifier: 'user-hash-1',
      service_tier: 'flex' as const,
      user: 'end-user-7',
      truncation: 'auto' as const,
      top_logprobs: 2,
      store: false,
    };
    await client.responses.create(sent as any);
    const received = lastUpstreamBody();

    const { model: _m, input, instructions, store: _st, ...fields } = sent;
    for (const [field, value] of Object.entries(fields)) expect([field, received[field]]).toEqual([field, value]);
    expect(received.model).toBe('vendor-model-x');
    expect(received.store).toBe(false);
    expect(received.stream).toBe(false);
    expect(received).not.toHaveProperty('thinking'); // reasoning.effort goes as reasoning, not as the vendor field
    expect(received.input).toEqual([{ role: 'system', content: instructions }, { role: 'user', content: 'List the files.' }, ...input.slice(1)]);
    expect(fake.requests[fake.requests.length - 1].headers.authorization).toBe('Bearer sk-upstream-secret');
  });

  it('runs a two-turn function tool loop: the call comes back as the upstream sent it, and goes back in the next turn', async () => {
    const call = fakeFunctionCall('get_weather', { city: 'Paris' });
    fake.set({ items: [call], usage: { input_tokens: 40, output_tokens: 9 } });
    const first = await client.responses.create({ model: MODEL, input: 'Weather in Paris?', tools: [weatherTool] });
    expect(first.output).toEqual([call]);
    expect(first.usage).toMatchObject({ input_tokens: 40, output_tokens: 9 });

    fake.set({ text: 'It is sunny in Paris.' });
    const second = await client.responses.create({
      model: MODEL,
      previous_response_id: first.id,
      input: [{ type: 'function_call_output', call_id: call.call_id, output: '{"sky":"clear"}' }],
      tools: [weatherTool],
    });
    expect(second.output_text).toBe('It is sunny in Paris.');
    expect(lastUpstreamBody().input).toEqual([
      { role: 'user', content: 'Weather in Paris?' },
      { type: 'function_call', call_id: call.call_id, name: 'get_weather', arguments: call.arguments },
      { type: 'function_call_output', call_id: call.call_id, output: '{"sky":"clear"}' },
    ]);

    // Metered from the upstream's usage: 40 x 0.25 + 9 x 2 = 28 USD per million tokens.
    const entry = await waitFor('the charge', async () => (await db.query("SELECT amount::text FROM ledger_entries WHERE response_id = $1 AND kind = 'charge'", [first.id])).rows[0]);
    expect(entry.amount).toBe('-0.000028000000000000');
  });

  it('relays every upstream stream event in order, renumbered: function calls, custom tool calls, refusals, annotations', async () => {
    const annotation = { type: 'url_citation', url: 'https://example.com/', title: 'Example', start_index: 0, end_index: 4 };
    const items = [
      { type: 'reasoning', id: 'rs_up', summary: [{ type: 'summary_text', text: 'Thinking it over.' }], encrypted_content: 'blob' },
      { type: 'message', id: 'msg_up', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: 'Docs say so.', annotations: [annotation], logprobs: [] }] },
      { type: 'message', id: 'msg_no', role: 'assistant', status: 'completed', content: [{ type: 'refusal', refusal: 'I cannot help with that.' }] },
      { type: 'custom_tool_call', id: 'ctc_up', call_id: 'call_c', name: 'apply_patch', input: '*** Begin Patch\n*** End Patch' },
      fakeFunctionCall('get_weather', { city: 'Oslo' }, 'call_w'),
    ];
    fake.set({ items, deltas: 3 });
    const direct = await fetch(`${fake.url}/responses`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'x', stream: true }) });
    const upstreamEvents = parseSse(await direct.text()).map((e) => e.data).filter((e) => !ENVELOPE.has(e.type));

    const stream = client.responses.stream({ model: MODEL, input: 'Go.', tools: [weatherTool] });
    const events: any[] = [];
    for await (const event of stream) events.push(event);
    const final = await stream.finalResponse();

    expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i));
    expect(events[0].type).toBe('response.created');
    expect(events[events.length - 1].type).toBe('response.completed');
    const relayed = events.slice(2, -1);
    expect(relayed.map(withoutSeq)).toEqual(upstreamEvents.map(withoutSeq));
    expect(relayed.map((e) => e.type)).toEqual(
      expect.arrayContaining(['response.output_text.annotation.added', 'response.refusal.delta', 'response.custom_tool_call_input.delta', 'response.function_call_arguments.done']),
    );
    expect(events[events.length - 1].response.output).toEqual(items);
    expect(final.output.map((o) => o.type)).toEqual(items.map((o) => o.type));
  });

  it('resolves item_reference from the store and sends the referenced items themselves upstream', async () => {
    fake.set({ text: 'Nice to meet you, Ada.' });
    const first = await client.responses.create({ model: MODEL, input: 'My name is Ada.' });
    fake.set({ text: 'Ada.' });
    await client.responses.create({
      model: MODEL,
      input: [{ role: 'user', content: 'My name is Ada.' }, { type: 'item_reference', id: first.output[0].id! }, { role: 'user', content: 'Who am I?' }],
    });
    expect(lastUpstreamBody().input).toEqual([
      { role: 'user', content: 'My name is Ada.' },
      { role: 'assistant', content: 'Nice to meet you, Ada.' },
      { role: 'user', content: 'Who am I?' },
    ]);
  });

  it('a client leaving a relayed call mid-way: stored incomplete with the arguments relayed so far', async () => {
    const call = fakeFunctionCall('get_weather', { city: 'Paris, the capital of France, on the river Seine' }, 'call_slow');
    fake.set({ items: [call], deltas: 20, deltaDelayMs: 40 });
    const abort = new AbortController();
    const res = await fetch(`${t.baseUrl}/v1/responses`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: MODEL, input: 'Weather?', tools: [weatherTool], stream: true }),
      signal: abort.signal,
    });
    const reader = res.body!.getReader();
    let text = '';
    try {
      while ((text.match(/event: response\.function_call_arguments\.delta/g) ?? []).length < 3) {
        const { value, done } = await reader.read();
        if (done) break;
        text += new TextDecoder().decode(value);
      }
    } finally {
      abort.abort();
    }
    const events = parseSse(text).map((e) => e.data);
    const responseId = events[0].response.id;
    const relayed = events.filter((e) => e.type === 'response.function_call_arguments.delta').map((e) => e.delta).join('');
    const stored = await waitFor('the stored response', async () => {
      const r = await client.responses.retrieve(responseId).catch(() => null);
      return r && r.status !== 'in_progress' ? r : null;
    });
    expect(stored.status).toBe('cancelled'); // a client disconnect, as the schema allows it
    expect(stored.output).toHaveLength(1);
    expect(stored.output[0]).toMatchObject({ type: 'function_call', id: call.id, call_id: 'call_slow', status: 'incomplete' });
    const args = (stored.output[0] as OpenAI.Responses.ResponseFunctionToolCall).arguments;
    expect(args.startsWith(relayed)).toBe(true);
    expect(call.arguments.startsWith(args)).toBe(true);
    expect(args.length).toBeLessThan(call.arguments.length);
  });

  it('keeps encrypted reasoning an upstream returned, and sends it back on the next turn', async () => {
    const reasoning = { type: 'reasoning', id: 'rs_enc', summary: [], encrypted_content: 'gAAAA-encrypted' };
    fake.set({ items: [reasoning, fakeFunctionCall('get_weather', { city: 'Rome' }, 'call_r')] });
    const first = await client.responses.create({ model: MODEL, input: 'Rome?', tools: [weatherTool], include: ['reasoning.encrypted_content'] });
    expect(first.output[0]).toEqual(reasoning);
    fake.set({ text: 'Warm.' });
    await client.responses.create({ model: MODEL, previous_response_id: first.id, input: [{ type: 'function_call_output', call_id: 'call_r', output: '30 C' }], tools: [weatherTool] });
    expect(lastUpstreamBody().input.slice(1, 3)).toEqual([reasoning, { type: 'function_call', call_id: 'call_r', name: 'get_weather', arguments: '{"city":"Rome"}' }]);
  });

  it('passes a non-streamed answer with every kind of item through unchanged', async () => {
    const items = [
      { type: 'web_search_call', id: 'ws_1', status: 'completed', action: { type: 'search', query: 'weather' } },
      { type: 'message', id: 'msg_up', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: 'Cited.', annotations: [{ type: 'url_citation', url: 'https://example.com/', title: 'E', start_index: 0, end_index: 5 }], logprobs: [] }] },
    ];
    fake.set({ items });
    const res = await client.responses.create({ model: MODEL, input: 'Search.', tools: [{ type: 'web_search' }] });
    expect(res.output).toEqual(items);
    expect(res.output_text).toBe('Cited.');
    expect((await client.responses.retrieve(res.id)).output).toEqual(items);
  });
});
