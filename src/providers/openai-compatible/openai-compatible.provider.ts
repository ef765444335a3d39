import { Logger } from '@nestjs/common';
import { setTimeout as delay } from 'node:timers/promises';
import { Pool } from 'undici';
import type { Dispatcher } from 'undici';
import { DomainError } from '../../common/errors';
import type { GenerateRequest, GenerateResult, Provider, StreamEvent } from '../provider';
import type { OpenAIProviderConfig } from '../providers-file';
import { requestPromptTokens } from '../token-counting';
import { mapUpstreamStream } from './sse';
import { errorCode, isAbortError, transportError, upstreamError, upstreamStatusError } from './upstream-errors';
import { buildRequestBody, reportsInputTokens, resultFromResponse } from './wire';

/** Framing tokens an upstream may add per message (role markers, separators), and once per request. */
const TOKENS_PER_MESSAGE = 8;
const TOKENS_PER_REQUEST = 32;
/** Room for how an upstream renders tool definitions (a namespace, a signature per tool). */
const TOKENS_PER_TOOL = 32;
const TOKENS_FOR_TOOLS = 64;

const jsonBytes = (value: unknown) => Buffer.byteLength(JSON.stringify(value) ?? '', 'utf8');
const isMessage = (item: unknown) => typeof item === 'object' && item !== null && (item as { type?: unknown }).type === undefined && 'role' in item;

/**
 * An upper bound of the prompt's tokens under any byte-level BPE tokenizer: a token covers at
 * least one byte. It counts the messages' texts, every other item sent (tool calls and results,
 * reasoning with encrypted_content) as its JSON, the tool definitions and the text format, each
 * with room for its framing.
 */
export function promptTokenBound(request: Pick<GenerateRequest, 'messages' | 'items' | 'passThrough'>): number {
  let bytes = 0;
  for (const m of request.messages) bytes += Buffer.byteLength(m.text, 'utf8') + TOKENS_PER_MESSAGE;
  for (const item of request.items ?? []) if (!isMessage(item)) bytes += jsonBytes(item) + TOKENS_PER_MESSAGE;
  const tools = request.passThrough?.tools;
  if (Array.isArray(tools) && tools.length) bytes += TOKENS_FOR_TOOLS + tools.reduce<number>((n, tool) => n + jsonBytes(tool) + TOKENS_PER_TOOL, 0);
  if (request.passThrough?.text !== undefined) bytes += jsonBytes(request.passThrough.text) + TOKENS_PER_MESSAGE;
  return bytes + TOKENS_PER_REQUEST;
}

/**
 * A whole Response as stream events: text-only answers as deltas; one with other items (tool
 * calls, ...) as each item's output_item.added / done, so every item reaches the client.
 */
function* replayedAsEvents(result: GenerateResult): Generator<StreamEvent> {
  const items = result.output ?? [];
  if (items.every((item) => item.type === 'message' || item.type === 'reasoning')) {
    if (result.reasoning) yield { type: 'reasoning.delta', delta: result.reasoning };
    if (result.text) yield { type: 'text.delta', delta: result.text };
    yield { type: 'done', result: { ...result, output: null } };
    return;
  }
  for (const [index, item] of items.entries()) {
    yield { type: 'relay', event: { type: 'response.output_item.added', output_index: index, item: { ...item, status: 'in_progress' } } };
    yield { type: 'relay', event: { type: 'response.output_item.done', output_index: index, item } };
  }
  yield { type: 'done', result };
}

/** How long close() lets running upstream requests finish before cutting them. */
const CLOSE_GRACE_MS = 5_000;
/** Largest error body read from an upstream (only its error.message is ever used). */
const MAX_ERROR_BODY_CHARS = 64 * 1024;

/**
 * A provider speaking the OpenAI Responses API (`POST {base_url}/responses`): OpenAI itself,
 * BytePlus ModelArk, vLLM, or any compatible gateway. One instance per configured provider, each
 * with its own keep-alive connection pool (undici). Authenticates with the provider's key only;
 * the tenant's key never reaches a provider.
 */
export class OpenAICompatibleProvider implements Provider {
  readonly name: string;
  private readonly pool: Pool;
  /** `/v1/responses` for base_url `http://host/v1`. */
  private readonly path: string;
  private readonly logger: Logger;
  private closed: Promise<void> | null = null;

  constructor(private readonly config: OpenAIProviderConfig) {
    this.name = config.name;
    const url = new URL(config.baseUrl);
    this.path = `${url.pathname.replace(/\/+$/, '')}/responses`;
    this.pool = new Pool(url.origin, {
      headersTimeout: config.timeoutMs,
      bodyTimeout: config.timeoutMs,
      connectTimeout: Math.min(config.timeoutMs, 10_000),
      keepAliveTimeout: 30_000,
    });
    this.logger = new Logger(`Provider:${config.name}`);
  }

