import { DomainError } from '../common/errors';
import { buildPrompt, InputMessageItem, normalizeInput, OutputItem } from './input-items';

const paramOf = (fn: () => unknown): string | null => {
  try {
    fn();
  } catch (err) {
    if (err instanceof DomainError) return err.param;
    throw err;
  }
  throw new Error('did not throw');
};

describe('normalizeInput', () => {
  it('turns a string into one user message with an id', () => {
    const [item, ...rest] = normalizeInput('hello', undefined);
    expect(rest).toEqual([]);
    expect(item).toMatchObject({ type: 'message', role: 'user', content: [{ type: 'input_text', text: 'hello' }] });
    expect(item.id).toMatch(/^msg_[0-9a-f]{48}$/);
  });

  it('accepts easy messages, typed messages and every text role', () => {
    const items = normalizeInput(
      [
        { role: 'system', content: 'sys' },
        { role: 'developer', content: [{ type: 'input_text', text: 'dev' }] },
        { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'a' }, { type: 'input_text', text: 'b' }] },
        { role: 'assistant', content: [{ type: 'output_text', text: 'ans' }, { type: 'refusal', refusal: 'no' }] },
        { role: 'assistant', content: 'plain answer' },
      ],
      undefined,
    );
    expect((items as InputMessageItem[]).map((i) => [i.role, i.content.map((c) => `${c.type}:${c.text}`)])).toEqual([
      ['system', ['input_text:sys']],
      ['developer', ['input_text:dev']],
      ['user', ['input_text:a', 'input_text:b']],
      ['assistant', ['output_text:ans', 'refusal:no']],
      ['assistant', ['output_text:plain answer']],
    ]);
  });

  it('keeps an id the client gave, and replayed reasoning items as sent (for upstreams)', () => {
    const reasoning = { type: 'reasoning', id: 'rs_1', summary: [], encrypted_content: 'gAAA' };
    const items = normalizeInput([reasoning, { id: 'msg_mine', role: 'user', content: 'x' }], undefined);
    expect(items.map((i) => i.id)).toEqual(['rs_1', 'msg_mine']);
    expect(items[0]).toEqual(reasoning);
  });

  it('reads the `messages` alias', () => {
    expect((normalizeInput(undefined, [{ role: 'user', content: 'hi' }])[0] as InputMessageItem).content[0].text).toBe('hi');
    expect((normalizeInput(null, 'hi')[0] as InputMessageItem).content[0].text).toBe('hi');
  });

  it.each([
    ['missing input', undefined, undefined, 'input'],
    ['both input and messages', 'a', 'b', 'messages'],
    ['empty string', '', undefined, 'input'],
    ['a number', 42, undefined, 'input'],
    ['an object', { role: 'user' }, undefined, 'input'],
    ['empty array', [], undefined, 'input'],
    ['only reasoning', [{ type: 'reasoning', summary: [] }], undefined, 'input'],
    ['item not an object', ['x'], undefined, 'input[0]'],
    ['unsupported item type', [{ type: 'telepathy_call' }], undefined, 'input[0].type'],
    ['function_call without call_id', [{ type: 'function_call', name: 'f', arguments: '{}' }], undefined, 'input[0].call_id'],
    ['function_call_output without output', [{ type: 'function_call_output', call_id: 'c' }], undefined, 'input[0].output'],
    ['item_reference without id', [{ type: 'item_reference' }], undefined, 'input[0].id'],
    ['unknown role', [{ role: 'tool', content: 'x' }], undefined, 'input[0].role'],
    ['content missing', [{ role: 'user' }], undefined, 'input[0].content'],
    ['content empty', [{ role: 'user', content: [] }], undefined, 'input[0].content'],
    ['part not an object', [{ role: 'user', content: ['x'] }], undefined, 'input[0].content[0]'],
    ['image part', [{ role: 'user', content: [{ type: 'input_image', image_url: 'x' }] }], undefined, 'input[0].content[0].type'],
    ['assistant input_text', [{ role: 'assistant', content: [{ type: 'input_text', text: 'x' }] }], undefined, 'input[0].content[0].type'],
    ['user output_text', [{ role: 'user', content: [{ type: 'output_text', text: 'x' }] }], undefined, 'input[0].content[0].type'],
    ['text not a string', [{ role: 'user', content: [{ type: 'input_text', text: 5 }] }], undefined, 'input[0].content[0].text'],
    ['refusal missing', [{ role: 'assistant', content: [{ type: 'refusal' }] }], undefined, 'input[0].content[0].refusal'],
    ['second item', [{ role: 'user', content: 'ok' }, { role: 'user', content: 7 }], undefined, 'input[1].content'],
    ['messages alias path', undefined, [{ role: 'bot', content: 'x' }], 'messages[0].role'],
  ])('refuses %s, naming %s', (_name, input, messages, param) => {
    expect(paramOf(() => normalizeInput(input, messages))).toBe(param);
  });
});

