import { ApiError } from '../common/api-error';
import type { ResponseRecord } from './response-object';
import { ResponseStreamBuilder } from './stream-events';

const record = (over: Partial<ResponseRecord> = {}): ResponseRecord => ({
  id: 'resp_1',
  model: 'm',
  status: 'completed',
  instructions: null,
  output: [],
  usage: null,
  settings: {
    temperature: 1,
    top_p: 1,
    max_output_tokens: null,
    metadata: {},
    store: true,
    caching: null,
    thinking: null,
    expire_at: null,
    reasoning: { effort: null, summary: null },
    text: { format: { type: 'text' } },
    tool_choice: 'auto',
    tools: [],
    parallel_tool_calls: true,
    truncation: 'disabled',
    user: null,
    service_tier: null,
    incomplete_reason: null,
  },
  previousResponseId: null,
  createdAt: new Date(0),
  completedAt: null,
  ...over,
});

describe('ResponseStreamBuilder', () => {
  it('emits the full sequence for reasoning then text, numbering every event', () => {
    const b = new ResponseStreamBuilder();
    const frames = [
      ...b.start(record()),
      ...b.reasoningDelta('Thin'),
      ...b.reasoningDelta('king'),
      ...b.textDelta('Hel'),
      ...b.textDelta('lo'),
    ];
    const final = record({ output: b.outputItems('completed'), status: 'completed' });
    frames.push(...b.finish(final));
    expect(frames.map((f) => f.type)).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.reasoning_summary_part.added',
      'response.reasoning_summary_text.delta',
      'response.reasoning_summary_text.delta',
      'response.reasoning_summary_text.done',
      'response.reasoning_summary_part.done',
      'response.output_item.done',
      'response.output_item.added',
      'response.content_part.added',
      'response.output_text.delta',
      'response.output_text.delta',
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.completed',
    ]);
    expect(frames.map((f) => f.data.sequence_number)).toEqual(frames.map((_, i) => i));
    expect(frames.every((f) => f.data.type === f.type)).toBe(true);
    expect(b.reasoningText).toBe('Thinking');
    expect(b.text).toBe('Hello');
    const [reasoningAdded, messageAdded] = frames.filter((f) => f.type === 'response.output_item.added').map((f) => f.data);
    expect(reasoningAdded.output_index).toBe(0);
    expect(messageAdded.output_index).toBe(1);
    expect((messageAdded.item as any).status).toBe('in_progress');
    const done = frames.find((f) => f.type === 'response.output_text.done')!.data;
    expect(done).toMatchObject({ text: 'Hello', output_index: 1, content_index: 0, item_id: (messageAdded.item as any).id });
    const completed = frames[frames.length - 1].data.response as any;
    expect(completed.output.map((o: any) => o.id)).toEqual([b.itemIds.reasoning, b.itemIds.message]);
    expect(completed.output[1].content[0].text).toBe('Hello');
  });

  it('starts with an empty in_progress snapshot without usage', () => {
    const [created] = new ResponseStreamBuilder().start(record({ usage: { input_tokens: 1 } as any, output: [{} as any] }));
    expect(created.data.response).toMatchObject({ status: 'in_progress', output: [], completed_at: null });
    expect(created.data.response).not.toHaveProperty('usage');
  });

  it('ends an incomplete response with response.incomplete and an incomplete message', () => {
    const b = new ResponseStreamBuilder();
    b.start(record());
    b.textDelta('Hi');
    const frames = b.finish(record({ status: 'incomplete' }));
    expect(frames.map((f) => f.type).slice(-2)).toEqual(['response.output_item.done', 'response.incomplete']);
    expect((frames[frames.length - 2].data.item as any).status).toBe('incomplete');
    expect(b.outputItems('incomplete')[0]).toMatchObject({ status: 'incomplete', content: [{ text: 'Hi' }] });
  });

  it('reports a failure as an error event (nested and flat) then response.failed, never a top-level error on normal events', () => {
    const b = new ResponseStreamBuilder();
    const normal = [...b.start(record()), ...b.textDelta('x')];
    expect(normal.every((f) => !('error' in f.data))).toBe(true);
    const frames = b.fail(new ApiError(502, 'upstream broke', 'server_error', 'upstream_error'), record());
    expect(frames.map((f) => f.type)).toEqual(['error', 'response.failed']);
    expect(frames[0].data).toMatchObject({ code: 'upstream_error', message: 'upstream broke', error: { type: 'server_error', code: 'upstream_error' } });
    // The error event keeps the precise code; response.failed has one OpenAI's schema allows.
    expect(frames[1].data.response).toMatchObject({ status: 'failed', error: { code: 'server_error', message: 'upstream broke' } });
    expect(frames.map((f) => f.data.sequence_number)).toEqual([5, 6]);
  });
});
