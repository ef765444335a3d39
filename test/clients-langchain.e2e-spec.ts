import { AIMessageChunk, BaseMessage, HumanMessage } from '@langchain/core/messages';
import type { Runnable } from '@langchain/core/runnables';
import { tool } from '@langchain/core/tools';
import { ChatOpenAI } from '@langchain/openai';
import { z } from 'zod';
import { ClientsFixture, expectValidAgainst, recordingFetch, startClientsFixture, TARGETS } from './support/clients';

// LangChain (`@langchain/openai` ChatOpenAI): bindTools, run the tool, call again; withStructuredOutput.
// Streamed calls use stream() and aggregate the chunks: invoke() with `streaming: true` over chat
// completions estimates token counts with js-tiktoken, which downloads its tables from the network.

const WEATHER_ARGS = { city: 'Paris', days: 2 };
const CITY = { city: 'Paris', country: 'France', population: 2102650 };
const citySchema = z.object({ city: z.string(), country: z.string(), population: z.number().int() });

// No LangSmith tracing, whatever the environment says: nothing may leave the machine.
for (const name of ['LANGSMITH_TRACING', 'LANGCHAIN_TRACING_V2', 'LANGCHAIN_TRACING']) delete process.env[name];

describe.each(TARGETS)('LangChain on the $name model', ({ model }) => {
  let f: ClientsFixture;

  beforeAll(async () => {
    f = await startClientsFixture({ toolArguments: { get_forecast: WEATHER_ARGS }, structured: CITY });
  });
  afterAll(() => f?.close());

  async function chatModel(useResponsesApi: boolean) {
    const { key, tenantId } = await f.tenant();
    const wire = recordingFetch();
    const llm = new ChatOpenAI({ model, apiKey: key, maxRetries: 0, useResponsesApi, configuration: { baseURL: f.baseURL, fetch: wire.fetch } });
    return { llm, wire, tenantId };
  }

  /** invoke(), or stream() with the message chunks concatenated (the last chunk for structured output). */
  async function call<I, O>(runnable: Runnable<I, O>, input: I, streaming: boolean): Promise<O> {
    if (!streaming) return runnable.invoke(input);
    let result: O | undefined;
    for await (const chunk of await runnable.stream(input)) {
      result = result instanceof AIMessageChunk ? (result.concat(chunk as AIMessageChunk) as O) : chunk;
    }
    return result!;
  }

  describe.each([
    ['chat completions', false],
    ['responses', true],
  ])('over %s', (_api, useResponsesApi) => {
    describe.each([false, true])('streaming %s', (streaming) => {
      it('calls the bound tool with schema-valid arguments, then answers from its result', async () => {
        const { llm, wire, tenantId } = await chatModel(useResponsesApi as boolean);
        const calls: unknown[] = [];
        const getForecast = tool(
          async (input) => {
            calls.push(input);
            return 'rain on both days';
          },
          { name: 'get_forecast', description: 'The forecast for a city', schema: z.object({ city: z.string(), days: z.number().int().min(1).max(7) }) },
        );
        const withTools = llm.bindTools([getForecast]);
        const messages: BaseMessage[] = [new HumanMessage('Will it rain in Paris in the next two days?')];

        const first = await call(withTools, messages, streaming);
        expect(Boolean(wire.bodies[0].stream)).toBe(streaming);
        expect(first.tool_calls).toHaveLength(1);
        const sent = wire.bodies[0].tools.find((t: any) => (t.name ?? t.function?.name) === 'get_forecast');
        expectValidAgainst(sent.parameters ?? sent.function.parameters, first.tool_calls![0].args);

        messages.push(first, await getForecast.invoke(first.tool_calls![0]));
        expect(calls).toEqual([first.tool_calls![0].args]);
        const second = await call(withTools, messages, streaming);
        expect(second.tool_calls ?? []).toHaveLength(0);
        expect(second.text.length).toBeGreaterThan(0);
        expect(JSON.stringify(wire.bodies[1])).toMatch(/function_call_output|"role":"tool"/);
        await f.expectCharged(tenantId, 2);
      });

      it('returns a withStructuredOutput object the schema accepts', async () => {
        const { llm, wire, tenantId } = await chatModel(useResponsesApi as boolean);
        const city = await call(llm.withStructuredOutput(citySchema, { name: 'city' }), 'Describe the capital of France.', streaming);
        expect(citySchema.safeParse(city).success).toBe(true);
        expect(Boolean(wire.bodies[0].stream)).toBe(streaming);
        const format = wire.bodies[0].response_format ?? wire.bodies[0].text?.format;
        expect(format.type).toBe('json_schema');
        await f.expectCharged(tenantId, 1);
      });
    });
  });
});
