import { availableParallelism } from 'node:os';
import { serviceUnavailable } from '../common/errors';
import { jsonDigest } from './json-digest';
import type { PromptMessage } from './provider';
import { PoolFullError, TokenCountPool } from './token-count-pool';
import { countTokens, MESSAGE_OVERHEAD_TOKENS, messageText } from './tokenizer';

/**
 * Texts up to this many characters in all are counted on the calling thread: at most a few
 * milliseconds even for the costliest text. Longer ones go to the worker pool, so no request
 * blocks the event loop while its prompt is counted.
 */
export const INLINE_MAX_CHARS = 4096;

/** Hashing is cheaper than counting by far: up to this many characters it stays inline. */
export const INLINE_DIGEST_MAX_CHARS = 256 * 1024;

const POOL_OPTIONS = { threads: Math.min(2, availableParallelism()), maxQueue: 32, idleTimeoutMs: 30_000 };

let pool: TokenCountPool | null = null;

async function inPool<T>(job: (pool: TokenCountPool) => Promise<T>): Promise<T> {
  pool ??= new TokenCountPool(POOL_OPTIONS);
  try {
    return await job(pool);
  } catch (err) {
    if (err instanceof PoolFullError) throw serviceUnavailable('The server is busy counting other large requests; retry shortly.');
    throw err;
  }
}

const totalLength = (texts: readonly string[]) => texts.reduce((sum, text) => sum + text.length, 0);

/** The token count of each text, in order; the same counts on any thread. */
export async function countTexts(texts: string[]): Promise<number[]> {
  if (totalLength(texts) <= INLINE_MAX_CHARS) return texts.map(countTokens);
  return inPool((p) => p.count(texts));
}

/** jsonDigest(value), off the event loop when the texts in it (`chars` characters) are many. */
export async function jsonDigestAsync(value: unknown, chars: number): Promise<string> {
  if (chars <= INLINE_DIGEST_MAX_CHARS) return jsonDigest(value);
  return inPool((p) => p.digest(value));
}

/** The characters of a prompt's texts, for the inline-or-pool choice. */
export const promptLength = (messages: readonly PromptMessage[]) => totalLength(messages.map((m) => m.text));

/** promptTokens, off the event loop for large prompts. */
export async function promptTokensAsync(messages: readonly PromptMessage[]): Promise<number> {
  const counts = await countTexts(messages.map(messageText));
  return counts.reduce((sum, n) => sum + n, 0) + MESSAGE_OVERHEAD_TOKENS * messages.length;
}

const countedRequests = new WeakMap<object, Promise<number>>();

/** promptTokensAsync of a request's messages, counted once per request object (validate, bounds and generate all ask). */
export function requestPromptTokens(request: { readonly messages: readonly PromptMessage[] }): Promise<number> {
  let counted = countedRequests.get(request);
  if (!counted) {
    counted = promptTokensAsync(request.messages);
    countedRequests.set(request, counted);
    counted.catch(() => countedRequests.delete(request));
  }
  return counted;
}

/** Stops the worker threads (the next large count starts new ones). */
export async function closeTokenCounting(): Promise<void> {
  const closing = pool;
  pool = null;
  await closing?.close();
}
