import type * as GptTokenizer from 'gpt-tokenizer';
import type { PromptMessage } from './provider';
import { countingSegments } from './token-pieces';

let gpt: typeof GptTokenizer | undefined;

/** The o200k tables (some 60 MB) load on first use: a process that never counts never holds them. */
function lib(): typeof GptTokenizer {
  return (gpt ??= require('gpt-tokenizer') as typeof GptTokenizer);
}

/** Special-token strings in user text (e.g. "<|endoftext|>") are plain text, never an error. */
const PLAIN_TEXT = { disallowedSpecial: new Set<string>() };

/** Per-message framing overhead added to every prompt message. */
export const MESSAGE_OVERHEAD_TOKENS = 3;

/** The most bytes (so also UTF-16 units) one o200k token stands for: 128 spaces. */
export const MAX_TOKEN_BYTES = 128;

/** Tokens of `text` in the o200k encoding, in time linear in its length (see countingSegments). */
export function countTokens(text: string): number {
  let total = 0;
  for (const segment of countingSegments(text)) total += lib().countTokens(segment, PLAIN_TEXT);
  return total;
}

export function encodeTokens(text: string): number[] {
  return countingSegments(text).flatMap((segment) => lib().encode(segment, PLAIN_TEXT));
}

/**
 * countTokens(text) > n, without counting a long text: a text longer than n * MAX_TOKEN_BYTES
 * units cannot fit in n tokens.
 */
export function hasMoreTokensThan(text: string, n: number): boolean {
  return text.length > n * MAX_TOKEN_BYTES || countTokens(text) > n;
}

/**
 * The longest token-aligned prefix of `text` with at most `n` tokens. Decoding a token slice can
 * split a multi-byte character (giving U+FFFD) or re-encode to more tokens, so each candidate is
 * re-checked and the slice shortened until it is a real prefix within the limit.
 */
export function truncateToTokens(text: string, n: number): string {
  if (n <= 0) return '';
  const tokens = encodeTokens(text);
  if (tokens.length <= n) return text;
  for (let k = n; k > 0; k--) {
    const prefix = lib().decode(tokens.slice(0, k));
    if (text.startsWith(prefix) && countTokens(prefix) <= n) return prefix;
  }
  return '';
}

/** The text of each token, in order. */
export const decodePieces = (tokens: number[]): Iterable<string> => lib().decodeGenerator(tokens);

/** The text a message is counted as, plus MESSAGE_OVERHEAD_TOKENS. */
export const messageText = (message: PromptMessage) => `${message.role}\n${message.text}`;

export function messageTokens(message: PromptMessage): number {
  return countTokens(messageText(message)) + MESSAGE_OVERHEAD_TOKENS;
}

/**
 * Additive on purpose: the tokens of a prefix of the prompt are the sum over its messages, so a
 * cached prefix's token count is exact and never exceeds the full prompt's.
 */
export function promptTokens(messages: readonly PromptMessage[]): number {
  let total = 0;
  for (const message of messages) total += messageTokens(message);
  return total;
}
