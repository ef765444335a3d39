import type { Client } from 'pg';
import { addAmounts, negate } from '../src/billing/money';
import { handCharge } from './support/expected-charge';
import { ensureSeedModel, http, SEED_MODEL, startApp, TestApp } from './support/harness';
import { expectConforms, expectStreamConforms } from './support/openapi';
import { openDb } from './support/db';

describe('POST /v1/chat/completions (openai SDK)', () => {
  let t: TestApp;
  let tenant: { tenantId: string; key: string; keyId: string };
  let db: Client;

  beforeAll(async () => {
    t = await startApp({ CHARGE_RELAY_AFTER_MS: '300', CHARGE_RELAY_EVERY_MS: '100' });
    await ensureSeedModel(t);
    tenant = await t.tenant('10');
    db = await openDb();
  });

  afterAll(async () => {
    await db.end();
    await t.close();
  });

  async function chargeOf(responseId: string) {
    for (let i = 0; i < 200; i++) {
      const { rows } = await db.query(
        'SELECT e.*, l.amount::text AS amount FROM usage_events e JOIN ledger_entries l ON l.usage_event_id = e.id WHERE e.response_id = $1',
        [responseId],
      );
      if (rows.length) return rows;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`no charge for ${responseId}`);
  }
  const responseIdOf = (chatId: string) => `resp_${chatId.replace(/^chatcmpl-/, '')}`;

  it('answers a chat completion with usage in the chat shape, metered exactly once', async () => {
    const sdk = t.openai(tenant.key);
    const res = await sdk.chat.completions.create({
      model: SEED_MODEL,
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: [{ type: 'text', text: 'Hello chat' }] },
      ],
    });
    expect(res.object).toBe('chat.completion');
    expectConforms('CreateChatCompletionResponse', res);
    expect(res.id).toMatch(/^chatcmpl-/);
    expect(res.choices).toHaveLength(1);
    expect(res.choices[0].message.role).toBe('assistant');
    expect(res.choices[0].message.content!.length).toBeGreaterThan(0);
    expect(res.choices[0].finish_reason).toBe('stop');
    const u = res.usage!;
    expect(u.total_tokens).toBe(u.prompt_tokens + u.completion_tokens);
    expect(u.prompt_tokens_details!.cached_tokens).toBe(0);
    expect(u.completion_tokens_details!.reasoning_tokens).toBe(0);

    const [row] = await chargeOf(responseIdOf(res.id));
    expect([row.input_tokens, row.output_tokens]).toEqual([u.prompt_tokens, u.completion_tokens]);
    const want = handCharge({ input: u.prompt_tokens, cached: 0, output: u.completion_tokens, reasoning: 0 }, { input: '0.25', cachedInput: '0.025', output: '2' });
    expect(addAmounts(row.amount)).toBe(negate(want.total));
    // Chat completions are not stored as responses.
    await expect(sdk.responses.retrieve(responseIdOf(res.id))).rejects.toMatchObject({ status: 404 });
  });

  it('gives the same answer as /v1/responses for the same conversation', async () => {
    const sdk = t.openai(tenant.key);
    const chat = await sdk.chat.completions.create({ model: SEED_MODEL, messages: [{ role: 'user', content: 'Same?' }], temperature: 0.2 });
    const resp = await sdk.responses.create({ model: SEED_MODEL, input: [{ role: 'user', content: 'Same?' }], temperature: 0.2 });
    expect(chat.choices[0].message.content).toBe(resp.output_text);
    expect(chat.usage!.prompt_tokens).toBe(resp.usage!.input_tokens);
  });

  it('honours max_tokens / max_completion_tokens (finish_reason length) and thinking (reasoning tokens)', async () => {
    const sdk = t.openai(tenant.key);
    const short = await sdk.chat.completions.create({ model: SEED_MODEL, messages: [{ role: 'user', content: 'Long please' }], max_tokens: 4 });
    expect(short.choices[0].finish_reason).toBe('length');
    expect(short.usage!.completion_tokens).toBe(4);
    const short2 = await sdk.chat.completions.create({ model: SEED_MODEL, messages: [{ role: 'user', content: 'Long please' }], max_completion_tokens: 4 });
    expect(short2.usage!.completion_tokens).toBe(4);

    const thinking = await sdk.chat.completions.create({ model: SEED_MODEL, messages: [{ role: 'user', content: 'Think' }], thinking: { type: 'enabled' } } as any);
    expect(thinking.usage!.completion_tokens_details!.reasoning_tokens).toBeGreaterThan(0);
    expect((thinking.choices[0].message as any).reasoning_content.length).toBeGreaterThan(0);
  });

  it('streams chat.completion.chunk objects, ends with [DONE], and reports usage when asked', async () => {
    const sdk = t.openai(tenant.key);
    const stream = await sdk.chat.completions.create({
      model: SEED_MODEL,
      messages: [{ role: 'user', content: 'Stream a chat answer' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks: any[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks[0].choices[0].delta.role).toBe('assistant');
    expectStreamConforms(chunks.map((data) => ({ data })));
    expect(chunks.every((c) => c.object === 'chat.completion.chunk' && c.id === chunks[0].id)).toBe(true);
    const last = chunks[chunks.length - 1];
    expect(last.choices).toEqual([]);
    expect(last.usage.completion_tokens).toBeGreaterThan(0);
    expect(chunks[chunks.length - 2].choices[0].finish_reason).toBe('stop');
    const text = chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('');

    const plain = await sdk.chat.completions.create({ model: SEED_MODEL, messages: [{ role: 'user', content: 'Stream a chat answer' }] });
    expect(text).toBe(plain.choices[0].message.content);
    expect(last.usage).toEqual(plain.usage);
    const [row] = await chargeOf(responseIdOf(last.id));
    expect(row.output_tokens).toBe(last.usage.completion_tokens);

    const raw = await fetch(`${t.baseUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tenant.key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: SEED_MODEL, messages: [{ role: 'user', content: 'x' }], stream: true }),
    });
    const body = await raw.text();
    expect(body.trim().endsWith('data: [DONE]')).toBe(true);
    expect(body).not.toContain('"usage"');
  });

  it.each([
    ['missing messages', 'messages', {}],
    ['unknown role', 'messages[0].role', { messages: [{ role: 'bot', content: 'x' }] }],
    ['tool message without tool_call_id', 'messages[0].tool_call_id', { messages: [{ role: 'tool', content: 'x' }] }],
    ['image part', 'messages[0].content[0].type', { messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'x' } }] }] }],
    ['n above 1', 'n', { messages: [{ role: 'user', content: 'x' }], n: 2 }],
    ['max_tokens zero', 'max_tokens', { messages: [{ role: 'user', content: 'x' }], max_tokens: 0 }],
    ['unknown field', 'wat', { messages: [{ role: 'user', content: 'x' }], wat: 1 }],
  ])('%s -> 400 naming %s', async (_name, param, body) => {
    const res = await http(t.baseUrl, 'POST', '/v1/chat/completions', { token: tenant.key, body: { model: SEED_MODEL, ...body } });
    expect(res.status).toBe(400);
    expect(res.body.error.param).toBe(param);
  });

  it('refuses a missing key with 401', async () => {
    const res = await http(t.baseUrl, 'POST', '/v1/chat/completions', { body: { model: SEED_MODEL, messages: [] } });
    expect(res.status).toBe(401);
  });
});