  validate(): void {
    // Nothing beyond the gateway's own checks: the upstream decides what it accepts.
  }

  /**
   * The reservation bounds, which the charge never exceeds. Input: the upstream's tokenizer is
   * not ours, so the bound is one no byte-level tokenizer can pass (promptTokenBound). Output: the request's max_output_tokens,
   * else the provider's `max_output_tokens` (4096 by default), sent upstream as the cap.
   */
  async usageBounds(request: GenerateRequest): Promise<{ inputTokens: number; outputTokens: number }> {
    return {
      inputTokens: promptTokenBound(request),
      outputTokens: request.maxOutputTokens ?? this.config.maxOutputTokens,
    };
  }

  async generate(request: GenerateRequest, signal?: AbortSignal): Promise<GenerateResult> {
    const response = await this.post(request, false, signal);
    let text: string;
    try {
      text = await response.body.text();
    } catch (err) {
      throw this.failed(err, signal);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      this.logger.warn(`upstream answered ${response.statusCode} with a body that is not JSON`);
      throw upstreamError('The upstream provider returned an unreadable response.');
    }
    return resultFromResponse(parsed, request, reportsInputTokens(parsed) ? undefined : await requestPromptTokens(request));
  }

  /**
   * Streams the upstream's answer. When `signal` aborts (the client went away), the upstream
   * request is aborted and the iteration ends without an error and without a `done` event.
   */
  async *stream(request: GenerateRequest, signal?: AbortSignal): AsyncGenerator<StreamEvent> {
    if (signal?.aborted) return;
    let response: Dispatcher.ResponseData;
    try {
      response = await this.post(request, true, signal);
    } catch (err) {
      if (signal?.aborted) return;
      throw err;
    }
    const { body } = response;
    try {
      const contentType = String(response.headers['content-type'] ?? '');
      if (contentType.includes('application/json')) {
        // An upstream that ignored stream: true and answered with the whole Response.
        const parsed: unknown = JSON.parse(await body.text());
        const result = resultFromResponse(parsed, request, reportsInputTokens(parsed) ? undefined : await requestPromptTokens(request));
        yield* replayedAsEvents(result);
        return;
      }
      yield* mapUpstreamStream(body, request, { secrets: [this.config.apiKey], countPrompt: () => requestPromptTokens(request) });
    } catch (err) {
      if (signal?.aborted) return;
      if (err instanceof SyntaxError) throw upstreamError('The upstream provider returned an unreadable response.');
      throw this.failed(err, signal);
    } finally {
      // Early exit (done, abort, error, or the consumer stopped iterating): free the connection.
      if (!body.destroyed) body.destroy();
    }
  }

  /** Closes the pool: running requests get CLOSE_GRACE_MS to finish, then are cut. */
  close(): Promise<void> {
    this.closed ??= (async () => {
      const graceful = this.pool.close().then(() => true, () => true);
      const done = await Promise.race([graceful, delay(CLOSE_GRACE_MS, false, { ref: false })]);
      if (!done) await this.pool.destroy().catch(() => undefined);
    })();
    return this.closed;
  }

  /** POSTs the request; resolves with a 2xx response, throws the gateway error otherwise. */
  private async post(request: GenerateRequest, stream: boolean, signal?: AbortSignal): Promise<Dispatcher.ResponseData> {
    if (this.closed) throw upstreamError('The upstream provider is shutting down.');
    const body = JSON.stringify(buildRequestBody(request, stream, this.config.maxOutputTokens));
    let response: Dispatcher.ResponseData;
    try {
      response = await this.pool.request({
        method: 'POST',
        path: this.path,
        headers: {
          authorization: `Bearer ${this.config.apiKey}`,
          'content-type': 'application/json',
          accept: stream ? 'text/event-stream' : 'application/json',
        },
        body,
        signal,
      });
    } catch (err) {
      throw this.failed(err, signal);
    }
    if (response.statusCode >= 200 && response.statusCode < 300) return response;
    let errorBody = '';
    try {
      errorBody = (await response.body.text()).slice(0, MAX_ERROR_BODY_CHARS);
    } catch {
      /* the status says enough */
    }
    this.logger.warn(`upstream answered HTTP ${response.statusCode}`);
    throw upstreamStatusError(response.statusCode, errorBody, [this.config.apiKey]);
  }

  /** A transport failure as a gateway error; the caller's own abort is rethrown unchanged. */
  private failed(err: unknown, signal?: AbortSignal): Error {
    if (err instanceof DomainError) return err;
    if (signal?.aborted && isAbortError(err)) return err as Error;
    const mapped = transportError(err);
    this.logger.warn(`upstream request failed: ${errorCode(err) ?? 'unknown error'} -> ${mapped.code}`);
    return mapped;
  }

}
