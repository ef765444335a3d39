import { createParser, type EventSourceMessage } from 'eventsource-parser';
import type { GenerateRequest, StreamEvent } from '../provider';
import { sanitizeUpstreamMessage, upstreamError } from './upstream-errors';
import { REASONING_PART_SEPARATOR, resultFromResponse } from './wire';

/**
 * Maps an upstream Responses API event stream (server-sent events) to Tollgate's
 * StreamEvents:
 * - `response.reasoning_summary_text.delta` -> reasoning.delta (`response.reasoning_text.delta`
 *   too, as long as the upstream sent no summary: an upstream sends one or the other, and the
 *   final result uses the summary when there is one);
 * - `response.output_text.delta` -> text.delta;
 * - `response.completed` / `response.incomplete` -> done, with the result built from the event's
 *   full `response` exactly as generate() builds it;
 * - `event: error` (or `type: "error"`) and `response.failed` -> ApiError 502 upstream_error;
 * - anything else is ignored; `data: [DONE]` ends the stream. A stream that ends without a
 *   terminal event is an upstream error.
 * Reasoning parts are separated by a blank line (a separator delta is emitted when a new part
 * starts), so the deltas concatenate to the final result's reasoning as generate() joins it.
 */
export async function* mapUpstreamStream(
  chunks: AsyncIterable<Uint8Array | string>,
  request: Pick<GenerateRequest, 'messages'>,
  options: { secrets?: readonly string[]; promptTokenCount?: number } = {},
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
    for (const out of drain()) {
      if (out === 'end') return yield* state.ended();
      yield out;
      if (out.type === 'done') return;
    }
  }
  // End of body: complete a last frame that lacks its blank line.
  parser.feed(decoder.decode() + '\n\n');
  for (const out of drain()) {
    if (out === 'end') break;
    yield out;
    if (out.type === 'done') return;
  }
  yield* state.ended();
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

class StreamState {
  private reasoning = '';
  private text = '';
  private reasoningPart: string | null = null;
  private sawSummary = false;

  constructor(
    private readonly request: Pick<GenerateRequest, 'messages'>,
    private readonly secrets: readonly string[],
    private readonly promptTokenCount: number | undefined,
  ) {}

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
        return this.reasoningDelta(event, `s:${String(event.item_id)}:${String(event.summary_index)}`);
      case 'response.reasoning_text.delta':
        if (this.sawSummary) return [];
        return this.reasoningDelta(event, `c:${String(event.item_id)}:${String(event.content_index)}`);
      case 'response.output_text.delta': {
        if (typeof event.delta !== 'string' || event.delta === '') return [];
        this.text += event.delta;
        return [{ type: 'text.delta', delta: event.delta }];
      }
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
        return [];
    }
  }

  /** The stream ended (connection closed or `[DONE]`) with no terminal event. */
  // eslint-disable-next-line require-yield
  *ended(): Generator<StreamEvent> {
    throw upstreamError('The upstream stream ended before the response completed.');
  }

  private reasoningDelta(event: Json, part: string): StreamEvent[] {
    if (typeof event.delta !== 'string' || event.delta === '') return [];
    const out: StreamEvent[] = [];
    if (this.reasoningPart !== null && this.reasoningPart !== part) {
      out.push({ type: 'reasoning.delta', delta: REASONING_PART_SEPARATOR });
      this.reasoning += REASONING_PART_SEPARATOR;
    }
    this.reasoningPart = part;
    this.reasoning += event.delta;
    out.push({ type: 'reasoning.delta', delta: event.delta });
    return out;
  }

  private failure(base: string, message: unknown) {
    const detail = sanitizeUpstreamMessage(message, this.secrets);
    return upstreamError(detail ? `${base} Upstream message: ${detail}` : base);
  }
}
