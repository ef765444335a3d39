import { createOpenAI } from '@ai-sdk/openai';
import { generateText, ModelMessage, Output, stepCountIs, streamText, tool } from 'ai';
import { z } from 'zod';
import { ClientsFixture, expectValidAgainst, recordingFetch, startClientsFixture, TARGETS } from './support/clients';

// The Vercel AI SDK (`ai` + `@ai-sdk/openai`), its default `openai(model)` Responses provider.

const WEATHER_ARGS = { city: 'Paris', unit: 'celsius' };
const PERSON = { name: 'Ada Lovelace', born: 1815 };
const personSchema = z.object({ name: z.string(), born: z.number().int() });

describe.each(TARGETS)('AI SDK on the $name model', ({ name, model }) => {
  let f: ClientsFixture;

  beforeAll(async () => {
    f = await startClientsFixture({ toolArguments: { get_weather: WEATHER_ARGS }, structured: PERSON });
  });
  afterAll(() => f?.close());

  async function provider() {
    const { key, tenantId } = await f.tenant();
    const wire = recordingFetch();
    const openai = createOpenAI({ apiKey: key, baseURL: f.baseURL, fetch: wire.fetch });
    return { openai, wire, tenantId, key };
  }

  /** generateText or streamText, read to the end, as one shape. */
  async function complete(stream: boolean, options: Parameters<typeof generateText>[0]) {
    if (!stream) {
      const r = await generateText({ maxRetries: 0, ...options } as any);
      return { text: r.text, steps: r.steps, output: (r as any).output, messages: r.response.messages, usage: r.usage };
    }
    let failure: unknown;
    const r = streamText({ maxRetries: 0, ...options, onError: ({ error }: { error: unknown }) => void (failure = error) } as any);
    try {
      const [text, steps, response, usage] = await Promise.all([r.text, r.steps, r.response, r.usage]);
      const output = (options as any).output ? await r.output : undefined;
      return { text, steps, output, messages: (response as any).messages as ModelMessage[], usage };
    } catch (err) {
      throw failure ?? err;
    }
  }

  describe.each([false, true])('stream %s', (stream) => {
    it('runs a two-step tool loop: a schema-valid call, the tool result sent back, then a text answer', async () => {
      const { openai, wire, tenantId } = await provider();
      const calls: unknown[] = [];
      const getWeather = tool({
        description: 'The current weather in a city',
        inputSchema: z.object({ city: z.string(), unit: z.enum(['celsius', 'fahrenheit']) }),
        execute: async (input) => {
          calls.push(input);
          return { temperature: 21, conditions: 'sunny' };
        },
      });
      const result = await complete(stream, {
        model: openai(model),
        tools: { get_weather: getWeather },
        stopWhen: stepCountIs(4),
        prompt: 'What is the weather in Paris?',
      });

      expect(calls).toHaveLength(1);
      const sentTool = wire.bodies[0].tools.find((t: any) => t.name === 'get_weather');
      expectValidAgainst(sentTool.parameters, calls[0]);
      expect(result.steps).toHaveLength(2);
      expect(result.steps[0].toolCalls).toHaveLength(1);
      expect(result.steps[1].toolCalls).toHaveLength(0);
      expect(result.text.length).toBeGreaterThan(0);

      const callId = result.steps[0].toolCalls[0].toolCallId;
      const secondTurn = JSON.stringify(wire.bodies[1].input);
      expect(secondTurn).toContain('function_call_output');
      expect(secondTurn).toContain(callId);
      await f.expectCharged(tenantId, 2);
    });

    it('answers Output.object with an object the schema accepts', async () => {
      const { openai, wire, tenantId } = await provider();
      const result = await complete(stream, {
        model: openai(model),
        output: Output.object({ schema: personSchema }),
        prompt: 'Who wrote the first program?',
      } as any);

      expect(personSchema.safeParse(result.output).success).toBe(true);
      expect(wire.bodies[0].text.format.type).toBe('json_schema');
      expectValidAgainst(wire.bodies[0].text.format.schema, result.output);
      await f.expectCharged(tenantId, 1);
    });

    it('continues a stored conversation whose assistant turns the SDK sends as item_reference', async () => {
      const { openai, wire, tenantId } = await provider();
      const history: ModelMessage[] = [{ role: 'user', content: 'Tell me a long story about a lighthouse keeper and the sea.' }];
      const first = await complete(stream, { model: openai(model), messages: history });
      history.push(...first.messages, { role: 'user', content: 'And?' });
      const second = await complete(stream, { model: openai(model), messages: history });

      const references = wire.bodies[1].input.filter((item: any) => item.type === 'item_reference');
      expect(references.length).toBeGreaterThan(0);
      expect(second.text.length).toBeGreaterThan(0);
      if (name === 'simulated') {
        // The referenced answer is part of the second prompt, so it is counted as input.
        expect(second.usage.inputTokens!).toBeGreaterThanOrEqual(first.usage.inputTokens! + first.usage.outputTokens!);
      } else {
        // Upstreams are used statelessly: they get the referenced answer itself.
        const received = f.upstream.requests.at(-1)!.body.input;
        expect(JSON.stringify(received)).not.toContain('item_reference');
        expect(received).toContainEqual(expect.objectContaining({ role: 'assistant', content: expect.anything() }));
        expect(JSON.stringify(received)).toContain(JSON.stringify(first.text).slice(1, -1));
      }
      await f.expectCharged(tenantId, 2);

      const other = await provider();
      await expect(complete(stream, { model: other.openai(model), messages: history })).rejects.toMatchObject({
        statusCode: 400,
        responseBody: expect.stringContaining(references[0].id),
      });
    });
  });
});
