import OpenAI from 'openai';
import { zodResponseFormat, zodTextFormat } from 'openai/helpers/zod';
import { z } from 'zod';
import { ClientsFixture, recordingFetch, startClientsFixture, TARGETS } from './support/clients';

// The `openai` SDK's structured-output helpers: responses.parse / responses.stream with
// zodTextFormat, and chat.completions.parse with zodResponseFormat.

const RECIPE = { title: 'Pancakes', servings: 4, ingredients: ['flour', 'milk', 'eggs'] };
const recipeSchema = z.object({ title: z.string(), servings: z.number().int(), ingredients: z.array(z.string()) });

describe.each(TARGETS)('openai SDK structured output on the $name model', ({ name, model }) => {
  let f: ClientsFixture;

  beforeAll(async () => {
    f = await startClientsFixture({ structured: RECIPE });
  });
  afterAll(() => f?.close());

  async function client() {
    const { key, tenantId } = await f.tenant();
    return { openai: new OpenAI({ apiKey: key, baseURL: f.baseURL, maxRetries: 0, fetch: recordingFetch().fetch }), tenantId };
  }

  it('responses.parse gives output_parsed that the schema accepts', async () => {
    const { openai, tenantId } = await client();
    const format = zodTextFormat(recipeSchema, 'recipe');
    const before = f.upstream.requests.length;
    const res = await openai.responses.parse({ model, input: 'A recipe for pancakes, please.', text: { format } });
    expect(res.status).toBe('completed');
    expect(recipeSchema.safeParse(res.output_parsed).success).toBe(true);
    if (name === 'upstream') {
      expect(f.upstream.requests.slice(before)).toHaveLength(1);
      expect(f.upstream.requests[before].body.text.format).toEqual(JSON.parse(JSON.stringify(format)));
    }
    await f.expectCharged(tenantId, 1);
  });

  it('responses.stream gives a final output_parsed that the schema accepts', async () => {
    const { openai, tenantId } = await client();
    const stream = openai.responses.stream({ model, input: 'A recipe for pancakes, please.', text: { format: zodTextFormat(recipeSchema, 'recipe') } });
    const deltas: string[] = [];
    stream.on('response.output_text.delta', (event) => void deltas.push(event.delta));
    const res = await stream.finalResponse();
    expect(recipeSchema.safeParse(res.output_parsed).success).toBe(true);
    expect(JSON.parse(deltas.join(''))).toEqual(res.output_parsed);
    await f.expectCharged(tenantId, 1);
  });

  it('chat.completions.parse gives message.parsed that the schema accepts', async () => {
    const { openai, tenantId } = await client();
    const completion = await openai.chat.completions.parse({
      model,
      messages: [{ role: 'user', content: 'A recipe for pancakes, please.' }],
      response_format: zodResponseFormat(recipeSchema, 'recipe'),
    });
    expect(completion.choices[0].finish_reason).toBe('stop');
    expect(recipeSchema.safeParse(completion.choices[0].message.parsed).success).toBe(true);
    await f.expectCharged(tenantId, 1);
  });
});
