/** The contract every model provider (simulated, OpenAI-compatible upstream) implements. */

export type Role = 'system' | 'developer' | 'user' | 'assistant';

/**
 * One message of the prompt, flattened to text. Tool traffic is flattened too: a tool call is an
 * assistant message, a tool's result a `tool` message.
 */
export interface PromptMessage {
  role: Role | 'tool';
  text: string;
}

/** A tool definition as the client sent it (Responses API shape); `type` says which kind. */
export type ToolDefinition = Record<string, unknown> & { type: string };

/** `text.format` (Responses API shape). */
export type TextFormat =
  | { type: 'text' }
  | { type: 'json_object' }
  | { type: 'json_schema'; name: string; schema: Record<string, unknown>; strict?: boolean | null; description?: string };

/** A tool call the model made (function: `input` holds the JSON arguments; custom: the free-form input). */
export interface ToolCall {
  kind: 'function' | 'custom';
  name: string;
  callId: string;
  input: string;
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
  /**
   * The whole conversation as Responses API input items, in the order of `messages`, for upstreams:
   * message items as {role, content}, every other item (tool calls and results, reasoning with
   * encrypted_content) as the client sent it.
   */
  items?: unknown[];
  /** The tool definitions as sent (every type; the simulated model acts on function and custom). */
  tools?: ToolDefinition[];
  /** `tool_choice` as sent; absent means "auto". */
  toolChoice?: unknown;
  /** Structured output: `text.format`; absent or `text` for plain text. */
  textFormat?: TextFormat | null;
  /** Fields forwarded to upstreams exactly as the client sent them (tools, text, include, ...). */
  passThrough?: Record<string, unknown>;
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
  /** The tool calls made (after the reasoning, in place of a message); absent for none. */
  toolCalls?: ToolCall[];
  /** An upstream's own output items, kept as it sent them (function calls, refusals, annotations...). */
  output?: Array<Record<string, unknown>> | null;
}

/** Events of a streamed generation; the deltas concatenate to the final result's texts. */
export type StreamEvent =
  | { type: 'reasoning.delta'; delta: string }
  | { type: 'text.delta'; delta: string }
  /** A tool call starts (its input follows as call.delta events). */
  | { type: 'call.start'; call: Omit<ToolCall, 'input'> }
  | { type: 'call.delta'; delta: string }
  /** An upstream's item-level stream event, relayed as it came (only sequence_number is renumbered). */
  | { type: 'relay'; event: Record<string, unknown> & { type: string } }
  | { type: 'done'; result: GenerateResult };

export interface Provider {
  readonly name: string;
  /**
   * Throws a DomainError (InvalidValue naming `param`) for a request this provider refuses, before any work;
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
