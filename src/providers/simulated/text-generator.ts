import { jsonDigest } from '../json-digest';
import type { GenerateRequest } from '../provider';
import { jsonDigestAsync, promptLength } from '../token-counting';
import { countTokens } from '../tokenizer';

/**
 * Each word is exactly one o200k token as "word", " word", "Word" and " Word" (the spec checks
 * it), and "." is one token. o200k never merges across word/punctuation boundaries, so a text
 * built from n such pieces has exactly n tokens, and every prefix of k pieces has k tokens.
 */
export const VOCABULARY: readonly string[] = (
  'the a and of to in on for with at by from about into over after under between through before ' +
  'near here there when where how all each every more most other some such not only same so very ' +
  'can will just now time year people way day world life hand part place week system program ' +
  'question work number night point home water room area story fact month study book word ' +
  'business side kind head house friend power hour game line end law city name team minute idea ' +
  'body information back level office door health person art history result change reason ' +
  'research moment air teacher force education age music market sense plan college interest ' +
  'experience effect use class control care field role rate heart show leader light voice mind ' +
  'price report view town road value building action model season player record paper space ' +
  'ground form event center site project activity star table need cost figure street image stage ' +
  'red blue green small large big long short old new good great high low little young early late ' +
  'important public real best better sure free strong whole clear open simple easy hard full ' +
  'ready happy final main local human common recent single current similar able general quick ' +
  'slow bright dark warm cold soft quiet river forest garden window chair bread apple stone cloud ' +
  'rain wind fire snow sun moon tree flower bird fish horse bridge train ship letter song dance ' +
  'build make take give find think know see come go look want tell ask feel try keep begin help ' +
  'talk turn start hear play run move like live hold bring write learn lead watch follow create ' +
  'read grow walk offer remember consider wait serve send stay reach pass return hope carry ' +
  'receive support cover catch draw choose'
).split(' ');

/** mulberry32: a small, fast, seeded PRNG returning uint32 values. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return (t ^ (t >>> 14)) >>> 0;
  };
}

/** A second, independent uint32 derived from a seed (murmur3 finaliser). */
export function deriveSeed(seed: number): number {
  let h = (seed ^ 0x9e3779b9) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * A uint32 identifying what the model is asked. Leaves out stream and maxOutputTokens on purpose:
 * the same request streamed or with another cap must produce the same text prefix.
 */
export function seedOf(request: GenerateRequest): number {
  return seedFromDigest(jsonDigest(seedKey(request)));
}

/** seedOf, hashed off the event loop for a large prompt. */
export async function seedOfOffLoop(request: GenerateRequest): Promise<number> {
  return seedFromDigest(await jsonDigestAsync(seedKey(request), promptLength(request.messages)));
}

const seedKey = (request: GenerateRequest) => [
  request.model,
  request.messages.map((m) => [m.role, m.text]),
  request.temperature ?? null,
  request.topP ?? null,
  request.thinking,
];

const seedFromDigest = (hex: string) => Number.parseInt(hex.slice(0, 8), 16);

const capitalise = (word: string) => word[0].toUpperCase() + word.slice(1);

/**
 * The first `take` (default all) one-token pieces of the deterministic `n`-token text for `seed`:
 * sentences of 3..12 words ending with '.', the last one sized to end exactly at n tokens.
 * Stopping early gives exactly a prefix of the full text, so a capped answer is a prefix.
 */
export function generateTokens(seed: number, n: number, take = n): string[] {
  const limit = Math.max(0, Math.min(n, take));
  const next = mulberry32(seed);
  const word = () => VOCABULARY[next() % VOCABULARY.length];
  const pieces: string[] = [];
  while (pieces.length < limit) {
    const remaining = n - pieces.length;
    // Words in this sentence: either it ends the text exactly (a lone word without '.' when one
    // token is left), or it leaves >= 4 tokens for the next one.
    const words = remaining <= 13 ? remaining - 1 : 3 + (next() % Math.min(10, remaining - 7));
    const first = capitalise(word());
    pieces.push(pieces.length === 0 ? first : ` ${first}`);
    for (let i = 1; i < words; i++) pieces.push(` ${word()}`);
    if (words > 0) pieces.push('.');
  }
  pieces.length = limit;
  const counted = countTokens(pieces.join(''));
  if (counted !== limit) {
    throw new Error(`simulated text generator: expected ${limit} tokens, got ${counted}`);
  }
  return pieces;
}

/** The deterministic text of exactly `n` tokens for `seed`. */
export function generateText(seed: number, n: number): string {
  return generateTokens(seed, n).join('');
}
