import { countTokens } from 'gpt-tokenizer';
import { promptTokenBound } from './openai-compatible.provider';

describe('promptTokenBound (the reservation of an upstream request)', () => {
  const messages = [{ role: 'user' as const, text: 'List the files.' }];
  const reasoning = { type: 'reasoning', id: 'rs_1', summary: [], encrypted_content: 'Zm9v'.repeat(2000) };
  const tool = {
    type: 'function',
    name: 'shell',
    description: 'Runs a shell command and returns its output. '.repeat(20),
    parameters: { type: 'object', properties: { command: { type: 'array', items: { type: 'string' } } }, required: ['command'] },
  };
  const schema = { type: 'object', properties: Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`field_${i}`, { type: 'string', description: `Field ${i}` }])) };

  it('covers what goes upstream besides the messages: replayed items, tool definitions, the text format', () => {
    const plain = promptTokenBound({ messages });
    const full = promptTokenBound({
      messages,
      items: [{ role: 'user', content: 'List the files.' }, reasoning],
      passThrough: { tools: [tool], text: { format: { type: 'json_schema', name: 'out', schema } } },
    });
    const extra = [JSON.stringify(reasoning), JSON.stringify(tool), JSON.stringify(schema)].reduce((n, s) => n + countTokens(s), 0);
    expect(full - plain).toBeGreaterThanOrEqual(extra);
  });
});
