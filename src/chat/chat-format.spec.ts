import { ApiError } from '../common/errors';
import { ChatChunker, chatId, toChatCompletion, toResponsesRequest } from './chat-format';

const response = (over: Record<string, unknown> = {}) =>
  ({
    id: 'resp_abc',
    created_at: 100,
    model: 'm',
    status: 'completed',
    incomplete_details: null,
    service_tier: null,
    output: [
      { type: 'reasoning', id: 'rs_1', summary: [{ type: 'summary_text', text: 'hmm' }] },
      { type: 'message', id: 'msg_1', status: 'completed', role: 'assistant', content: [{ type: 'output_text', text: 'Hi!', annotations: [] }] },
    ],
    usage: { input_tokens: 10, input_tokens_details: { cached_tokens: 4 }, output_tokens: 7, output_tokens_details: { reasoning_tokens: 3 }, total_tokens: 17 },
    ...over,
  }) as any;

describe('chat format', () => {
  it('maps a chat request onto an unstored Responses request', () => {
    const dto = toResponsesRequest({
      model: 'm',
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'a' }] },
        { role: 'assistant', content: [{ type: 'text', text: 'b' }] },
      ],
      max_tokens: 5,
      max_completion_tokens: 9,
      reasoning_effort: 'low',
    } as any);
    expect(dto.store).toBe(false);
    expect(dto.max_output_tokens).toBe(9);
    expect(dto.reasoning).toEqual({ effort: 'low' });
    expect((dto.messages as any)[0].content[0].type).toBe('input_text');
    expect((dto.messages as any)[1].content[0].type).toBe('output_text');
  });

  it.each([
    [{ model: 'm' }, 'messages'],
    [{ model: 'm', messages: [], tools: [{}] }, 'tools'],
    [{ model: 'm', messages: [], response_format: { type: 'json_object' } }, 'response_format.type'],
  ])('refuses %p naming %s', (dto, param) => {
    try {
      toResponsesRequest(dto as any);
      throw new Error('accepted');
    } catch (err) {
      expect(err).toBeInstanceOf(ApiError);
      expect((err as ApiError).param).toBe(param);
    }
  });

  it('builds a chat.completion with usage details and reasoning_content', () => {
    const c = toChatCompletion(response());
    expect(c).toMatchObject({
      id: 'chatcmpl-abc',
      object: 'chat.completion',
      created: 100,
      choices: [{ index: 0, message: { role: 'assistant', content: 'Hi!', reasoning_content: 'hmm' }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 10, completion_tokens: 7, total_tokens: 17, prompt_tokens_details: { cached_tokens: 4 }, completion_tokens_details: { reasoning_tokens: 3 } },
    });
    expect(toChatCompletion(response({ status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' } })).choices[0].finish_reason).toBe('length');
    expect(chatId('resp_xyz')).toBe('chatcmpl-xyz');
  });

  it('turns stream frames into chunks, with a usage chunk only when asked', () => {
    const frames = [
      { type: 'response.created', data: { response: response() } },
      { type: 'response.in_progress', data: {} },
      { type: 'response.reasoning_summary_text.delta', data: { delta: 'h' } },
      { type: 'response.output_text.delta', data: { delta: 'Hi' } },
      { type: 'response.output_text.done', data: {} },
      { type: 'response.completed', data: { response: response() } },
    ];
    const withUsage = new ChatChunker(true).chunks(frames) as any[];
    expect(withUsage.map((c) => c.choices[0]?.delta ?? 'usage')).toEqual([{ role: 'assistant', content: '' }, { reasoning_content: 'h' }, { content: 'Hi' }, {}, 'usage']);
    expect(withUsage[3].choices[0].finish_reason).toBe('stop');
    expect(withUsage[4]).toMatchObject({ choices: [], usage: { completion_tokens: 7 } });
    expect(withUsage.every((c) => c.id === 'chatcmpl-abc' && c.object === 'chat.completion.chunk')).toBe(true);
    expect(new ChatChunker(false).chunks(frames)).toHaveLength(4);
  });
});
