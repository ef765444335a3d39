import { jsonDigest } from '../json-digest';
import type { CachingOptions, ContextCache, PromptMessage } from '../provider';
import { jsonDigestAsync, promptLength } from '../token-counting';
import { messageTokens } from '../tokenizer';

const fingerprintKey = (messages: readonly PromptMessage[]) => messages.map((m) => [m.role, m.text]);

/** sha256 (hex) of a stable JSON of the messages: role and text only, in order. */
export function fingerprint(messages: readonly PromptMessage[]): string {
  return jsonDigest(fingerprintKey(messages));
}

/** fingerprint, hashed off the event loop for a large prompt. */
const fingerprintOffLoop = (messages: readonly PromptMessage[]) =>
  jsonDigestAsync(fingerprintKey(messages), promptLength(messages));

/**
 * Prompt tokens served from the context cache: the previous cache's tokens when caching is enabled
 * and its messages are exactly the prompt's leading messages; otherwise 0.
 */
export async function cachedTokensFor(
  messages: readonly PromptMessage[],
  inputTokens: number,
  caching: CachingOptions,
  previousCache: ContextCache | null | undefined,
): Promise<number> {
  if (!caching.enabled || !previousCache) return 0;
  if (previousCache.messages > messages.length) return 0;
  if ((await fingerprintOffLoop(messages.slice(0, previousCache.messages))) !== previousCache.fingerprint) return 0;
  // Equal to previousCache.tokens by additivity; the min only guards a stored count gone stale.
  return Math.min(previousCache.tokens, inputTokens);
}

/**
 * What a response leaves cached: nothing without caching; the whole prompt for a prefix cache;
 * for a session cache the prompt plus the assistant's answer text (reasoning is not cached).
 */
export async function cacheLeft(
  messages: readonly PromptMessage[],
  inputTokens: number,
  caching: CachingOptions,
  answerText: string | null,
): Promise<ContextCache | null> {
  if (!caching.enabled) return null;
  if (caching.prefix || answerText === null) {
    return { messages: messages.length, tokens: inputTokens, fingerprint: await fingerprintOffLoop(messages) };
  }
  const answer: PromptMessage = { role: 'assistant', text: answerText };
  const context = [...messages, answer];
  return {
    messages: context.length,
    tokens: inputTokens + messageTokens(answer),
    fingerprint: await fingerprintOffLoop(context),
  };
}
