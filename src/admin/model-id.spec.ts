import { isKnownProvider } from './known-providers';
import { isModelId } from './model-id';

describe('isModelId', () => {
  it.each(['seed-1-6-250915', 'gpt-4o', 'org/model:v1.2_x', 'a', 'm'.repeat(128)])('accepts %s', (id) => expect(isModelId(id)).toBe(true));
  it.each(['', 'm'.repeat(129), 'bad model', 'bad!model', 'ümlaut', 'a\nb', 'a?b', '=cmd', '+1', '-x', '@x', '.x', '_x', ':x', '/x'])('refuses %j', (id) => expect(isModelId(id)).toBe(false));
});

describe('isKnownProvider', () => {
  it('knows the built-in simulated provider only', () => {
    expect(isKnownProvider('simulated')).toBe(true);
    expect(isKnownProvider('openai')).toBe(false);
    expect(isKnownProvider('Simulated')).toBe(false);
  });
});
