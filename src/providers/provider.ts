/** The contract every model provider (simulated, OpenAI-compatible upstream) implements. */

export type Role = 'system' | 'developer' | 'user' | 'assistant';

/** One message of the prompt, flattened to text. */
export interface PromptMessage {
  role: Role;
  text: string;
}

export type ThinkingType = 'enabled' | 'disabled' | 'auto';

export interface CachingOptions {
  /** `caching.type === "enabled"`. */
  enabled: boolean;
  /** `caching.prefix === true`: build a prefix cache from the input and generate nothing. */
  prefix: boolean;
}

/**
 * What a response left in the provider's context cache: the first `messages` messages of its
 * context (`tokens` tokens), identified by `fingerprint`. Stored with the response; handed back
 * to the provider on the next turn (previous_response_id) to decide the cache hit.
 */
export interface ContextCache {
  messages: number;
  tokens: number;
  fingerprint: string;
}

export interface GenerateRequest {
  /** Tollgate's model id. */
  model: string;
  /** The model name at the provider (upstream providers); the simulated one ignores it. */
  upstreamModel?: string | null;
  /**
   * The whole prompt in order: this request's instructions (as a leading system message, if any),
   * then every earlier turn of the previous_response_id chain (inputs, then assistant output text),
   * then this request's input.
   */
  messages: PromptMessage[];
  /** Index in `messages` where this request's own input starts (earlier ones come from the chain). */
  newInputStart: number;
  maxOutputTokens?: number | null;
  temperature?: number | null;
  topP?: number | null;
  thinking: ThinkingType;
  /** The client chose `thinking` itself (vendor field or reasoning.effort): forward it even when 'disabled'. */
  thinkingRequested?: boolean;
  /** Vendor `expire_at` (Unix seconds), forwarded to upstreams that take it. */
  expireAt?: number | null;
  caching: CachingOptions;
  stream: boolean;
  /** The cache the previous response left, when this request continues one. */
  previousCache?: ContextCache | null;
}

export interface Usage {
  /** All prompt tokens, cached ones included. */
  inputTokens: number;
  /** The part of inputTokens served from the context cache. */
  cachedTokens: number;
  /** All generated tokens, reasoning included. */
  outputTokens: number;
  /** The part of outputTokens spent on reasoning. */
  reasoningTokens: number;
}

export interface GenerateResult {
  /** Reasoning summary text, or null when the model did not think. */
  reasoning: string | null;
  /** The visible answer, or null when no message was produced (prefix cache; reasoning used every token). */
  text: string | null;
  status: 'completed' | 'incomplete';
  incompleteReason: 'max_output_tokens' | null;
  usage: Usage;
  /** What this response leaves cached for the next turn, or null. */
  cache: ContextCache | null;
}

/** Events of a streamed generation; the deltas concatenate to the final result's texts. */
export type StreamEvent =
  | { type: 'reasoning.delta'; delta: string }
  | { type: 'text.delta'; delta: string }
  | { type: 'done'; result: GenerateResult };

export interface Provider {
  readonly name: string;
  /**
   * Throws ApiError (400 with `param`) for a request this provider refuses, before any work;
   * called before the balance is reserved so a refused request costs nothing.
   */
  validate(request: GenerateRequest): void | Promise<void>;
  /**
   * Upper bounds of this request's usage (never below what it will really use), for the balance
   * reservation taken before the model runs. Async: a large prompt is counted off the event loop.
   */
  usageBounds(request: GenerateRequest): Promise<{ inputTokens: number; outputTokens: number }>;
  /**
   * The usage of a stream that stopped early (client gone, upstream failed) after producing
   * `reasoning` and `text`. Optional: without it the gateway counts the texts with the tokenizer
   * and takes the prompt from usageBounds, with nothing cached.
   */
  partialUsage?(request: GenerateRequest, reasoning: string, text: string): Promise<Usage>;
  generate(request: GenerateRequest, signal?: AbortSignal): Promise<GenerateResult>;
  stream(request: GenerateRequest, signal?: AbortSignal): AsyncIterable<StreamEvent>;
}
