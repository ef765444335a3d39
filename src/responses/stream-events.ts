import type { ApiError } from '../common/api-error';
import { newId } from '../common/ids';
import type { ToolCall } from '../providers/provider';
import type { CustomToolCallItem, FunctionCallItem, OutputItem } from './input-items';
import { completeRelayedFields } from './output-parts';
import { ResponseRecord, responseErrorCode, toResponseObject } from './response-object';

/** One server-sent event of a Responses API stream: `event: <type>` + `data: {type, sequence_number, ...}`. */
export interface StreamFrame {
  type: string;
  data: Record<string, unknown>;
}

type ReasoningItem = Extract<OutputItem, { type: 'reasoning' }>;
type MessageItem = Extract<OutputItem, { type: 'message' }>;
type CallItem = FunctionCallItem | CustomToolCallItem;
type Json = Record<string, unknown>;

/** The generated text an upstream's relayed event carries (counted against the output bound). */
export function relayedDelta(event: Json): { channel: 'reasoning' | 'text' | 'call'; delta: string } | null {
  if (typeof event.delta !== 'string') return null;
  switch (event.type) {
    case 'response.reasoning_summary_text.delta':
    case 'response.reasoning_text.delta':
      return { channel: 'reasoning', delta: event.delta };
    case 'response.output_text.delta':
    case 'response.refusal.delta':
      return { channel: 'text', delta: event.delta };
    case 'response.function_call_arguments.delta':
    case 'response.custom_tool_call_input.delta':
      return { channel: 'call', delta: event.delta };
    default:
      return null;
  }
}

/**
 * Turns a generation's deltas into the Responses API event sequence the official SDKs expect
 * in OpenAI's order: created, in_progress, then per output item added / part added / deltas /
 * done, then one terminal event carrying the full response. sequence_number starts at 0.
 */
export class ResponseStreamBuilder {
  private seq = 0;
  private readonly items: OutputItem[] = [];
  private reasoning: { item: ReasoningItem; index: number; text: string; open: boolean } | null = null;
  private message: { item: MessageItem; index: number; text: string; open: boolean } | null = null;
  private call: { item: CallItem; index: number; input: string; open: boolean } | null = null;
  /** An upstream's items as its relayed events left them, by output_index; deltas by item id. */
  private readonly relayed = new Map<number, Json>();
  private readonly relayedText = new Map<string, string>();
  private relayedReasoning = '';
  private relayedAnswer = '';
  private relayedCall = '';

  get reasoningText(): string {
    return (this.reasoning?.text ?? '') + this.relayedReasoning;
  }

  get text(): string {
    return (this.message?.text ?? '') + this.relayedAnswer;
  }

  /** A tool call's input (arguments) streamed so far. */
  get callText(): string {
    return (this.call?.input ?? '') + this.relayedCall;
  }

  /** True when the output came as an upstream's relayed events (its own items and ids). */
  get relaying(): boolean {
    return this.relayed.size > 0;
  }

  /** The ids of the items opened so far, for the stored record. */
  get itemIds(): { reasoning?: string; message?: string; call?: string } {
    return { reasoning: this.reasoning?.item.id, message: this.message?.item.id, call: this.call?.item.id };
  }

  start(inProgress: ResponseRecord): StreamFrame[] {
    const response = toResponseObject({ ...inProgress, output: [], usage: null, status: 'in_progress', completedAt: null });
    return [this.frame('response.created', { response }), this.frame('response.in_progress', { response })];
  }

  reasoningDelta(delta: string): StreamFrame[] {
    const frames: StreamFrame[] = [];
    if (!this.reasoning) {
      const item: ReasoningItem = { type: 'reasoning', id: newId('rs'), summary: [] };
      this.reasoning = { item, index: this.items.length, text: '', open: true };
      this.items.push(item);
      frames.push(
        this.frame('response.output_item.added', { output_index: this.reasoning.index, item: { ...item, summary: [] } }),
        this.frame('response.reasoning_summary_part.added', {
          item_id: item.id,
          output_index: this.reasoning.index,
          summary_index: 0,
          part: { type: 'summary_text', text: '' },
        }),
      );
    }
    this.reasoning.text += delta;
    frames.push(
      this.frame('response.reasoning_summary_text.delta', { item_id: this.reasoning.item.id, output_index: this.reasoning.index, summary_index: 0, delta }),
    );
    return frames;
  }

