import type { ApiError } from '../../common/api-error';
import { DomainError } from '../../common/errors';
import { toApiError } from '../../common/openai-error.filter';
import type { StreamEvent } from '../provider';
import { countTokens, promptTokens } from '../tokenizer';
import { mapUpstreamStream } from './sse';

const request = { messages: [{ role: 'user' as const, text: 'Hi' }] };

const frame = (type: string, data: Record<string, unknown> = {}, named = true) =>
  `${named ? `event: ${type}\n` : ''}data: ${JSON.stringify({ type, ...data })}\n\n`;

const response = (over: Record<string, unknown> = {}) => ({
  id: 'resp_1',
  object: 'response',
  status: 'completed',
  output: [
    { type: 'reasoning', id: 'rs_1', summary: [{ type: 'summary_text', text: 'Hmm.' }] },
    { type: 'message', id: 'msg_1', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: 'Hello world', annotations: [] }] },
  ],
  usage: { input_tokens: 9, input_tokens_details: { cached_tokens: 4 }, output_tokens: 6, output_tokens_details: { reasoning_tokens: 2 } },
  ...over,
});

/** A fake upstream body: the SSE text cut into chunks of `size` bytes (splitting frames and characters). */
async function* body(text: string, size = 7): AsyncGenerator<Uint8Array> {
  const bytes = new TextEncoder().encode(text);
  for (let i = 0; i < bytes.length; i += size) yield bytes.slice(i, i + size);
}

async function relayed(text: string, size?: number): Promise<StreamEvent[]> {
  const out: StreamEvent[] = [];
  for await (const event of mapUpstreamStream(body(text, size), request, { secrets: ['sk-provider-secret'] })) out.push(event);
  return out;
}

/** The relayed text deltas as reasoning.delta / text.delta (other relayed events left out), and done. */
async function collect(text: string, size?: number): Promise<Array<StreamEvent | { type: string; delta: string }>> {
  const kinds: Record<string, string> = {
    'response.reasoning_summary_text.delta': 'reasoning.delta',
    'response.reasoning_text.delta': 'reasoning.delta',
    'response.output_text.delta': 'text.delta',
  };
  return (await relayed(text, size)).flatMap((e): Array<StreamEvent | { type: string; delta: string }> => {
    if (e.type !== 'relay') return [e];
    const kind = kinds[e.event.type];
    return kind ? [{ type: kind, delta: e.event.delta as string }] : [];
  });
}

async function failure(text: string): Promise<ApiError> {
  try {
    await collect(text);
  } catch (err) {
    expect(err).toBeInstanceOf(DomainError);
    return toApiError(err);
  }
  throw new Error('expected the stream to fail');
}

const HAPPY = [
  frame('response.created', { sequence_number: 0, response: { ...response(), status: 'in_progress', output: [], usage: null } }),
  ': ping\n\n',
  frame('response.output_item.added', { output_index: 0, item: { type: 'reasoning', id: 'rs_1', summary: [] } }),
  frame('response.reasoning_summary_text.delta', { item_id: 'rs_1', summary_index: 0, delta: 'Hm' }),
  frame('response.reasoning_summary_text.delta', { item_id: 'rs_1', summary_index: 0, delta: 'm.' }),
  frame('response.output_text.delta', { item_id: 'msg_1', output_index: 1, content_index: 0, delta: 'Hello ' }),
  frame('response.some_future_event', { whatever: true }),
  frame('response.output_text.delta', { item_id: 'msg_1', output_index: 1, content_index: 0, delta: 'wörld 🌍' }),
  frame('response.output_text.done', { text: 'Hello wörld 🌍' }),
].join('');

