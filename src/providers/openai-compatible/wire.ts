import type { GenerateRequest, GenerateResult, Usage } from '../provider';
import { countTokens, promptTokens } from '../tokenizer';
import { upstreamError } from './upstream-errors';

/**
 * The OpenAI Responses API wire format as an upstream speaks it: the request body Tollgate sends
 * and the Response object it reads back. Pure functions, unit-tested without a server.
 */

export interface UpstreamInputMessage {
  role: string;
  content: string;
}

export interface UpstreamRequestBody {
  /** The client's pass-through fields (tools, text, reasoning, include, ...) as it sent them. */
  [field: string]: unknown;
  model: string;
  input: unknown[];
  max_output_tokens?: number;
  temperature?: number;
  top_p?: number;
  stream: boolean;
  store: false;
  thinking?: { type: string };
  caching?: { type: 'enabled'; prefix?: true };
  expire_at?: number;
}

/**
 * The upstream request for `request`. The whole conversation goes in `input` (Tollgate rebuilt
 * the previous_response_id chain from its own store), so the upstream is used statelessly: no
 * previous_response_id, `store: false`. Only the provider's key authenticates the call (it is a
 * header, not part of the body); nothing of the tenant is sent. Unset sampling fields are left
 * out rather than sent as null. The vendor fields go top-level: `thinking` when it is not
 * 'disabled' (the gateway's default, which a plain OpenAI upstream would refuse as an unknown
 * parameter), `caching` when enabled. The client's own fields of the Responses API (tools,
 * tool_choice, text, reasoning, include, prompt_cache_key, ...) go as it sent them; tool calls,
 * their results and reasoning with encrypted_content are in `input` as it sent them.
 */
export function buildRequestBody(request: GenerateRequest, stream: boolean, defaultMaxOutputTokens?: number): UpstreamRequestBody {
  const body: UpstreamRequestBody = {
    ...request.passThrough,
    model: request.upstreamModel ?? request.model,
    input: request.items ?? request.messages.map((m) => ({ role: m.role, content: m.text })),
    stream,
    store: false,
  };
  // The provider's default cap goes upstream too, so the reservation's output bound is a real bound
  // (not for a prefix cache request, which generates nothing and refuses max_output_tokens).
  const cap = request.maxOutputTokens ?? (request.caching.prefix ? undefined : defaultMaxOutputTokens);
  if (cap != null) body.max_output_tokens = cap;
  if (request.temperature != null) body.temperature = request.temperature;
  if (request.topP != null) body.top_p = request.topP;
  // A thinking the gateway read from the client's `reasoning` goes upstream as that `reasoning`.
  const fromReasoning = request.passThrough?.reasoning !== undefined && !request.thinkingRequested;
  if ((request.thinking !== 'disabled' && !fromReasoning) || request.thinkingRequested) body.thinking = { type: request.thinking };
  if (request.expireAt != null) body.expire_at = request.expireAt;
  if (request.caching.enabled) body.caching = request.caching.prefix ? { type: 'enabled', prefix: true } : { type: 'enabled' };
  return body;
}

// ---- reading an upstream Response object ----

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;
const arrayOf = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/** Separator between reasoning summary parts (each is a paragraph); text parts join with ''. */
export const REASONING_PART_SEPARATOR = '\n\n';

/** Text of one reasoning item: its summary parts, or (no summary) its `reasoning_text` content. */
function reasoningItemText(item: Json): string[] {
  const summary = arrayOf(item.summary)
    .filter(isObject)
    .map((p) => p.text)
    .filter((t): t is string => typeof t === 'string');
  if (summary.length) return summary;
  return arrayOf(item.content)
    .filter((p) => isObject(p) && p.type === 'reasoning_text' && typeof p.text === 'string')
    .map((p) => (p as Json).text as string);
}

/** Reasoning and visible text of a Response's `output`, null when absent. */
export function outputTexts(response: Json): { reasoning: string | null; text: string | null } {
  const reasoningParts: string[] = [];
  const textParts: string[] = [];
  for (const item of arrayOf(response.output)) {
    if (!isObject(item)) continue;
    if (item.type === 'reasoning') reasoningParts.push(...reasoningItemText(item));
    else if (item.type === 'message') {
      for (const part of arrayOf(item.content)) {
        if (isObject(part) && part.type === 'output_text' && typeof part.text === 'string') textParts.push(part.text);
      }
    }
  }
  return {
    reasoning: reasoningParts.length ? reasoningParts.join(REASONING_PART_SEPARATOR) : null,
    text: textParts.length ? textParts.join('') : null,
  };
}

