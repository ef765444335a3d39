import { createHash } from 'node:crypto';
import type { CachingOptions, ContextCache, PromptMessage } from '../provider';
import { messageTokens } from '../tokenizer';

/** sha256 (hex) of a stable JSON of the messages: role and text only, in order. */
export function fingerprint(messages: readonly PromptMessage[]): string {
  const json = JSON.stringify(messages.map((m) => [m.role, m.text]));
  return createHash('sha256').update(json).digest('hex');
}

/**
 * Prompt tokens served from the context cache: the previous cache's tokens when caching is enabled
 * and its messages are exactly the prompt's leading messages; otherwise 0.
 */
export function cachedTokensFor(
  messages: readonly PromptMessage[],
  inputTokens: number,
  caching: CachingOptions,
  previousCache: ContextCache | null | undefined,
): number {
  if (!caching.enabled || !previousCache) return 0;
  if (previousCache.messages > messages.length) return 0;
  if (fingerprint(messages.slice(0, previousCache.messages)) !== previousCache.fingerprint) return 0;
  // Equal to previousCache.tokens by additivity; the min only guards a stored count gone stale.
  return Math.min(previousCache.tokens, inputTokens);
}

/**
 * What a response leaves cached: nothing without caching; the whole prompt for a prefix cache;
 * for a session cache the prompt plus the assistant's answer text (reasoning is not cached).
 */
export function cacheLeft(
  messages: readonly PromptMessage[],
  inputTokens: number,
  caching: CachingOptions,
  answerText: string | null,
): ContextCache | null {
  if (!caching.enabled) return null;
  if (caching.prefix || answerText === null) {
    return { messages: messages.length, tokens: inputTokens, fingerprint: fingerprint(messages) };
  }
  const answer: PromptMessage = { role: 'assistant', text: answerText };
  const context = [...messages, answer];
  return {
    messages: context.length,
    tokens: inputTokens + messageTokens(answer),
    fingerprint: fingerprint(context),
  };
}
