import type { GenerateRequest } from '../provider';
import { countTokens, truncateToTokens } from '../tokenizer';
import {
  deriveSeed,
  generateText,
  generateTokens,
  mulberry32,
  seedOf,
  VOCABULARY,
} from './text-generator';

const request = (over: Partial<GenerateRequest> = {}): GenerateRequest => ({
  model: 'sim-1',
  messages: [{ role: 'user', text: 'Tell me something.' }],
  newInputStart: 0,
  thinking: 'disabled',
  caching: { enabled: false, prefix: false },
  stream: false,
  ...over,
});

describe('text generator', () => {
  it('has a vocabulary of distinct words that are one token in every position', () => {
    expect(VOCABULARY.length).toBeGreaterThanOrEqual(200);
    expect(new Set(VOCABULARY).size).toBe(VOCABULARY.length);
    for (const word of VOCABULARY) {
      expect(word).toMatch(/^[a-z]+$/);
      const Word = word[0].toUpperCase() + word.slice(1);
      for (const form of [word, ` ${word}`, Word, ` ${Word}`]) expect(countTokens(form)).toBe(1);
    }
    expect(countTokens('.')).toBe(1);
  });

  it('mulberry32 is deterministic per seed', () => {
    const a = mulberry32(42);
    const b = mulberry32(42);
    const c = mulberry32(43);
    const seqA = Array.from({ length: 5 }, a);
    expect(Array.from({ length: 5 }, b)).toEqual(seqA);
    expect(Array.from({ length: 5 }, c)).not.toEqual(seqA);
    for (const x of seqA) expect(x >>> 0).toBe(x);
    expect(deriveSeed(42)).toBe(deriveSeed(42));
    expect(deriveSeed(42)).not.toBe(42);
    expect(deriveSeed(42)).not.toBe(deriveSeed(43));
  });

  it('produces exactly n tokens for every n in 0..500 and many seeds', () => {
    for (let n = 0; n <= 500; n++) {
      const seed = (n * 2654435761) >>> 0;
      const pieces = generateTokens(seed, n);
      const text = pieces.join('');
      expect(pieces).toHaveLength(n);
      expect(countTokens(text)).toBe(n);
      expect(generateText(seed, n)).toBe(text);
    }
    for (let seed = 0; seed < 200; seed++) {
      const n = 1 + (seed % 64);
      expect(countTokens(generateText(seed, n))).toBe(n);
    }
    expect(countTokens(generateText(7, 5000))).toBe(5000);
  });

  it('forms sentences: capitalised, ending with "." (a lone word when n is 1)', () => {
    expect(generateText(1, 0)).toBe('');
    expect(generateText(1, 1)).toMatch(/^[A-Z][a-z]*$/);
    for (let n = 2; n < 80; n++) {
      const text = generateText(n, n);
      expect(text).toMatch(/^[A-Z][a-z]*( [a-z]+)*\.( [A-Z][a-z]*( [a-z]+)*\.)*$/);
    }
    const sentences = generateText(9, 300).split('. ');
    expect(sentences.length).toBeGreaterThan(20);
    for (const s of sentences) expect(s.replace(/\.$/, '').split(' ').length).toBeLessThanOrEqual(12);
  });

  it('is deterministic, differs per seed, and "take" gives an exact prefix', () => {
    expect(generateText(123, 40)).toBe(generateText(123, 40));
    expect(generateText(123, 40)).not.toBe(generateText(124, 40));
    const full = generateTokens(5, 60);
    for (const take of [0, 1, 7, 13, 30, 59, 60, 100]) {
      const part = generateTokens(5, 60, take);
      expect(part).toEqual(full.slice(0, take));
      const prefix = part.join('');
      expect(countTokens(prefix)).toBe(Math.min(take, 60));
      expect(prefix).toBe(truncateToTokens(full.join(''), take));
    }
  });

  describe('seedOf', () => {
    const base = seedOf(request());

    it('is a deterministic uint32', () => {
      expect(seedOf(request())).toBe(base);
      expect(base >>> 0).toBe(base);
    });

    it('depends on model, messages, temperature, top_p and thinking', () => {
      const variants: Partial<GenerateRequest>[] = [
        { model: 'sim-2' },
        { messages: [{ role: 'user', text: 'Tell me something!' }] },
        { messages: [{ role: 'system', text: 'Tell me something.' }] },
        { temperature: 0.5 },
        { topP: 0.9 },
        { thinking: 'enabled' },
        { thinking: 'auto' },
      ];
      const seeds = variants.map((v) => seedOf(request(v)));
      for (const s of seeds) expect(s).not.toBe(base);
      expect(new Set(seeds).size).toBe(seeds.length);
    });

    it('ignores stream, max_output_tokens, caching, previous cache and upstream model', () => {
      expect(seedOf(request({ stream: true }))).toBe(base);
      expect(seedOf(request({ maxOutputTokens: 5 }))).toBe(base);
      expect(seedOf(request({ caching: { enabled: true, prefix: false } }))).toBe(base);
      expect(seedOf(request({ previousCache: { messages: 1, tokens: 9, fingerprint: 'x' } }))).toBe(
        base,
      );
      expect(seedOf(request({ upstreamModel: 'gpt-x', newInputStart: 1 }))).toBe(base);
    });
  });
});