  textDelta(delta: string): StreamFrame[] {
    const frames = this.closeReasoning();
    if (!this.message) {
      const item: MessageItem = { type: 'message', id: newId('msg'), status: 'completed', role: 'assistant', content: [] };
      this.message = { item, index: this.items.length, text: '', open: true };
      this.items.push(item);
      frames.push(
        this.frame('response.output_item.added', { output_index: this.message.index, item: { ...item, status: 'in_progress', content: [] } }),
        this.frame('response.content_part.added', {
          item_id: item.id,
          output_index: this.message.index,
          content_index: 0,
          part: { type: 'output_text', text: '', annotations: [], logprobs: [] },
        }),
      );
    }
    this.message.text += delta;
    frames.push(
      this.frame('response.output_text.delta', { item_id: this.message.item.id, output_index: this.message.index, content_index: 0, delta, logprobs: [] }),
    );
    return frames;
  }

  /** A tool call starts: output_item.added with the call, its input to follow. */
  callStart(call: Omit<ToolCall, 'input'>): StreamFrame[] {
    const frames = this.closeReasoning();
    const item: CallItem =
      call.kind === 'function'
        ? { type: 'function_call', id: newId('fc'), call_id: call.callId, name: call.name, arguments: '', status: 'in_progress' }
        : { type: 'custom_tool_call', id: newId('ctc'), call_id: call.callId, name: call.name, input: '' };
    this.call = { item, index: this.items.length, input: '', open: true };
    this.items.push(item);
    frames.push(this.frame('response.output_item.added', { output_index: this.call.index, item }));
    return frames;
  }

  callDelta(delta: string): StreamFrame[] {
    const c = this.call!;
    c.input += delta;
    const type = c.item.type === 'function_call' ? 'response.function_call_arguments.delta' : 'response.custom_tool_call_input.delta';
    return [this.frame(type, { item_id: c.item.id, output_index: c.index, delta })];
  }

  /** An upstream's event, passed on as it came with our sequence_number; its items are tracked for the record. */
  relay(event: Json & { type: string }): StreamFrame[] {
    const { type, sequence_number: _seq, ...fields } = event;
    const index = typeof event.output_index === 'number' ? event.output_index : -1;
    const item = event.item as Json | undefined;
    if ((type === 'response.output_item.added' || type === 'response.output_item.done') && item && typeof item === 'object') {
      this.relayed.set(index, item);
    }
    const produced = relayedDelta(event);
    if (produced) {
      const id = String(event.item_id);
      this.relayedText.set(id, (this.relayedText.get(id) ?? '') + produced.delta);
      if (produced.channel === 'reasoning') this.relayedReasoning += produced.delta;
      else if (produced.channel === 'text') this.relayedAnswer += produced.delta;
      else this.relayedCall += produced.delta;
    }
    return [this.frame(type, completeRelayedFields(type, fields))];
  }

  /** Closes what is open and ends with response.completed / response.incomplete carrying `final`. */
  finish(final: ResponseRecord): StreamFrame[] {
    const frames = [...this.closeReasoning(), ...this.closeMessage(final), ...this.closeCall(final)];
    const type = final.status === 'incomplete' ? 'response.incomplete' : 'response.completed';
    frames.push(this.frame(type, { response: toResponseObject(final) }));
    return frames;
  }

