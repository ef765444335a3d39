import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { zodResponseFormat } from 'openai/helpers/zod';
import { z } from 'zod';
import { FakeUpstream, fakeFunctionCall, startFakeUpstream } from './support/fake-upstream';
import { ensureSeedModel, SEED_MODEL, startApp, TestApp } from './support/harness';

const KEY_VAR = 'TOLLGATE_CHAT_TOOLS_KEY';
const UP_MODEL = 'up-chat-tools';
const weatherFunction = {
  name: 'get_weather',
  description: 'Current weather for a city',
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false },
  strict: true,
};
const tools: OpenAI.Chat.ChatCompletionTool[] = [{ type: 'function', function: weatherFunction }];
const QUESTION = 'What is the weather in Paris?';

type ToolCall = OpenAI.Chat.ChatCompletionMessageFunctionToolCall;

/** The tool calls of a streamed chat completion, assembled from its deltas as clients do. */
async function streamedToolCalls(stream: AsyncIterable<OpenAI.Chat.ChatCompletionChunk>) {
  const calls: Array<{ id: string; name: string; arguments: string }> = [];
  let finish: string | null = null;
  for await (const chunk of stream) {
    const choice = chunk.choices[0];
    if (!choice) continue;
    for (const delta of choice.delta.tool_calls ?? []) {
      calls[delta.index] ??= { id: '', name: '', arguments: '' };
      if (delta.id) calls[delta.index].id = delta.id;
      if (delta.function?.name) calls[delta.index].name = delta.function.name;
      calls[delta.index].arguments += delta.function?.arguments ?? '';
    }
    finish = choice.finish_reason ?? finish;
  }
  return { calls, finish };
}

