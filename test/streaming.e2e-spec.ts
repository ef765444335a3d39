import type { Client } from 'pg';
import { ensureSeedModel, SEED_MODEL, startApp, TestApp } from './support/harness';
import { expectConforms, expectStreamConforms } from './support/openapi';
import { openDb } from './support/db';

interface Frame {
  event: string;
  data: any;
}

/** Reads an SSE body into frames (and the comment lines, for the keep-alive check). */
async function readSse(res: Response, stopAfter?: (frames: Frame[]) => boolean, abort?: AbortController) {
  const frames: Frame[] = [];
  const comments: string[] = [];
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let cut: number;
      while ((cut = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        const lines = block.split('\n');
        comments.push(...lines.filter((l) => l.startsWith(':')));
        const event = lines.find((l) => l.startsWith('event: '))?.slice(7);
        const data = lines.find((l) => l.startsWith('data: '))?.slice(6);
        if (event && data) frames.push({ event, data: JSON.parse(data) });
      }
      if (stopAfter?.(frames)) {
        abort?.abort();
        break;
      }
    }
  } catch (err) {
    if (!abort?.signal.aborted) throw err;
  }
  return { frames, comments };
}

describe('streaming POST /v1/responses (SSE)', () => {
  let t: TestApp;
  let tenant: { tenantId: string; key: string; keyId: string };
  let db: Client;

  const post = (body: Record<string, unknown>, app: TestApp = t, signal?: AbortSignal) =>
    fetch(`${app.baseUrl}/v1/responses`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tenant.key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: SEED_MODEL, stream: true, ...body }),
      signal,
    });

  beforeAll(async () => {
    t = await startApp({ CHARGE_RELAY_AFTER_MS: '300', CHARGE_RELAY_EVERY_MS: '100' });
    await ensureSeedModel(t);
    tenant = await t.tenant('20');
    db = await openDb();
  });

  afterAll(async () => {
    await db.end();
    await t.close();
  });

  const waitForCharge = async (responseId: string) => {
    for (let i = 0; i < 200; i++) {
      const { rows } = await db.query(
        'SELECT e.*, l.amount::text AS amount FROM usage_events e LEFT JOIN ledger_entries l ON l.usage_event_id = e.id WHERE e.response_id = $1',
        [responseId],
      );
      if (rows.length && rows.every((r) => r.charged_at)) return rows;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`no charge for ${responseId}`);
  };

  it('sends the Responses API events in order, sequence numbers from 0 by one, usage only at the end', async () => {
    const res = await post({ input: 'Stream me a short answer' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(res.headers.get('x-request-id')).toMatch(/^req_/);
    const { frames } = await readSse(res);
    const types = frames.map((f) => f.event);
    expect(types.slice(0, 4)).toEqual(['response.created', 'response.in_progress', 'response.output_item.added', 'response.content_part.added']);
    expect(types.slice(-4)).toEqual(['response.output_text.done', 'response.content_part.done', 'response.output_item.done', 'response.completed']);
    const deltas = frames.filter((f) => f.event === 'response.output_text.delta');
    expect(deltas.length).toBeGreaterThan(5);
    expect(frames.map((f) => f.data.sequence_number)).toEqual(frames.map((_, i) => i));
    expect(frames.every((f) => f.data.type === f.event)).toBe(true);
    expect(frames[0].data.response).toMatchObject({ status: 'in_progress', output: [] });
    expectStreamConforms(frames);

    const item = frames[2].data.item;
    expect(item).toMatchObject({ type: 'message', status: 'in_progress', role: 'assistant', content: [] });
    expect(deltas.every((d) => d.data.item_id === item.id && d.data.output_index === 0 && d.data.content_index === 0)).toBe(true);
    const text = deltas.map((d) => d.data.delta).join('');
    expect(frames.find((f) => f.event === 'response.output_text.done')!.data.text).toBe(text);

    const completed = frames[frames.length - 1].data.response;
    expect(completed.status).toBe('completed');
    expect(completed.output[0]).toMatchObject({ id: item.id, status: 'completed', content: [{ type: 'output_text', text }] });
    expect(completed.usage.output_tokens).toBe(deltas.length);
    // The stored response is the completed one.
    const stored = await t.openai(tenant.key).responses.retrieve(completed.id);
    expect(stored.output_text).toBe(text);
    expect(stored.usage).toEqual(completed.usage);
  });

  it('gives the same text and usage streamed and not streamed', async () => {
    const body = { input: 'Equality please', temperature: 0.7, thinking: { type: 'enabled' } };
    const plain = await t.openai(tenant.key).responses.create({ model: SEED_MODEL, ...body } as any);
    const { frames } = await readSse(await post(body));
    const streamed = frames[frames.length - 1].data.response;
    expect(streamed.usage).toEqual(plain.usage);
    const textOf = (r: any) => r.output.filter((o: any) => o.type === 'message').map((o: any) => o.content[0].text).join('');
    expect(textOf(streamed)).toBe(plain.output_text);
    expect(streamed.output.map((o: any) => o.type)).toEqual(plain.output.map((o) => o.type));
  });

  it('streams reasoning first with the reasoning-summary events when thinking', async () => {
    const { frames } = await readSse(await post({ input: 'Think, then answer', thinking: { type: 'enabled' } }));
    const types = frames.map((f) => f.event);
    const firstText = types.indexOf('response.output_text.delta');
    expect(types.slice(2, 5)).toEqual(['response.output_item.added', 'response.reasoning_summary_part.added', 'response.reasoning_summary_text.delta']);
    expect(types.indexOf('response.reasoning_summary_text.done')).toBeLessThan(firstText);
    expect(types.indexOf('response.reasoning_summary_part.done')).toBeLessThan(firstText);
    expect(frames[2].data.item.type).toBe('reasoning');
    const final = frames[frames.length - 1].data.response;
    const reasoningText = frames.filter((f) => f.event === 'response.reasoning_summary_text.delta').map((f) => f.data.delta).join('');
    expect(final.output[0].summary[0].text).toBe(reasoningText);
    expect(final.usage.output_tokens_details.reasoning_tokens).toBeGreaterThan(0);
  });

  it("works with the SDK's responses.stream() helper and finalResponse()", async () => {
    const sdk = t.openai(tenant.key);
    const stream = sdk.responses.stream({ model: SEED_MODEL, input: 'Helper test', thinking: { type: 'enabled' } } as any);
    let deltas = '';
    stream.on('response.output_text.delta', (e) => (deltas += e.delta));
    const final = await stream.finalResponse();
    expect(final.status).toBe('completed');
    expect(final.output_text).toBe(deltas);
    expect(final.output_text.length).toBeGreaterThan(0);
    expect(final.usage!.output_tokens_details.reasoning_tokens).toBeGreaterThan(0);

    const raw = await sdk.responses.create({ model: SEED_MODEL, input: 'Raw SDK stream', stream: true });
    const seen: string[] = [];
    for await (const event of raw) seen.push(event.type);
    expect(seen[0]).toBe('response.created');
    expect(seen[seen.length - 1]).toBe('response.completed');
  });

  it('meters a completed stream exactly once, like a plain request', async () => {
    const { frames } = await readSse(await post({ input: 'Meter this stream', max_output_tokens: 10 }));
    const final = frames[frames.length - 1];
    expect(final.event).toBe('response.incomplete');
    expect(final.data.response.incomplete_details).toEqual({ reason: 'max_output_tokens' });
    const rows = await waitForCharge(final.data.response.id);
    expect(rows).toHaveLength(1);
    expect(rows[0].output_tokens).toBe(10);
  });

  describe('a client that goes away mid-stream', () => {
    let slow: TestApp;
    beforeAll(async () => {
      slow = await startApp({ SIMULATED_TOKENS_PER_SECOND: '40', SIMULATED_OUTPUT_TOKENS: '60', SSE_KEEPALIVE_MS: '60' });
    });
    afterAll(() => slow.close());

    it('stops generating, stores the response as incomplete and charges exactly the tokens sent so far', async () => {
      const abort = new AbortController();
      const res = await post({ input: 'A long, slow answer please' }, slow, abort.signal);
      const { frames } = await readSse(res, (f) => f.filter((x) => x.event === 'response.output_text.delta').length >= 5, abort);
      const id = frames[0].data.response.id;
      const sent = frames.filter((f) => f.event === 'response.output_text.delta').length;
      expect(sent).toBeGreaterThanOrEqual(5);

      const [event] = await waitForCharge(id);
      // The server may have produced a token or two more before it saw the close; never the rest.
      expect(event.output_tokens).toBeGreaterThanOrEqual(sent);
      expect(event.output_tokens).toBeLessThan(60);
      expect(event.input_tokens).toBeGreaterThan(0);
      expect(Number(event.amount)).toBeLessThan(0);

      const stored = await t.openai(tenant.key).responses.retrieve(id);
      // OpenAI's schema has no incomplete reason for this: the API shows it as cancelled; the stored
      // record keeps the precise reason.
      expect(stored.status).toBe('cancelled');
      expect(stored.incomplete_details).toBeNull();
      expectConforms('Response', stored);
      const row = (await db.query('SELECT status, settings FROM responses WHERE id = $1', [id])).rows[0];
      expect(row).toMatchObject({ status: 'incomplete', settings: { incomplete_reason: 'client_disconnected' } });
      expect(stored.usage!.output_tokens).toBe(event.output_tokens);
      const charges = (await db.query('SELECT count(*)::int AS n FROM ledger_entries WHERE response_id = $1', [id])).rows[0].n;
      expect(charges).toBe(1);
    });

    it('sends keep-alive comments on a quiet stream', async () => {
      const slower = await startApp({ SIMULATED_TOKENS_PER_SECOND: '4', SIMULATED_OUTPUT_TOKENS: '3', SSE_KEEPALIVE_MS: '60' });
      try {
        const { frames, comments } = await readSse(await post({ input: 'quiet' }, slower));
        expect(comments).toContain(': ping');
        expect(frames[frames.length - 1].event).toBe('response.completed');
      } finally {
        await slower.close();
      }
    });
  });

  it('refuses a bad streamed request with a plain JSON error before any event', async () => {
    const res = await post({ input: 'x', temperature: 5 });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toMatch(/application\/json/);
    expect(((await res.json()) as any).error.param).toBe('temperature');
  });
});
