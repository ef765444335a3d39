import Ajv from 'ajv';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { zodTextFormat } from 'openai/helpers/zod';
import { z } from 'zod';
import { FakeUpstream, startFakeUpstream } from './support/fake-upstream';
import { ensureSeedModel, http, SEED_MODEL, startApp, TestApp } from './support/harness';

const KEY_VAR = 'TOLLGATE_STRUCTURED_UPSTREAM_KEY';
const UP_MODEL = 'up-structured-model';

const CalendarEvent = z.object({
  name: z.string(),
  date: z.string(),
  participants: z.array(z.string()),
  priority: z.enum(['low', 'high']),
  attendees: z.number().int().min(2).max(10),
});

describe('structured output (openai SDK)', () => {
  let fake: FakeUpstream;
  let t: TestApp;
  let client: OpenAI;
  let key: string;
  let dir: string;

  beforeAll(async () => {
    fake = await startFakeUpstream();
    process.env[KEY_VAR] = 'sk-structured';
    dir = mkdtempSync(join(tmpdir(), 'tollgate-structured-'));
    const file = join(dir, 'providers.json');
    writeFileSync(file, JSON.stringify({ fake: { type: 'openai', base_url: fake.url, api_key_env: KEY_VAR } }));
    t = await startApp({ PROVIDERS_FILE: file });
    await ensureSeedModel(t);
    expect((await t.admin('PUT', `/admin/models/${UP_MODEL}`, { provider: 'fake', input_price: '1', output_price: '1' })).status).toBe(200);
    key = (await t.tenant('10')).key;
    client = t.openai(key);
  });

  afterAll(async () => {
    await t?.close();
    await fake?.close();
    delete process.env[KEY_VAR];
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('responses.parse with a zod schema gets an object valid against it (simulated model)', async () => {
    const res = await client.responses.parse({
      model: SEED_MODEL,
      input: 'Alice and Bob meet for the science fair on Friday.',
      text: { format: zodTextFormat(CalendarEvent, 'event') },
    });
    expect(res.status).toBe('completed');
    const parsed = CalendarEvent.parse(res.output_parsed);
    expect(parsed.priority).toBe('low');
    expect(parsed.attendees).toBe(2);
    expect(parsed.participants.length).toBeGreaterThanOrEqual(1);
  });

  it('streams the same JSON, and a non-strict schema is honoured too', async () => {
    const schema = {
      type: 'object',
      properties: { title: { type: 'string', minLength: 3 }, tags: { type: 'array', items: { type: 'string' }, minItems: 2 }, draft: { type: 'boolean' } },
      required: ['title', 'tags'],
    };
    const format = { type: 'json_schema' as const, name: 'post', schema, strict: false };
    const plain = await client.responses.create({ model: SEED_MODEL, input: 'Write about caching', text: { format } });
    const value = JSON.parse(plain.output_text);
    expect(new Ajv().validate(schema, value)).toBe(true);

    const stream = client.responses.stream({ model: SEED_MODEL, input: 'Write about caching', text: { format } });
    let streamed = '';
    for await (const event of stream) if (event.type === 'response.output_text.delta') streamed += event.delta;
    expect(streamed).toBe(plain.output_text);
    expect((await stream.finalResponse()).usage).toEqual(plain.usage);
  });

  it('json_object answers a JSON object', async () => {
    const res = await client.responses.create({ model: SEED_MODEL, input: 'Answer in JSON.', text: { format: { type: 'json_object' } } });
    const value = JSON.parse(res.output_text);
    expect(typeof value).toBe('object');
    expect(Array.isArray(value)).toBe(false);
  });

  it('refuses a malformed format, naming the field', async () => {
    const post = (format: unknown) => http(t.baseUrl, 'POST', '/v1/responses', { token: key, body: { model: SEED_MODEL, input: 'x', text: { format } } });
    expect((await post({ type: 'json_schema', name: 'x' })).body.error.param).toBe('text.format.schema');
    expect((await post({ type: 'json_schema', schema: {} })).body.error.param).toBe('text.format.name');
    expect((await post({ type: 'yaml' })).body.error.param).toBe('text.format.type');
    const unsatisfiable = await post({ type: 'json_schema', name: 'x', schema: { type: 'string', pattern: '^[0-9]{4}$' } });
    expect(unsatisfiable.status).toBe(400);
    expect(unsatisfiable.body.error.param).toBe('text.format.schema');
  });

  it('over an upstream: text.format goes as sent and responses.parse reads the upstream JSON', async () => {
    const event = { name: 'Fair', date: 'Friday', participants: ['Alice', 'Bob'], priority: 'high', attendees: 3 };
    fake.set({ text: JSON.stringify(event) });
    const format = zodTextFormat(CalendarEvent, 'event');
    const res = await client.responses.parse({ model: UP_MODEL, input: 'Alice and Bob meet on Friday.', text: { format } });
    expect(res.output_parsed).toEqual(event);
    expect(fake.requests[fake.requests.length - 1].body.text).toEqual(JSON.parse(JSON.stringify({ format })));
  });
});