/**
 * Usage from the upstream's `usage`; each count it did not report is counted with Tollgate's
 * tokenizer (prompt tokens for input, reasoning + text for output), so an answer is never charged
 * zero silently. Cached ≤ input and reasoning ≤ output are enforced.
 */
export function usageOf(
  raw: unknown,
  request: Pick<GenerateRequest, 'messages'>,
  texts: { reasoning: string | null; text: string | null },
  promptTokenCount?: number,
): Usage {
  const u = isObject(raw) ? raw : {};
  const inputDetails = isObject(u.input_tokens_details) ? u.input_tokens_details : {};
  const outputDetails = isObject(u.output_tokens_details) ? u.output_tokens_details : {};
  const reasoningCount = () => countTokens(texts.reasoning ?? '');
  const inputTokens = isCount(u.input_tokens) ? u.input_tokens : (promptTokenCount ?? promptTokens(request.messages));
  const outputTokens = isCount(u.output_tokens) ? u.output_tokens : reasoningCount() + countTokens(texts.text ?? '');
  const cached = isCount(inputDetails.cached_tokens) ? inputDetails.cached_tokens : 0;
  const reasoning = isCount(outputDetails.reasoning_tokens)
    ? outputDetails.reasoning_tokens
    : isCount(u.output_tokens)
      ? 0 // the upstream counted the output and reported no reasoning: take it at its word
      : reasoningCount();
  return {
    inputTokens,
    cachedTokens: Math.min(cached, inputTokens),
    outputTokens,
    reasoningTokens: Math.min(reasoning, outputTokens),
  };
}

/** Whether an upstream Response reports its input tokens (then the prompt need not be counted). */
export function reportsInputTokens(response: unknown): boolean {
  return isObject(response) && isObject(response.usage) && isCount(response.usage.input_tokens);
}

/**
 * The GenerateResult of an upstream Response object (the non-streamed body, or the `response` of
 * a stream's terminal event). `failed`, `cancelled` or a still-running status is an upstream
 * error. `incomplete` keeps its reason when it is max_output_tokens; other reasons (e.g.
 * content_filter) have no GenerateResult value and are reported as incomplete without a reason.
 * `streamed` (stream() only) stands in for texts the response's output lacks.
 */
export function resultFromResponse(
  response: unknown,
  request: Pick<GenerateRequest, 'messages'>,
  promptTokenCount?: number,
  streamed?: { reasoning: string | null; text: string | null },
): GenerateResult {
  if (!isObject(response)) throw upstreamError('The upstream provider returned an unreadable response.');
  const status = response.status;
  if (status !== undefined && status !== 'completed' && status !== 'incomplete') {
    throw upstreamError(`The upstream provider did not complete the response (status ${JSON.stringify(status).slice(0, 40)}).`);
  }
  const texts = outputTexts(response);
  // A terminal stream event whose response omits the output: the streamed deltas are the texts.
  if (streamed) {
    texts.reasoning ??= streamed.reasoning;
    texts.text ??= streamed.text;
  }
  const details = isObject(response.incomplete_details) ? response.incomplete_details : null;
  const incomplete = status === 'incomplete';
  const output = arrayOf(response.output).filter(isObject);
  const callInputs = output.map((item) => (typeof item.arguments === 'string' ? item.arguments : typeof item.input === 'string' && item.type !== 'message' ? item.input : ''));
  // Without reported usage, tool call arguments count as output beside the text.
  const counted = { reasoning: texts.reasoning, text: [texts.text ?? '', ...callInputs].join('') || null };
  return {
    reasoning: texts.reasoning,
    text: texts.text,
    status: incomplete ? 'incomplete' : 'completed',
    incompleteReason: incomplete && details?.reason === 'max_output_tokens' ? 'max_output_tokens' : null,
    usage: usageOf(response.usage, request, counted, promptTokenCount),
    cache: null,
    output: output.length ? output : null,
  };
}