describe('buildPrompt', () => {
  const msg = (role: InputMessageItem['role'], text: string): InputMessageItem => ({
    type: 'message',
    id: `msg_${text}`,
    role,
    content: [{ type: role === 'assistant' ? 'output_text' : 'input_text', text }],
  });
  const answer = (text: string): OutputItem => ({
    type: 'message',
    id: `msg_${text}`,
    status: 'completed',
    role: 'assistant',
    content: [{ type: 'output_text', text, annotations: [] }],
  });
  const thought: OutputItem = { type: 'reasoning', id: 'rs_1', summary: [{ type: 'summary_text', text: 'hmm' }] };

  it('orders instructions, earlier turns (input then answer, no reasoning), then the new input', () => {
    const { messages, newInputStart } = buildPrompt(
      'Be brief.',
      [
        { input: [msg('user', 'q1')], output: [thought, answer('a1')] },
        { input: [msg('user', 'q2')], output: [answer('a2')] },
      ],
      [msg('user', 'q3')],
    );
    expect(messages).toEqual([
      { role: 'system', text: 'Be brief.' },
      { role: 'user', text: 'q1' },
      { role: 'assistant', text: 'a1' },
      { role: 'user', text: 'q2' },
      { role: 'assistant', text: 'a2' },
      { role: 'user', text: 'q3' },
    ]);
    expect(newInputStart).toBe(5);
  });

  it('leaves out empty instructions, and keeps turns that produced no answer (prefix caches)', () => {
    const { messages, newInputStart } = buildPrompt(null, [{ input: [msg('system', 'ctx')], output: [] }], [msg('user', 'q')]);
    expect(messages).toEqual([
      { role: 'system', text: 'ctx' },
      { role: 'user', text: 'q' },
    ]);
    expect(newInputStart).toBe(1);
    expect(buildPrompt('', [], [msg('user', 'q')]).messages).toHaveLength(1);
  });

  it('joins the text parts of a message with newlines', () => {
    const two: InputMessageItem = { type: 'message', id: 'm', role: 'user', content: [{ type: 'input_text', text: 'a' }, { type: 'input_text', text: 'b' }] };
    expect(buildPrompt(undefined, [], [two]).messages[0].text).toBe('a\nb');
  });

  it('flattens a tool loop for the model, and gives upstreams the items (history without our ids)', () => {
    const call: OutputItem = { type: 'function_call', id: 'fc_1', call_id: 'call_1', name: 'get_weather', arguments: '{"city":"Oslo"}', status: 'completed' };
    const encrypted = { type: 'reasoning', id: 'rs_2', summary: [], encrypted_content: 'blob' };
    const result = { type: 'function_call_output', call_id: 'call_1', output: 'cold' };
    const { messages, items, newInputStart } = buildPrompt('Be brief.', [{ input: [msg('user', 'Weather?')], output: [thought, call] }], [encrypted, result]);
    expect(messages).toEqual([
      { role: 'system', text: 'Be brief.' },
      { role: 'user', text: 'Weather?' },
      { role: 'assistant', text: 'get_weather({"city":"Oslo"})' },
      { role: 'tool', text: 'cold' },
    ]);
    expect(newInputStart).toBe(3);
    expect(items).toEqual([
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Weather?' },
      { type: 'function_call', call_id: 'call_1', name: 'get_weather', arguments: '{"city":"Oslo"}' },
      encrypted,
      result,
    ]);
  });
});
