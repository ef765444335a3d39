import { DomainError } from '../common/errors';
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
    [{ model: 'm', messages: [], tools: [{}] }, 'tools[0].type'],
    [{ model: 'm', messages: [], tools: [{ type: 'function' }] }, 'tools[0].function'],
    [{ model: 'm', messages: [], response_format: { type: 'yaml' } }, 'response_format.type'],
    [{ model: 'm', messages: [], response_format: { type: 'json_schema' } }, 'response_format.json_schema'],
    [{ model: 'm', messages: [{ role: 'user', content: 'x' }, { role: 'tool', content: 'r' }] }, 'messages[1].tool_call_id'],
    [{ model: 'm', messages: [{ role: 'assistant', content: null, tool_calls: [{ id: 'c', type: 'function', function: { name: 'f' } }] }] }, 'messages[0].tool_calls[0].function.arguments'],
  ])('refuses %p naming %s', (dto, param) => {
    try {
      toResponsesRequest(dto as any);
      throw new Error('accepted');
    } catch (err) {
      expect(err).toBeInstanceOf(DomainError);
      expect((err as DomainError).param).toBe(param);
    }
  });

  it('maps tools, tool_choice, response_format and a tool loop onto the Responses request', () => {
    const parameters = { type: 'object', properties: { q: { type: 'string' } } };
    const dto = toResponsesRequest({
      model: 'm',
      messages: [
        { role: 'user', content: 'find it' },
        { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'search', arguments: '{"q":"it"}' } }] },
        { role: 'tool', tool_call_id: 'call_1', content: [{ type: 'text', text: 'found' }] },
      ],
      tools: [{ type: 'function', function: { name: 'search', description: 'Search', parameters, strict: true } }],
      tool_choice: { type: 'function', function: { name: 'search' } },
      response_format: { type: 'json_schema', json_schema: { name: 'r', schema: parameters, strict: true } },
      verbosity: 'low',
      prompt_cache_key: 'k',
    } as any);
    expect(dto.tools).toEqual([{ type: 'function', name: 'search', description: 'Search', parameters, strict: true }]);
    expect(dto.tool_choice).toEqual({ type: 'function', name: 'search' });
    expect(dto.text).toEqual({ format: { type: 'json_schema', name: 'r', schema: parameters, strict: true }, verbosity: 'low' });
    expect(dto.prompt_cache_key).toBe('k');
    expect((dto.messages as any[]).slice(1)).toEqual([
      { type: 'function_call', call_id: 'call_1', name: 'search', arguments: '{"q":"it"}' },
      { type: 'function_call_output', call_id: 'call_1', output: 'found' },
    ]);
  });

  it('answers function calls as tool_calls with finish_reason tool_calls, and streams them as tool_calls deltas', () => {
    const call = { type: 'function_call', id: 'fc_1', call_id: 'call_1', name: 'search', arguments: '{"q":"it"}', status: 'completed' };
    const c = toChatCompletion(response({ output: [call] }));
    expect(c.choices[0]).toMatchObject({
      finish_reason: 'tool_calls',
      message: { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'search', arguments: '{"q":"it"}' } }] },
    });
    const chunker = new ChatChunker(false);
    const frame = (type: string, data: Record<string, unknown>) => ({ type, data: { type, ...data } });
    const chunks = chunker.chunks([
      frame('response.created', { response: response({ output: [] }) }),
      frame('response.output_item.added', { output_index: 0, item: { ...call, arguments: '' } }),
      frame('response.function_call_arguments.delta', { item_id: 'fc_1', output_index: 0, delta: '{"q":' }),
      frame('response.function_call_arguments.delta', { item_id: 'fc_1', output_index: 0, delta: '"it"}' }),
      frame('response.completed', { response: response({ output: [call] }) }),
    ]) as any[];
    expect(chunks.slice(1).map((ch) => [ch.choices[0].delta, ch.choices[0].finish_reason])).toEqual([
      [{ tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: 'search', arguments: '' } }] }, null],
      [{ tool_calls: [{ index: 0, function: { arguments: '{"q":' } }] }, null],
      [{ tool_calls: [{ index: 0, function: { arguments: '"it"}' } }] }, null],
      [{}, 'tool_calls'],
    ]);
  });

  it('streams a custom tool call without a chunk type (the chunk schema knows only function calls)', () => {
    const call = { type: 'custom_tool_call', id: 'ctc_1', call_id: 'call_2', name: 'sql', input: 'select 1' };
    const chunker = new ChatChunker(false);
    const frame = (type: string, data: Record<string, unknown>) => ({ type, data: { type, ...data } });
    const chunks = chunker.chunks([
      frame('response.created', { response: response({ output: [] }) }),
      frame('response.output_item.added', { output_index: 0, item: { ...call, input: '' } }),
      frame('response.custom_tool_call_input.delta', { item_id: 'ctc_1', output_index: 0, delta: 'select 1' }),
    ]) as any[];
    expect(chunks.slice(1).map((ch) => ch.choices[0].delta.tool_calls[0])).toEqual([
      { index: 0, id: 'call_2', custom: { name: 'sql', input: '' } },
      { index: 0, custom: { input: 'select 1' } },
    ]);
    expect(toChatCompletion(response({ output: [call] })).choices[0].message.tool_calls).toEqual([{ id: 'call_2', type: 'custom', custom: { name: 'sql', input: 'select 1' } }]);
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
