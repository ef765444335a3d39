import type { CachingOptions, ContextCache, PromptMessage } from '../provider';
import { messageTokens, promptTokens } from '../tokenizer';
import { cachedTokensFor, cacheLeft, fingerprint } from './caching';

const on: CachingOptions = { enabled: true, prefix: false };
const off: CachingOptions = { enabled: false, prefix: false };
const prefix: CachingOptions = { enabled: true, prefix: true };

const turn1: PromptMessage[] = [
  { role: 'system', text: 'Be brief.' },
  { role: 'user', text: 'Name a colour.' },
];

describe('caching rules', () => {
  describe('fingerprint', () => {
    it('is a stable sha256 hex of roles and texts in order', () => {
      const fp = fingerprint(turn1);
      expect(fp).toMatch(/^[0-9a-f]{64}$/);
      expect(fingerprint(turn1.map((m) => ({ ...m })))).toBe(fp);
      // Extra properties or key order do not matter; role, text and order do.
      expect(fingerprint([{ text: 'Be brief.', role: 'system' }, turn1[1]])).toBe(fp);
      expect(fingerprint([turn1[1], turn1[0]])).not.toBe(fp);
      expect(fingerprint([{ ...turn1[0], role: 'developer' }, turn1[1]])).not.toBe(fp);
      expect(fingerprint([turn1[0], { ...turn1[1], text: 'Name a colour!' }])).not.toBe(fp);
      expect(fingerprint(turn1.slice(0, 1))).not.toBe(fp);
      expect(fingerprint([])).not.toBe(fp);
    });

    it('does not confuse message boundaries', () => {
      const a: PromptMessage[] = [{ role: 'user', text: 'ab' }, { role: 'user', text: 'c' }];
      const b: PromptMessage[] = [{ role: 'user', text: 'a' }, { role: 'user', text: 'bc' }];
      expect(fingerprint(a)).not.toBe(fingerprint(b));
    });
  });

  describe('cacheLeft', () => {
    const tokens = promptTokens(turn1);

    it('is null without caching', async () => {
      expect(await cacheLeft(turn1, tokens, off, 'Blue.')).toBeNull();
    });

    it('caches the prompt plus the answer for a session cache', async () => {
      const answer: PromptMessage = { role: 'assistant', text: 'Blue.' };
      expect(await cacheLeft(turn1, tokens, on, 'Blue.')).toEqual({
        messages: 3,
        tokens: tokens + messageTokens(answer),
        fingerprint: fingerprint([...turn1, answer]),
      });
    });

    it('caches only the prompt when there is no answer text, or for a prefix cache', async () => {
      const promptOnly = { messages: 2, tokens, fingerprint: fingerprint(turn1) };
      expect(await cacheLeft(turn1, tokens, on, null)).toEqual(promptOnly);
      expect(await cacheLeft(turn1, tokens, prefix, null)).toEqual(promptOnly);
      expect(await cacheLeft(turn1, tokens, prefix, 'ignored')).toEqual(promptOnly);
    });
  });

  describe('cachedTokensFor', () => {
    let left: ContextCache;
    beforeAll(async () => {
      left = (await cacheLeft(turn1, promptTokens(turn1), on, 'Blue.'))!;
    });
    const turn2: PromptMessage[] = [
      ...turn1,
      { role: 'assistant', text: 'Blue.' },
      { role: 'user', text: 'Another one.' },
    ];
    const input2 = promptTokens(turn2);

    it('hits when the leading messages match the previous cache', async () => {
      expect(await cachedTokensFor(turn2, input2, on, left)).toBe(left.tokens);
      expect(left.tokens).toBeLessThan(input2);
      expect(left.tokens).toBe(promptTokens(turn2.slice(0, 3)));
      // A prefix-cache request can hit too.
      expect(await cachedTokensFor(turn2, input2, prefix, left)).toBe(left.tokens);
      // The exact same context (nothing new) is fully cached.
      const same = turn2.slice(0, 3);
      expect(await cachedTokensFor(same, promptTokens(same), on, left)).toBe(promptTokens(same));
    });

    it('misses without caching or without a previous cache', async () => {
      expect(await cachedTokensFor(turn2, input2, off, left)).toBe(0);
      expect(await cachedTokensFor(turn2, input2, on, null)).toBe(0);
      expect(await cachedTokensFor(turn2, input2, on, undefined)).toBe(0);
    });

    it('misses when the prefix differs (other instructions, edited answer, too short)', async () => {
      const otherInstructions = [{ role: 'system' as const, text: 'Be verbose.' }, ...turn2.slice(1)];
      expect(await cachedTokensFor(otherInstructions, promptTokens(otherInstructions), on, left)).toBe(0);
      const editedAnswer = [...turn1, { role: 'assistant' as const, text: 'Red.' }, turn2[3]];
      expect(await cachedTokensFor(editedAnswer, promptTokens(editedAnswer), on, left)).toBe(0);
      expect(await cachedTokensFor(turn1, promptTokens(turn1), on, left)).toBe(0);
      expect(await cachedTokensFor(turn2, input2, on, { ...left, fingerprint: 'f'.repeat(64) })).toBe(0);
    });
  });
});
