import { createParser, type EventSourceMessage } from 'eventsource-parser';
import type { GenerateRequest, StreamEvent } from '../provider';
import { sanitizeUpstreamMessage, upstreamError } from './upstream-errors';
import { REASONING_PART_SEPARATOR, reportsInputTokens, resultFromResponse } from './wire';

/**
 * Maps an upstream Responses API event stream (server-sent events) to Tollgate's
 * StreamEvents:
 * - every item-level event (`response.output_item.*`, `response.output_text.delta`, reasoning,
 *   function call arguments, custom tool input, refusals, annotations, ...) -> relay, unchanged;
 * - `response.created` / `in_progress` / `queued` are dropped (Tollgate sends its own);
 * - `response.completed` / `response.incomplete` -> done, with the result built from the event's
 *   full `response` exactly as generate() builds it;
 * - `event: error` (or `type: "error"`) and `response.failed` -> DomainError UpstreamError;
 * - anything else is ignored; `data: [DONE]` ends the stream. A stream that ends without a
 *   terminal event is an upstream error.
 * The streamed texts are kept (reasoning parts separated by a blank line, as generate() joins
 * them) for a terminal event whose response omits its output.
 */
export async function* mapUpstreamStream(
  chunks: AsyncIterable<Uint8Array | string>,
  request: Pick<GenerateRequest, 'messages'>,
  options: {
    secrets?: readonly string[];
    promptTokenCount?: number;
    /** Counts the prompt, only asked when the terminal event reports no input tokens. */
    countPrompt?: () => Promise<number>;
  } = {},
): AsyncGenerator<StreamEvent> {
  const pending: EventSourceMessage[] = [];
  const parser = createParser({ onEvent: (event) => pending.push(event) });
  const decoder = new TextDecoder();
  const state = new StreamState(request, options.secrets ?? [], options.promptTokenCount);

  const drain = function* (): Generator<StreamEvent | 'end'> {
    while (pending.length) {
      for (const out of state.handle(pending.shift()!)) {
        yield out;
        if (out === 'end' || out.type === 'done') return;
      }
    }
  };

  for await (const chunk of chunks) {
    parser.feed(typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true }));
    if (options.countPrompt && state.needsPromptCount(pending)) state.promptTokenCount = await options.countPrompt();
    for (const out of drain()) {
      if (out === 'end') return yield* state.ended();
      yield out;
      if (out.type === 'done') return;
    }
  }
  // End of body: complete a last frame that lacks its blank line.
  parser.feed(decoder.decode() + '\n\n');
  if (options.countPrompt && state.needsPromptCount(pending)) state.promptTokenCount = await options.countPrompt();
  for (const out of drain()) {
    if (out === 'end') break;
    yield out;
    if (out.type === 'done') return;
  }
  yield* state.ended();
}

type Json = Record<string, unknown>;
const relay = (event: Json, type: string): StreamEvent => ({ type: 'relay', event: { ...event, type } });
const TERMINAL = new Set(['response.completed', 'response.incomplete']);
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

class StreamState {
  private reasoning = '';
  private text = '';
  private reasoningPart: string | null = null;
  private sawSummary = false;

  constructor(
    private readonly request: Pick<GenerateRequest, 'messages'>,
    private readonly secrets: readonly string[],
    public promptTokenCount: number | undefined,
  ) {}

  /**
   * Whether one of these messages is the terminal event and reports no input tokens while the
   * prompt is not counted yet (the one case the prompt must be counted).
   */
  needsPromptCount(messages: readonly EventSourceMessage[]): boolean {
    if (this.promptTokenCount !== undefined) return false;
    return messages.some((m) => {
      // Named events say what they are; unnamed ones are looked into (a text cannot contain the bare quoted type).
      const terminal = m.event ? TERMINAL.has(m.event) : m.data.includes('"response.completed"') || m.data.includes('"response.incomplete"');
      if (!terminal) return false;
      try {
        const data: unknown = JSON.parse(m.data);
        return !(isObject(data) && reportsInputTokens(data.response));
      } catch {
        return false; // handle() reports it
      }
    });
  }

  /** The events one SSE message gives; 'end' for `[DONE]`. */
  handle(message: EventSourceMessage): Array<StreamEvent | 'end'> {
    const raw = message.data.trim();
    if (raw === '[DONE]') return ['end'];
    if (raw === '' && message.event !== 'error') return [];
    let data: unknown;
    try {
      data = JSON.parse(raw);
    } catch {
      if (message.event === 'error') throw this.failure('The upstream provider reported an error.', null);
      throw upstreamError('The upstream provider sent an unreadable stream event.');
    }
    const event: Json = isObject(data) ? data : {};
    const type = typeof event.type === 'string' ? event.type : message.event;
    if (message.event === 'error' || type === 'error') {
      const nested = isObject(event.error) ? event.error.message : undefined;
      throw this.failure('The upstream provider reported an error.', nested ?? event.message);
    }
    switch (type) {
      case 'response.reasoning_summary_text.delta':
        this.sawSummary = true;
        this.reasoningDelta(event, `s:${String(event.item_id)}:${String(event.summary_index)}`);
        return [relay(event, type)];
      case 'response.reasoning_text.delta':
        if (!this.sawSummary) this.reasoningDelta(event, `c:${String(event.item_id)}:${String(event.content_index)}`);
        return [relay(event, type)];
      case 'response.output_text.delta':
        if (typeof event.delta === 'string') this.text += event.delta;
        return [relay(event, type)];
      case 'response.created':
      case 'response.in_progress':
      case 'response.queued':
        return [];
      case 'response.completed':
      case 'response.incomplete': {
        const streamed = { reasoning: this.reasoning || null, text: this.text || null };
        const result = resultFromResponse(event.response, this.request, this.promptTokenCount, streamed);
        return [{ type: 'done', result }];
      }
      case 'response.failed': {
        const response = isObject(event.response) ? event.response : {};
        const error = isObject(response.error) ? response.error.message : undefined;
        throw this.failure('The upstream provider failed to complete the response.', error);
      }
      default:
        // Every item-level event (items added and done, content parts, function call arguments,
        // custom tool input, refusals, annotations, hosted tool progress) goes to the client as sent.
        return type?.startsWith('response.') ? [relay(event, type)] : [];
    }
  }

  /** The stream ended (connection closed or `[DONE]`) with no terminal event. */
  // eslint-disable-next-line require-yield
  *ended(): Generator<StreamEvent> {
    throw upstreamError('The upstream stream ended before the response completed.');
  }

  /** Keeps the reasoning text (parts separated as generate() joins them), for a terminal event lacking it. */
  private reasoningDelta(event: Json, part: string): void {
    if (typeof event.delta !== 'string' || event.delta === '') return;
    if (this.reasoningPart !== null && this.reasoningPart !== part) this.reasoning += REASONING_PART_SEPARATOR;
    this.reasoningPart = part;
    this.reasoning += event.delta;
  }

  private failure(base: string, message: unknown) {
    const detail = sanitizeUpstreamMessage(message, this.secrets);
    return upstreamError(detail ? `${base} Upstream message: ${detail}` : base);
  }
}
