import { decode, encode } from 'gpt-tokenizer';
import type { PromptMessage } from './provider';
import {
  countTokens,
  encodeTokens,
  MESSAGE_OVERHEAD_TOKENS,
  messageTokens,
  promptTokens,
  truncateToTokens,
} from './tokenizer';

describe('tokenizer', () => {
  describe('countTokens', () => {
    it.each([
      ['', 0],
      ['hello world', 2],
      ['The quick brown fox jumps over the lazy dog.', 10],
      ['user\nHello, how are you?', 8],
      ['Tollgate meters every token.', 7],
    ])('counts %j as %i o200k tokens', (text, expected) => {
      expect(countTokens(text)).toBe(expected);
      expect(encodeTokens(text)).toHaveLength(expected);
    });

    it('treats special-token strings in user text as plain text', () => {
      expect(() => encode('<|endoftext|>')).toThrow();
      expect(countTokens('<|endoftext|>')).toBe(7);
      expect(truncateToTokens('a <|endoftext|> b', 3)).toBe('a <|');
    });
  });

  describe('truncateToTokens', () => {
    const text = 'The quick brown fox jumps over the lazy dog.';

    it('returns the prefix of exactly n tokens when the text is longer', () => {
      for (let n = 1; n < 10; n++) {
        const prefix = truncateToTokens(text, n);
        expect(text.startsWith(prefix)).toBe(true);
        expect(countTokens(prefix)).toBe(n);
        expect(prefix).toBe(decode(encode(text).slice(0, n)));
      }
      expect(truncateToTokens(text, 3)).toBe('The quick brown');
    });

    it('returns the whole text when it fits, and "" for n <= 0', () => {
      expect(truncateToTokens(text, 10)).toBe(text);
      expect(truncateToTokens(text, 1000)).toBe(text);
      expect(truncateToTokens(text, 0)).toBe('');
      expect(truncateToTokens(text, -3)).toBe('');
      expect(truncateToTokens('', 5)).toBe('');
    });

    it('never splits a multi-byte character or exceeds n', () => {
      // Rare characters take several byte-level tokens each; slices can end mid-character.
      const odd = '𝔘𝔫𝔦𝔠𝔬𝔡𝔢 🫠🫠 ꙮ and some words';
      const total = countTokens(odd);
      for (let n = 0; n <= total; n++) {
        const prefix = truncateToTokens(odd, n);
        expect(odd.startsWith(prefix)).toBe(true);
        expect(prefix).not.toContain('\uFFFD');
        expect(countTokens(prefix)).toBeLessThanOrEqual(n);
      }
      expect(truncateToTokens(odd, total)).toBe(odd);
      expect(truncateToTokens(odd, 4)).toBe('𝔘');
    });
  });

  describe('messages', () => {
    const system: PromptMessage = { role: 'system', text: 'You are a helpful assistant.' };
    const user: PromptMessage = { role: 'user', text: 'Hello, how are you?' };
    const assistant: PromptMessage = { role: 'assistant', text: 'Fine, thanks.' };

    it('counts role, newline and text plus the framing overhead', () => {
      expect(MESSAGE_OVERHEAD_TOKENS).toBe(3);
      expect(messageTokens(user)).toBe(8 + 3);
      expect(messageTokens(system)).toBe(countTokens('system\nYou are a helpful assistant.') + 3);
      expect(messageTokens({ role: 'developer', text: '' })).toBe(countTokens('developer\n') + 3);
    });

    it('is additive: a prompt counts the sum of its messages, any prefix sums its messages', () => {
      const prompt = [system, user, assistant, { role: 'user' as const, text: 'And then?' }];
      const each = prompt.map(messageTokens);
      expect(promptTokens(prompt)).toBe(each.reduce((a, b) => a + b, 0));
      for (let k = 0; k <= prompt.length; k++) {
        expect(promptTokens(prompt.slice(0, k))).toBe(each.slice(0, k).reduce((a, b) => a + b, 0));
      }
      expect(promptTokens([])).toBe(0);
      // Not the tokens of the concatenated text: framing is per message.
      expect(promptTokens([user, user])).toBe(2 * messageTokens(user));
    });
  });
});
