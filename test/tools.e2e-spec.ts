import Ajv from 'ajv';
import { countTokens } from 'gpt-tokenizer';
import OpenAI from 'openai';
import { Client } from 'pg';
import { ensureSeedModel, http, SEED_MODEL, startApp, TestApp } from './support/harness';
import { waitFor } from './support/wait';

const weatherParameters = {
  type: 'object',
  properties: { city: { type: 'string' }, unit: { type: 'string', enum: ['celsius', 'fahrenheit'] } },
  required: ['city', 'unit'],
  additionalProperties: false,
};
const weatherTool = { type: 'function' as const, name: 'get_weather', description: 'Current weather for a city', parameters: weatherParameters, strict: true };
const timeTool = {
  type: 'function' as const,
  name: 'get_time',
  description: 'Local time in a timezone',
  parameters: { type: 'object', properties: { timezone: { type: 'string', minLength: 3 } }, required: ['timezone'], additionalProperties: false },
  strict: true,
};
const QUESTION = 'What is the weather in Paris?';

const validWeatherArguments = new Ajv().compile(weatherParameters);

describe('tools on the simulated model (openai SDK)', () => {
  let t: TestApp;
  let client: OpenAI;
  let tenant: { tenantId: string; key: string };
  let db: Client;

  beforeAll(async () => {
    t = await startApp();
    await ensureSeedModel(t);
    tenant = await t.tenant('50');
    client = t.openai(tenant.key);
    db = new Client({ connectionString: process.env.DATABASE_URL });
    await db.connect();
  });

  afterAll(async () => {
    await db?.end();
    await t?.close();
  });

  const callOf = (res: OpenAI.Responses.Response) => {
    const calls = res.output.filter((o) => o.type === 'function_call');
    expect(calls).toHaveLength(1);
    return calls[0] as OpenAI.Responses.ResponseFunctionToolCall;
  };

  describe('a two-turn function tool loop', () => {
    it('calls the tool with schema-valid arguments, then answers text after the tool result (previous_response_id)', async () => {
      const first = await client.responses.create({ model: SEED_MODEL, input: QUESTION, tools: [weatherTool] });
      expect(first.status).toBe('completed');
      const call = callOf(first);
      expect(call).toMatchObject({ type: 'function_call', name: 'get_weather', status: 'completed' });
      expect(call.id).toMatch(/^fc_/);
      expect(call.call_id).toMatch(/^call_/);
      const args = JSON.parse(call.arguments);
      expect(validWeatherArguments(args)).toBe(true);
      expect(args).toEqual({ city: 'Paris', unit: 'celsius' });
      expect(first.output.some((o) => o.type === 'message')).toBe(false);
      expect(first.tools).toEqual([weatherTool]);

      const second = await client.responses.create({
        model: SEED_MODEL,
        previous_response_id: first.id,
        input: [{ type: 'function_call_output', call_id: call.call_id, output: '{"temperature": 21}' }],
        tools: [weatherTool],
      });
      expect(second.status).toBe('completed');
      expect(second.output.some((o) => o.type === 'function_call')).toBe(false);
      expect(second.output_text.length).toBeGreaterThan(0);

      // The stored first turn keeps the call; the second turn's input keeps the tool result.
      const stored = await client.responses.retrieve(first.id);
      expect(stored.output).toEqual(first.output);
      const items = await client.responses.inputItems.list(second.id);
      expect(items.data[0]).toMatchObject({ type: 'function_call_output', call_id: call.call_id, output: '{"temperature": 21}' });
    });

    it('streams the call with the OpenAI event sequence, then streams the text answer', async () => {
      const stream = client.responses.stream({ model: SEED_MODEL, input: QUESTION, tools: [weatherTool] });
      const events: any[] = [];
      for await (const event of stream) events.push(event);
      const final = await stream.finalResponse();

      expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i));
      const types = events.map((e) => e.type);
      const deltas = types.filter((x) => x === 'response.function_call_arguments.delta').length;
      expect(deltas).toBeGreaterThan(1);
      expect(types).toEqual([
        'response.created',
        'response.in_progress',
        'response.output_item.added',
        ...Array(deltas).fill('response.function_call_arguments.delta'),
        'response.function_call_arguments.done',
        'response.output_item.done',
        'response.completed',
      ]);
      const added = events[2];
      expect(added.item).toMatchObject({ type: 'function_call', name: 'get_weather', arguments: '', status: 'in_progress' });
      const call = callOf(final);
      const streamed = events.filter((e) => e.type === 'response.function_call_arguments.delta').map((e) => e.delta).join('');
      expect(streamed).toBe(call.arguments);
      expect(events.every((e) => !('item_id' in e) || e.item_id === call.id)).toBe(true);
      expect(events[events.length - 3]).toMatchObject({ name: 'get_weather', arguments: call.arguments, output_index: 0 });
      const { parsed_arguments: _parsed, ...sentCall } = call as typeof call & { parsed_arguments?: unknown };
      expect(events[events.length - 2].item).toEqual(sentCall);
      expect(JSON.parse(call.arguments)).toEqual({ city: 'Paris', unit: 'celsius' });

      // The same request not streamed gives the same call and usage.
      const plain = await client.responses.create({ model: SEED_MODEL, input: QUESTION, tools: [weatherTool] });
      expect(callOf(plain).arguments).toBe(call.arguments);
      expect(plain.usage).toEqual(final.usage);

      const next = client.responses.stream({
        model: SEED_MODEL,
        previous_response_id: final.id,
        input: [{ type: 'function_call_output', call_id: call.call_id, output: 'sunny, 21 C' }],
        tools: [weatherTool],
      });
      const nextTypes: string[] = [];
      for await (const event of next) nextTypes.push(event.type);
      const answer = await next.finalResponse();
      expect(nextTypes).toContain('response.output_text.delta');
      expect(nextTypes).not.toContain('response.function_call_arguments.delta');
      expect(answer.output_text.length).toBeGreaterThan(0);
    });

    it('runs the loop statelessly (store: false, the call replayed in input)', async () => {
      const first = await client.responses.create({ model: SEED_MODEL, input: QUESTION, tools: [weatherTool], store: false });
      const call = callOf(first);
      const second = await client.responses.create({
        model: SEED_MODEL,
        store: false,
        tools: [weatherTool],
        input: [
          { role: 'user', content: QUESTION },
          { type: 'function_call', call_id: call.call_id, name: call.name, arguments: call.arguments },
          { type: 'function_call_output', call_id: call.call_id, output: 'sunny' },
        ],
      });
      expect(second.output.map((o) => o.type)).toEqual(['message']);
      expect(second.output_text.length).toBeGreaterThan(0);
    });
  });

  it('a call cut by max_output_tokens is incomplete and charged for what was produced', async () => {
    const res = await client.responses.create({ model: SEED_MODEL, input: QUESTION, tools: [weatherTool], max_output_tokens: 4 });
    expect(res.status).toBe('incomplete');
    expect(res.incomplete_details).toEqual({ reason: 'max_output_tokens' });
    const call = callOf(res);
    expect(call.status).toBe('incomplete');
    expect('{"city":"Paris","unit":"celsius"}'.startsWith(call.arguments)).toBe(true);
    expect(res.usage!.output_tokens).toBe(countTokens(call.arguments));
    expect(res.usage!.output_tokens).toBeLessThanOrEqual(4);
  });

  it('serves a Codex-style streamed body: store false, encrypted reasoning replayed, function tools, include', async () => {
    const shell = {
      type: 'function' as const,
      name: 'shell',
      description: 'Runs a shell command and returns its output.',
      strict: false,
      parameters: {
        type: 'object',
        properties: { command: { type: 'array', items: { type: 'string' } }, workdir: { type: 'string' }, timeout_ms: { type: 'number' } },
        required: ['command'],
        additionalProperties: false,
      },
    };
    const body = {
      model: SEED_MODEL,
      instructions: 'You are Codex, a coding agent.',
      stream: true,
      store: false,
      include: ['reasoning.encrypted_content'],
      tool_choice: 'auto',
      parallel_tool_calls: false,
      reasoning: { effort: 'medium', summary: 'auto' },
      prompt_cache_key: 'codex-session-1',
      tools: [shell],
    };
    const first = client.responses.stream({ ...body, input: [{ type: 'message', role: 'user', content: [{ type: 'input_text', text: 'List the files' }] }] } as any);
    const firstFinal = await first.finalResponse();
    const call = callOf(firstFinal);
    expect(JSON.parse(call.arguments)).toEqual({ command: ['files'] });

    const second = client.responses.stream({
      ...body,
      input: [
        { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'List the files' }] },
        { type: 'reasoning', id: 'rs_prev', summary: [], encrypted_content: 'gAAAAB-opaque' },
        { type: 'function_call', call_id: call.call_id, name: 'shell', arguments: call.arguments },
        { type: 'function_call_output', call_id: call.call_id, output: 'README.md\nsrc' },
      ],
    } as any);
    const answer = await second.finalResponse();
    expect(answer.status).toBe('completed');
    expect(answer.output.some((o) => o.type === 'message')).toBe(true);
    expect(answer.output.some((o) => o.type === 'function_call')).toBe(false);
  });

  it('a client leaving mid-call: the call is stored incomplete with the arguments sent, and exactly those are charged', async () => {
    const slow = await startApp({ SIMULATED_TOKENS_PER_SECOND: '25' });
    try {
      const noteTool = { type: 'function', name: 'save_note', parameters: { type: 'object', properties: { note: { type: 'string', minLength: 400 } }, required: ['note'] } };
      const abort = new AbortController();
      const res = await fetch(`${slow.baseUrl}/v1/responses`, {
        method: 'POST',
        headers: { authorization: `Bearer ${tenant.key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: SEED_MODEL, input: 'Save a note', tools: [noteTool], stream: true }),
        signal: abort.signal,
      });
      const reader = res.body!.getReader();
      let text = '';
      let responseId = '';
      try {
        while ((text.match(/event: response\.function_call_arguments\.delta/g) ?? []).length < 6) {
          const { value, done } = await reader.read();
          if (done) break;
          text += new TextDecoder().decode(value);
          responseId ||= /"id":"(resp_[0-9a-f]+)"/.exec(text)?.[1] ?? '';
        }
      } finally {
        abort.abort();
      }
      const event = await waitFor('the charge', async () => (await db.query('SELECT * FROM usage_events WHERE response_id = $1 AND charged_at IS NOT NULL', [responseId])).rows[0]);
      const stored = await client.responses.retrieve(responseId);
      expect(stored.status).toBe('cancelled'); // a client disconnect, as the schema allows it (stored as incomplete)
      const call = callOf(stored);
      expect(call.status).toBe('incomplete');
      expect(call.arguments.startsWith('{"note":"note')).toBe(true);
      expect(stored.usage!.output_tokens).toBe(countTokens(call.arguments));
      expect(event.output_tokens).toBe(countTokens(call.arguments));
      expect(event.output_tokens).toBeLessThan(countTokens(JSON.stringify({ note: 'note' + 'x'.repeat(396) })));
    } finally {
      await slow.close();
    }
  });

  describe('tool_choice', () => {
    it('"none" answers text', async () => {
      const res = await client.responses.create({ model: SEED_MODEL, input: QUESTION, tools: [weatherTool], tool_choice: 'none' });
      expect(res.output.map((o) => o.type)).toEqual(['message']);
    });

    it('"required" calls even after a tool result; "auto" does not', async () => {
      const input: OpenAI.Responses.ResponseInput = [
        { role: 'user', content: QUESTION },
        { type: 'function_call', call_id: 'call_x', name: 'get_weather', arguments: '{"city":"Paris","unit":"celsius"}' },
        { type: 'function_call_output', call_id: 'call_x', output: 'sunny' },
      ];
      const required = await client.responses.create({ model: SEED_MODEL, input, tools: [weatherTool], tool_choice: 'required' });
      expect(callOf(required).name).toBe('get_weather');
      const auto = await client.responses.create({ model: SEED_MODEL, input, tools: [weatherTool], tool_choice: 'auto' });
      expect(auto.output.map((o) => o.type)).toEqual(['message']);
    });

    it('a named tool is called; without tool_choice the tool matching the question is chosen', async () => {
      const named = await client.responses.create({
        model: SEED_MODEL,
        input: QUESTION,
        tools: [weatherTool, timeTool],
        tool_choice: { type: 'function', name: 'get_time' },
      });
      const call = callOf(named);
      expect(call.name).toBe('get_time');
      expect(JSON.parse(call.arguments)).toEqual({ timezone: 'Paris' });
      const matched = await client.responses.create({ model: SEED_MODEL, input: 'What time is it in the Tokyo timezone?', tools: [weatherTool, timeTool] });
      expect(callOf(matched).name).toBe('get_time');
    });

    it('refuses a named tool that is not in tools, and a bad tool, naming the field', async () => {
      const missing = await http(t.baseUrl, 'POST', '/v1/responses', {
        token: tenant.key,
        body: { model: SEED_MODEL, input: 'x', tools: [weatherTool], tool_choice: { type: 'function', name: 'nope' } },
      });
      expect(missing.status).toBe(400);
      expect(missing.body.error).toMatchObject({ type: 'invalid_request_error', param: 'tool_choice' });
      const unnamed = await http(t.baseUrl, 'POST', '/v1/responses', { token: tenant.key, body: { model: SEED_MODEL, input: 'x', tools: [{ type: 'function' }] } });
      expect(unnamed.status).toBe(400);
      expect(unnamed.body.error.param).toBe('tools[0].name');
      const badSchema = await http(t.baseUrl, 'POST', '/v1/responses', {
        token: tenant.key,
        body: { model: SEED_MODEL, input: 'x', tools: [{ type: 'function', name: 'f', parameters: { type: 'object', properties: { a: { type: 'no-such-type' } } } }] },
      });
      expect(badSchema.status).toBe(400);
      expect(badSchema.body.error.param).toBe('tools[0].parameters');
      const background = await http(t.baseUrl, 'POST', '/v1/responses', { token: tenant.key, body: { model: SEED_MODEL, input: 'x', background: true } });
      expect(background.status).toBe(400);
      expect(background.body.error.param).toBe('background');
    });

    it('accepts hosted tool types and answers text (the simulated model has none of them)', async () => {
      const res = await client.responses.create({
        model: SEED_MODEL,
        input: QUESTION,
        tools: [{ type: 'web_search' } as any, { type: 'local_shell' }],
        max_tool_calls: 3,
        prompt_cache_retention: '24h',
      } as any);
      expect(res.output.map((o) => o.type)).toEqual(['message']);
    });
  });

  describe('custom tools', () => {
    it('makes a custom_tool_call with the prompt as input, streamed with custom_tool_call_input events', async () => {
      const tool = { type: 'custom' as const, name: 'run_sql', description: 'Runs a SQL query' };
      const plain = await client.responses.create({ model: SEED_MODEL, input: 'select 1', tools: [tool] });
      expect(plain.output).toEqual([expect.objectContaining({ type: 'custom_tool_call', name: 'run_sql', input: 'select 1' })]);

      const stream = client.responses.stream({ model: SEED_MODEL, input: 'select 1', tools: [tool] });
      const types: string[] = [];
      for await (const event of stream) types.push(event.type);
      expect(types).toContain('response.custom_tool_call_input.delta');
      expect(types.slice(-3)).toEqual(['response.custom_tool_call_input.done', 'response.output_item.done', 'response.completed']);
      expect((await stream.finalResponse()).output[0]).toMatchObject({ type: 'custom_tool_call', input: 'select 1' });
    });
  });

  describe('item_reference', () => {
    it("resolves the tenant's own stored items (an answer and a tool call) into the prompt", async () => {
      const first = await client.responses.create({ model: SEED_MODEL, input: 'My name is Ada.' });
      const answer = first.output.find((o) => o.type === 'message') as OpenAI.Responses.ResponseOutputMessage;
      const answerText = (answer.content[0] as OpenAI.Responses.ResponseOutputText).text;
      const input: OpenAI.Responses.ResponseInput = [
        { role: 'user', content: 'My name is Ada.' },
        { type: 'item_reference', id: answer.id },
        { role: 'user', content: 'What is my name?' },
      ];
      const second = await client.responses.create({ model: SEED_MODEL, input });
      // The referenced answer is part of the prompt: each message costs `role\ntext` + 3 tokens.
      const expected = [`user\nMy name is Ada.`, `assistant\n${answerText}`, `user\nWhat is my name?`].reduce((n, m) => n + countTokens(m) + 3, 0);
      expect(second.usage!.input_tokens).toBe(expected);
      const items = await client.responses.inputItems.list(second.id, { order: 'asc' });
      expect(items.data[1]).toMatchObject({ type: 'message', id: answer.id, role: 'assistant', content: [{ type: 'output_text', text: answerText }] });

      const call = callOf(await client.responses.create({ model: SEED_MODEL, input: QUESTION, tools: [weatherTool] }));
      const next = await client.responses.create({
        model: SEED_MODEL,
        tools: [weatherTool],
        input: [{ role: 'user', content: QUESTION }, { type: 'item_reference', id: call.id! }, { type: 'function_call_output', call_id: call.call_id, output: 'sunny' }],
      });
      expect(next.output.map((o) => o.type)).toEqual(['message']);
    });

    it("refuses another tenant's item, naming it, as if it did not exist", async () => {
      const theirs = await client.responses.create({ model: SEED_MODEL, input: 'private' });
      const other = await t.tenant('5');
      const res = await http(t.baseUrl, 'POST', '/v1/responses', {
        token: other.key,
        body: { model: SEED_MODEL, input: [{ role: 'user', content: 'hi' }, { type: 'item_reference', id: theirs.output[0].id }] },
      });
      expect(res.status).toBe(400);
      expect(res.body.error).toMatchObject({ type: 'invalid_request_error', param: 'input[1].id' });
      expect(res.body.error.message).toContain(theirs.output[0].id);
      const unknown = await http(t.baseUrl, 'POST', '/v1/responses', { token: tenant.key, body: { model: SEED_MODEL, input: [{ type: 'item_reference', id: 'msg_nope' }] } });
      expect(unknown.status).toBe(400);
      expect(unknown.body.error.param).toBe('input[0].id');
    });
  });

  describe('metering of tool traffic', () => {
    it('counts the tool definition as input and the arguments as output, and charges exactly that', async () => {
      const metered = await t.tenant('1');
      const res = await t.openai(metered.key).responses.create({ model: SEED_MODEL, input: QUESTION, tools: [weatherTool] });
      const call = callOf(res);
      // Derived here with the tokenizer itself: the message `user\n<text>` + 3, the definition's JSON + 3.
      const input = countTokens(`user\n${QUESTION}`) + 3 + countTokens(JSON.stringify(weatherTool)) + 3;
      const output = countTokens(call.arguments);
      expect([input, output]).toEqual([80, 10]);
      expect(res.usage).toMatchObject({ input_tokens: 80, output_tokens: 10, total_tokens: 90 });

      // 80 x 0.25 + 10 x 2.00 = 40 USD per million tokens
      const entry = await waitFor('the charge', async () => (await db.query("SELECT amount::text FROM ledger_entries WHERE response_id = $1 AND kind = 'charge'", [res.id])).rows[0]);
      expect(entry.amount).toBe('-0.000040000000000000');
    });
  });
});