describe('chat completions with tools (openai SDK)', () => {
  let fake: FakeUpstream;
  let t: TestApp;
  let client: OpenAI;
  let dir: string;

  beforeAll(async () => {
    fake = await startFakeUpstream();
    process.env[KEY_VAR] = 'sk-chat-tools';
    dir = mkdtempSync(join(tmpdir(), 'tollgate-chat-tools-'));
    const file = join(dir, 'providers.json');
    writeFileSync(file, JSON.stringify({ fake: { type: 'openai', base_url: fake.url, api_key_env: KEY_VAR } }));
    t = await startApp({ PROVIDERS_FILE: file });
    await ensureSeedModel(t);
    expect((await t.admin('PUT', `/admin/models/${UP_MODEL}`, { provider: 'fake', input_price: '1', output_price: '1' })).status).toBe(200);
    client = t.openai((await t.tenant('10')).key);
  });

  afterAll(async () => {
    await t?.close();
    await fake?.close();
    delete process.env[KEY_VAR];
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  beforeEach(() => fake.set({}));

  describe('on the simulated model', () => {
    it('runs a two-turn tool loop: tool_calls with finish_reason tool_calls, then text after the role "tool" message', async () => {
      const first = await client.chat.completions.create({ model: SEED_MODEL, messages: [{ role: 'user', content: QUESTION }], tools });
      const choice = first.choices[0];
      expect(choice.finish_reason).toBe('tool_calls');
      expect(choice.message.content).toBeNull();
      const call = choice.message.tool_calls![0] as ToolCall;
      expect(call).toMatchObject({ type: 'function', function: { name: 'get_weather' } });
      expect(JSON.parse(call.function.arguments)).toEqual({ city: 'Paris' });
      expect(first.usage!.completion_tokens).toBeGreaterThan(0);

      const second = await client.chat.completions.create({
        model: SEED_MODEL,
        tools,
        messages: [
          { role: 'user', content: QUESTION },
          { role: 'assistant', content: null, tool_calls: [call] },
          { role: 'tool', tool_call_id: call.id, content: '{"sky":"clear"}' },
        ],
      });
      expect(second.choices[0].finish_reason).toBe('stop');
      expect(second.choices[0].message.tool_calls).toBeUndefined();
      expect(second.choices[0].message.content!.length).toBeGreaterThan(0);
    });

    it('streams the tool call as tool_calls deltas', async () => {
      const plain = await client.chat.completions.create({ model: SEED_MODEL, messages: [{ role: 'user', content: QUESTION }], tools });
      const stream = await client.chat.completions.create({ model: SEED_MODEL, messages: [{ role: 'user', content: QUESTION }], tools, stream: true });
      const { calls, finish } = await streamedToolCalls(stream);
      expect(finish).toBe('tool_calls');
      expect(calls).toHaveLength(1);
      expect(calls[0].name).toBe('get_weather');
      expect(calls[0].arguments).toBe((plain.choices[0].message.tool_calls![0] as ToolCall).function.arguments);
    });

    it('tool_choice none and a named function', async () => {
      const none = await client.chat.completions.create({ model: SEED_MODEL, messages: [{ role: 'user', content: QUESTION }], tools, tool_choice: 'none' });
      expect(none.choices[0].finish_reason).toBe('stop');
      const named = await client.chat.completions.create({
        model: SEED_MODEL,
        messages: [{ role: 'user', content: 'hello' }],
        tools,
        tool_choice: { type: 'function', function: { name: 'get_weather' } },
      });
      expect(named.choices[0].finish_reason).toBe('tool_calls');
    });

    it('chat.completions.parse with response_format json_schema answers valid JSON', async () => {
      const Answer = z.object({ city: z.string(), temperature: z.number().int().min(-50).max(60), conditions: z.enum(['sunny', 'rainy']) });
      const res = await client.chat.completions.parse({ model: SEED_MODEL, messages: [{ role: 'user', content: QUESTION }], response_format: zodResponseFormat(Answer, 'answer') });
      expect(Answer.parse(res.choices[0].message.parsed)).toEqual({ city: 'Paris', temperature: 1, conditions: 'sunny' });
      const object = await client.chat.completions.create({ model: SEED_MODEL, messages: [{ role: 'user', content: 'JSON please' }], response_format: { type: 'json_object' } });
      expect(typeof JSON.parse(object.choices[0].message.content!)).toBe('object');
    });

    it('accepts the standard Chat Completions parameters', async () => {
      const res = await client.chat.completions.create({
        model: SEED_MODEL,
        messages: [{ role: 'developer', content: 'Be brief.' }, { role: 'user', content: 'hi' }],
        stop: ['\n\n'],
        seed: 7,
        n: 1,
        logit_bias: { '50256': -100 },
        logprobs: true,
        top_logprobs: 2,
        presence_penalty: 0.5,
        frequency_penalty: 0.5,
        prompt_cache_key: 'k',
        safety_identifier: 'u-hash',
        user: 'u',
        verbosity: 'low',
        reasoning_effort: 'minimal',
        modalities: ['text'],
        metadata: { a: 'b' },
        store: false,
        service_tier: 'auto',
        parallel_tool_calls: false,
      });
      expect(res.choices[0].message.content!.length).toBeGreaterThan(0);
    });
  });

  describe('over an upstream', () => {
    it('sends the tools and the tool loop in Responses form, and answers the upstream call as tool_calls (plain and streamed)', async () => {
      const upstreamCall = fakeFunctionCall('get_weather', { city: 'Paris' }, 'call_up');
      fake.set({ items: [upstreamCall] });
      const first = await client.chat.completions.create({ model: UP_MODEL, messages: [{ role: 'user', content: QUESTION }], tools, tool_choice: 'auto', prompt_cache_key: 'pk' });
      expect(first.choices[0].finish_reason).toBe('tool_calls');
      expect(first.choices[0].message.tool_calls).toEqual([{ id: 'call_up', type: 'function', function: { name: 'get_weather', arguments: upstreamCall.arguments } }]);
      const body = fake.requests[fake.requests.length - 1].body;
      expect(body.tools).toEqual([{ type: 'function', ...weatherFunction }]);
      expect(body).toMatchObject({ tool_choice: 'auto', prompt_cache_key: 'pk', store: false });

      const stream = await client.chat.completions.create({ model: UP_MODEL, messages: [{ role: 'user', content: QUESTION }], tools, stream: true });
      const { calls, finish } = await streamedToolCalls(stream);
      expect(finish).toBe('tool_calls');
      expect(calls).toEqual([{ id: 'call_up', name: 'get_weather', arguments: upstreamCall.arguments }]);

      fake.set({ text: 'Sunny.' });
      const second = await client.chat.completions.create({
        model: UP_MODEL,
        tools,
        messages: [
          { role: 'user', content: QUESTION },
          { role: 'assistant', content: null, tool_calls: first.choices[0].message.tool_calls },
          { role: 'tool', tool_call_id: 'call_up', content: 'clear' },
        ],
      });
      expect(second.choices[0].message.content).toBe('Sunny.');
      expect(fake.requests[fake.requests.length - 1].body.input).toEqual([
        { role: 'user', content: QUESTION },
        { type: 'function_call', call_id: 'call_up', name: 'get_weather', arguments: upstreamCall.arguments },
        { type: 'function_call_output', call_id: 'call_up', output: 'clear' },
      ]);
    });

    it('sends response_format as text.format', async () => {
      fake.set({ text: '{"city":"Paris"}' });
      const response_format = { type: 'json_schema' as const, json_schema: { name: 'c', schema: weatherFunction.parameters, strict: true } };
      const res = await client.chat.completions.create({ model: UP_MODEL, messages: [{ role: 'user', content: QUESTION }], response_format });
      expect(res.choices[0].message.content).toBe('{"city":"Paris"}');
      expect(fake.requests[fake.requests.length - 1].body.text).toEqual({ format: { type: 'json_schema', ...response_format.json_schema } });
    });
  });
});