describe('mapUpstreamStream', () => {
  it('maps reasoning and text deltas, ignores other events, and ends with done built from the full response', async () => {
    const completed = response({
      output: [
        { type: 'reasoning', id: 'rs_1', summary: [{ type: 'summary_text', text: 'Hmm.' }] },
        { type: 'message', id: 'msg_1', content: [{ type: 'output_text', text: 'Hello wörld 🌍' }] },
      ],
    });
    // Chunks of 7 bytes split frames, lines and multi-byte characters.
    const events = await collect(HAPPY + frame('response.completed', { response: completed }), 7);
    expect(events).toEqual([
      { type: 'reasoning.delta', delta: 'Hm' },
      { type: 'reasoning.delta', delta: 'm.' },
      { type: 'text.delta', delta: 'Hello ' },
      { type: 'text.delta', delta: 'wörld 🌍' },
      {
        type: 'done',
        result: {
          reasoning: 'Hmm.',
          text: 'Hello wörld 🌍',
          status: 'completed',
          incompleteReason: null,
          usage: { inputTokens: 9, cachedTokens: 4, outputTokens: 6, reasoningTokens: 2 },
          cache: null,
          output: completed.output,
        },
      },
    ]);
  });

  it('relays every item-level event unchanged and in order, and drops the upstream envelope events', async () => {
    const events = await relayed(HAPPY + frame('response.completed', { response: response() }), 5);
    const types = events.map((e) => (e.type === 'relay' ? e.event.type : e.type));
    expect(types).toEqual([
      'response.output_item.added',
      'response.reasoning_summary_text.delta',
      'response.reasoning_summary_text.delta',
      'response.output_text.delta',
      'response.some_future_event',
      'response.output_text.delta',
      'response.output_text.done',
      'done',
    ]);
    expect(events[0]).toEqual({ type: 'relay', event: { type: 'response.output_item.added', output_index: 0, item: { type: 'reasoning', id: 'rs_1', summary: [] } } });
  });

  it('relays function call items and argument deltas as sent, and keeps the call in the result', async () => {
    const call = { type: 'function_call', id: 'fc_1', call_id: 'call_1', name: 'get_weather', arguments: '{"city":"Paris"}', status: 'completed' };
    const text = [
      frame('response.output_item.added', { output_index: 0, item: { ...call, arguments: '', status: 'in_progress' } }),
      frame('response.function_call_arguments.delta', { item_id: 'fc_1', output_index: 0, delta: '{"city":' }),
      frame('response.function_call_arguments.delta', { item_id: 'fc_1', output_index: 0, delta: '"Paris"}' }),
      frame('response.function_call_arguments.done', { item_id: 'fc_1', output_index: 0, arguments: call.arguments }),
      frame('response.output_item.done', { output_index: 0, item: call }),
      frame('response.completed', { response: response({ output: [call] }) }),
    ].join('');
    const events = await relayed(text);
    expect(events.slice(0, 5).map((e) => e.type === 'relay' && e.event.type)).toEqual([
      'response.output_item.added',
      'response.function_call_arguments.delta',
      'response.function_call_arguments.delta',
      'response.function_call_arguments.done',
      'response.output_item.done',
    ]);
    expect(events[1]).toEqual({ type: 'relay', event: { type: 'response.function_call_arguments.delta', item_id: 'fc_1', output_index: 0, delta: '{"city":' } });
    expect(events[5]).toMatchObject({ type: 'done', result: { text: null, output: [call] } });
  });

  it('reads the event type from data.type when frames have no event: line, and tolerates [DONE]', async () => {
    const text = [
      frame('response.output_text.delta', { delta: 'Hi' }, false),
      frame('response.completed', { response: response() }, false),
      'data: [DONE]\n\n',
    ].join('');
    const events = await collect(text);
    expect(events.map((e) => e.type)).toEqual(['text.delta', 'done']);
  });

  it('maps response.incomplete to done with status incomplete', async () => {
    const incomplete = response({ status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' } });
    const events = await collect(frame('response.output_text.delta', { delta: 'Hel' }) + frame('response.incomplete', { response: incomplete }));
    expect(events[1]).toMatchObject({ type: 'done', result: { status: 'incomplete', incompleteReason: 'max_output_tokens' } });
  });

  it('keeps reasoning parts separated by a blank line, as the final reasoning joins them', async () => {
    const final = response({
      output: [
        { type: 'reasoning', id: 'rs_1', summary: [{ type: 'summary_text', text: 'One.' }, { type: 'summary_text', text: 'Two.' }] },
        { type: 'reasoning', id: 'rs_2', summary: [{ type: 'summary_text', text: 'Three.' }] },
      ],
    });
    const events = await collect(
      [
        frame('response.reasoning_summary_text.delta', { item_id: 'rs_1', summary_index: 0, delta: 'One.' }),
        frame('response.reasoning_summary_text.delta', { item_id: 'rs_1', summary_index: 1, delta: 'Two.' }),
        frame('response.reasoning_summary_text.delta', { item_id: 'rs_2', summary_index: 0, delta: 'Three.' }),
        frame('response.completed', { response: final }),
      ].join(''),
    );
    const done = events[events.length - 1] as Extract<StreamEvent, { type: 'done' }>;
    expect(done.result.reasoning).toBe('One.\n\nTwo.\n\nThree.');
  });

  it('streams reasoning_text deltas when the upstream sends no summary', async () => {
    const final = response({ output: [{ type: 'reasoning', summary: [], content: [{ type: 'reasoning_text', text: 'raw' }] }] });
    const events = await collect(frame('response.reasoning_text.delta', { item_id: 'rs_1', content_index: 0, delta: 'raw' }) + frame('response.completed', { response: final }));
    expect(events).toEqual([{ type: 'reasoning.delta', delta: 'raw' }, expect.objectContaining({ type: 'done', result: expect.objectContaining({ reasoning: 'raw' }) })]);
  });

  it('uses the streamed texts when the terminal response has no output, and counts usage when there is none', async () => {
    const events = await collect(
      frame('response.output_text.delta', { delta: 'Only streamed' }) + frame('response.completed', { response: { status: 'completed', output: [] } }),
    );
    expect(events[1]).toEqual({
      type: 'done',
      result: {
        reasoning: null,
        text: 'Only streamed',
        status: 'completed',
        incompleteReason: null,
        usage: { inputTokens: promptTokens(request.messages), cachedTokens: 0, outputTokens: countTokens('Only streamed'), reasoningTokens: 0 },
        cache: null,
        output: null,
      },
    });
  });

  it('turns event: error (nested or flat) and response.failed into 502 upstream_error, without secrets', async () => {
    const nested = await failure(
      frame('response.output_text.delta', { delta: 'x' }) +
        frame('error', { error: { code: 'server_error', message: 'Overloaded, key sk-provider-secret rejected' } }),
    );
    expect(nested).toMatchObject({ status: 502, type: 'server_error', code: 'upstream_error' });
    expect(nested.message).toMatch(/Overloaded/);
    expect(nested.message).not.toMatch(/sk-provider-secret/);

    const flat = await failure(frame('error', { code: 'x', message: 'flat failure' }));
    expect(flat.message).toMatch(/flat failure/);

    const failed = await failure(frame('response.failed', { response: { status: 'failed', error: { code: 'server_error', message: 'boom' } } }));
    expect(failed).toMatchObject({ status: 502, code: 'upstream_error' });
    expect(failed.message).toMatch(/boom/);
  });

  it('fails (502) on a stream that ends without a terminal event, [DONE] included, and on malformed JSON', async () => {
    expect(await failure(frame('response.output_text.delta', { delta: 'cut' }))).toMatchObject({ status: 502, code: 'upstream_error' });
    expect(await failure(frame('response.output_text.delta', { delta: 'cut' }) + 'data: [DONE]\n\n')).toMatchObject({ status: 502 });
    expect(await failure('event: response.output_text.delta\ndata: {not json\n\n')).toMatchObject({ status: 502, code: 'upstream_error' });
  });

  it('counts the prompt only when the terminal event reports no input tokens', async () => {
    const counts: string[] = [];
    const countPrompt = async () => (counts.push('asked'), 1234);
    const run = async (text: string) => {
      const out: StreamEvent[] = [];
      for await (const event of mapUpstreamStream(body(text), request, { countPrompt })) out.push(event);
      return out.at(-1) as Extract<StreamEvent, { type: 'done' }>;
    };
    const reported = await run(frame('response.output_text.delta', { delta: 'Hi' }) + frame('response.completed', { response: response() }, false));
    expect(counts).toEqual([]);
    expect(reported.result.usage.inputTokens).toBe(9);
    const unreported = await run(frame('response.output_text.delta', { delta: 'Hi' }) + frame('response.completed', { response: response({ usage: undefined }) }));
    expect(counts).toEqual(['asked']);
    expect(unreported.result.usage.inputTokens).toBe(1234);
  });

  it('handles a final frame without its trailing blank line', async () => {
    const text = frame('response.output_text.delta', { delta: 'a' }) + frame('response.completed', { response: response() }).trimEnd();
    const events = await collect(text);
    expect(events.map((e) => e.type)).toEqual(['text.delta', 'done']);
  });
});
