import { DomainError } from '../../common/errors';
import type { GenerateRequest, PromptMessage, ToolDefinition } from '../provider';
import { definitionTokens, planAnswer, tokenPieces, validatePlan } from './answer-plan';

const weather: ToolDefinition = {
  type: 'function',
  name: 'get_weather',
  description: 'Weather for a city',
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
};
const time: ToolDefinition = { type: 'function', name: 'get_time', description: 'Time in a timezone', parameters: { type: 'object', properties: {} } };
const ask: PromptMessage[] = [{ role: 'user', text: 'What is the weather in Oslo?' }];
const answered: PromptMessage[] = [...ask, { role: 'assistant', text: 'get_weather({"city":"Oslo"})' }, { role: 'tool', text: 'cold' }];

const request = (over: Partial<GenerateRequest>): GenerateRequest => ({
  model: 'm',
  messages: ask,
  newInputStart: 0,
  thinking: 'disabled',
  caching: { enabled: false, prefix: false },
  stream: false,
  ...over,
});

describe('planAnswer', () => {
  it.each([
    ['no tools', {}, 'text'],
    ['auto with a tool', { tools: [weather] }, 'call'],
    ['auto after a tool result', { tools: [weather], messages: answered }, 'text'],
    ['required after a tool result', { tools: [weather], messages: answered, toolChoice: 'required' }, 'call'],
    ['none', { tools: [weather], toolChoice: 'none' }, 'text'],
    ['a hosted tool only', { tools: [{ type: 'web_search' }] }, 'text'],
    ['a hosted tool chosen', { tools: [weather], toolChoice: { type: 'web_search' } }, 'text'],
    ['allowed_tools excluding it', { tools: [weather], toolChoice: { type: 'allowed_tools', mode: 'auto', tools: [{ type: 'function', name: 'other' }] } }, 'text'],
    ['json_schema', { textFormat: { type: 'json_schema', name: 'x', schema: { type: 'object' } } }, 'json'],
    ['json_object', { textFormat: { type: 'json_object' } }, 'json_object'],
    ['json_schema after a tool result', { tools: [weather], messages: answered, textFormat: { type: 'json_schema', name: 'x', schema: { type: 'object' } } }, 'json'],
  ] as const)('%s -> %s', (_name, over, kind) => {
    expect(planAnswer(request(over as Partial<GenerateRequest>)).kind).toBe(kind);
  });

  it('calls the named tool, else the one matching the question', () => {
    expect(planAnswer(request({ tools: [weather, time], toolChoice: { type: 'function', name: 'get_time' } }))).toMatchObject({ name: 'get_time', input: '{}' });
    expect(planAnswer(request({ tools: [time, weather] }))).toMatchObject({ name: 'get_weather', input: '{"city":"Oslo"}', index: 1 });
  });

  it('refuses schemas it cannot answer validly, naming them', () => {
    const param = (over: Partial<GenerateRequest>) => {
      try {
        validatePlan(request(over));
      } catch (err) {
        return (err as DomainError).param;
      }
      return null;
    };
    expect(param({ tools: [{ ...weather, parameters: { type: 'object', properties: { a: { type: 'nope' } } } }] })).toBe('tools[0].parameters');
    expect(param({ tools: [time, { ...weather, parameters: { type: 'object', properties: { c: { type: 'string', pattern: '^[0-9]+$' } }, required: ['c'] } }] })).toBe('tools[1].parameters');
    expect(param({ textFormat: { type: 'json_schema', name: 'x', schema: { type: 'string', format: 'email', maxLength: 3 } } })).toBe('text.format.schema');
    expect(param({ tools: [weather] })).toBeNull();
  });

  it('counts function and custom definitions and a json_schema format, nothing else', () => {
    expect(definitionTokens(request({ tools: [{ type: 'web_search' }] }))).toBe(0);
    expect(definitionTokens(request({ tools: [weather] }))).toBeGreaterThan(definitionTokens(request({ tools: [time] })));
  });

  it('cuts text into whole-token pieces that concatenate to it', () => {
    const text = '{"city":"Zürich 🌍 ☃"}';
    const pieces = tokenPieces(text);
    expect(pieces.join('')).toBe(text);
    expect(pieces.length).toBeGreaterThan(3);
  });
});