  /**
   * An error mid-stream: `error` (nested and flat fields, for every SDK; its code is the precise
   * one) then response.failed, whose error.code is one OpenAI's schema allows.
   */
  fail(error: ApiError, final: ResponseRecord): StreamFrame[] {
    const body = { type: error.type, code: error.code, message: error.message, param: error.param };
    return [
      this.frame('error', { code: error.code, message: error.message, param: error.param, error: body }),
      this.frame('response.failed', {
        response: { ...toResponseObject({ ...final, status: 'failed' }), error: { code: responseErrorCode(error.code), message: error.message } },
      }),
    ];
  }

  /** The output items as they stand (texts so far); message status from the final status. */
  outputItems(status: 'completed' | 'incomplete'): OutputItem[] {
    if (this.relaying) return this.relayedItems(status);
    return this.items.map((item): OutputItem => {
      if (item.type === 'reasoning') return { ...item, summary: [{ type: 'summary_text' as const, text: this.reasoningText }] };
      if (item.type === 'function_call') return { ...item, status, arguments: this.callText };
      if (item.type === 'custom_tool_call') return { ...item, input: this.callText };
      return { ...item, status, content: [{ type: 'output_text' as const, text: this.text, annotations: [], logprobs: [] }] };
    });
  }

  /** An upstream's items so far: finished ones as it sent them, open ones with what streamed into them. */
  private relayedItems(status: 'completed' | 'incomplete'): OutputItem[] {
    return [...this.relayed.entries()]
      .sort(([a], [b]) => a - b)
      .map(([, item]) => {
        if (item.status !== 'in_progress') return item;
        const streamed = this.relayedText.get(String(item.id)) ?? '';
        if (item.type === 'message') return { ...item, status, content: [{ type: 'output_text', text: streamed, annotations: [], logprobs: [] }] };
        if (item.type === 'function_call') return { ...item, status, arguments: streamed };
        return { ...item, status };
      }) as unknown as OutputItem[];
  }

  private closeCall(final: ResponseRecord): StreamFrame[] {
    const c = this.call;
    if (!c?.open) return [];
    c.open = false;
    const status = final.status === 'incomplete' ? 'incomplete' : 'completed';
    if (c.item.type === 'function_call') {
      const item = { ...c.item, arguments: c.input, status };
      return [
        this.frame('response.function_call_arguments.done', { item_id: item.id, output_index: c.index, name: item.name, arguments: c.input }),
        this.frame('response.output_item.done', { output_index: c.index, item }),
      ];
    }
    const item = { ...c.item, input: c.input };
    return [
      this.frame('response.custom_tool_call_input.done', { item_id: item.id, output_index: c.index, input: c.input }),
      this.frame('response.output_item.done', { output_index: c.index, item }),
    ];
  }

  private closeReasoning(): StreamFrame[] {
    const r = this.reasoning;
    if (!r?.open) return [];
    r.open = false;
    const part = { type: 'summary_text', text: r.text };
    const item = { ...r.item, summary: [part] };
    return [
      this.frame('response.reasoning_summary_text.done', { item_id: r.item.id, output_index: r.index, summary_index: 0, text: r.text }),
      this.frame('response.reasoning_summary_part.done', { item_id: r.item.id, output_index: r.index, summary_index: 0, part }),
      this.frame('response.output_item.done', { output_index: r.index, item }),
    ];
  }

  private closeMessage(final: ResponseRecord): StreamFrame[] {
    const m = this.message;
    if (!m?.open) return [];
    m.open = false;
    const part = { type: 'output_text', text: m.text, annotations: [], logprobs: [] };
    const status = final.status === 'incomplete' ? 'incomplete' : 'completed';
    return [
      this.frame('response.output_text.done', { item_id: m.item.id, output_index: m.index, content_index: 0, text: m.text, logprobs: [] }),
      this.frame('response.content_part.done', { item_id: m.item.id, output_index: m.index, content_index: 0, part }),
      this.frame('response.output_item.done', { output_index: m.index, item: { ...m.item, status, content: [part] } }),
    ];
  }

  private frame(type: string, fields: Record<string, unknown>): StreamFrame {
    return { type, data: { type, sequence_number: this.seq++, ...fields } };
  }
}
