import { Agent, OpenAIProvider, Runner, setTracingDisabled, tool } from '@openai/agents';
import OpenAI from 'openai';
import { z } from 'zod';
import { ClientsFixture, expectValidAgainst, recordingFetch, startClientsFixture, TARGETS } from './support/clients';

// The OpenAI Agents SDK (`@openai/agents`): an agent with a function tool, run to its final output.
setTracingDisabled(true);

const WEATHER_ARGS = { city: 'Paris' };
const VERDICT = { answer: 'yes', confidence: 0.9 };
const verdictSchema = z.object({ answer: z.enum(['yes', 'no']), confidence: z.number() });

describe.each(TARGETS)('Agents SDK on the $name model', ({ model }) => {
  let f: ClientsFixture;

  beforeAll(async () => {
    f = await startClientsFixture({ toolArguments: { get_weather: WEATHER_ARGS }, structured: VERDICT });
  });
  afterAll(() => f?.close());

  async function runner(useResponses: boolean) {
    const { key, tenantId } = await f.tenant();
    const wire = recordingFetch();
    const openAIClient = new OpenAI({ apiKey: key, baseURL: f.baseURL, maxRetries: 0, fetch: wire.fetch });
    const modelProvider = new OpenAIProvider({ openAIClient, useResponses });
    return { runner: new Runner({ modelProvider, tracingDisabled: true }), wire, tenantId };
  }

  describe.each([
    ['responses', true],
    ['chat completions', false],
  ])('over %s', (_api, useResponses) => {
    describe.each([false, true])('stream %s', (stream) => {
      it('runs a function tool with schema-valid arguments, then answers with text', async () => {
        const { runner: r, wire, tenantId } = await runner(useResponses as boolean);
        const calls: unknown[] = [];
        const getWeather = tool({
          name: 'get_weather',
          description: 'The current weather in a city',
          parameters: z.object({ city: z.string() }),
          execute: async (input) => {
            calls.push(input);
            return 'sunny, 21 degrees';
          },
        });
        const agent = new Agent({ name: 'Weather agent', instructions: 'Answer with the weather.', model, tools: [getWeather] });

        let finalOutput: unknown;
        if (stream) {
          const result = await r.run(agent, 'What is the weather in Paris?', { stream: true });
          for await (const _event of result.toStream()) void _event;
          await result.completed;
          finalOutput = result.finalOutput;
        } else {
          finalOutput = (await r.run(agent, 'What is the weather in Paris?')).finalOutput;
        }

        expect(calls).toHaveLength(1);
        const sent = wire.bodies[0].tools.find((t: any) => (t.name ?? t.function?.name) === 'get_weather');
        expectValidAgainst(sent.parameters ?? sent.function.parameters, calls[0]);
        expect(typeof finalOutput).toBe('string');
        expect((finalOutput as string).length).toBeGreaterThan(0);
        expect(wire.bodies).toHaveLength(2);
        expect(JSON.stringify(wire.bodies[1])).toMatch(/function_call_output|"role":"tool"/);
        await f.expectCharged(tenantId, 2);
      });
    });
  });

  it('gives an outputType agent a final output the schema accepts', async () => {
    const { runner: r, tenantId } = await runner(true);
    const agent = new Agent({ name: 'Judge', instructions: 'Answer yes or no.', model, outputType: verdictSchema });
    const result = await r.run(agent, 'Is the sea salty?');
    expect(verdictSchema.safeParse(result.finalOutput).success).toBe(true);
    await f.expectCharged(tenantId, 1);
  });
});
