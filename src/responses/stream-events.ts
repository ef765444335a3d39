import type { ApiError } from '../common/errors';
import { newId } from '../common/ids';
import type { OutputItem } from './input-items';
import { ResponseRecord, responseErrorCode, toResponseObject } from './response-object';

/** One server-sent event of a Responses API stream: `event: <type>` + `data: {type, sequence_number, ...}`. */
export interface StreamFrame {
  type: string;
  data: Record<string, unknown>;
}

type ReasoningItem = Extract<OutputItem, { type: 'reasoning' }>;
type MessageItem = Extract<OutputItem, { type: 'message' }>;

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

  get reasoningText(): string {
    return this.reasoning?.text ?? '';
  }

  get text(): string {
    return this.message?.text ?? '';
  }

  /** The ids of the items opened so far, for the stored record. */
  get itemIds(): { reasoning?: string; message?: string } {
    return { reasoning: this.reasoning?.item.id, message: this.message?.item.id };
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

  /** Closes what is open and ends with response.completed / response.incomplete carrying `final`. */
  finish(final: ResponseRecord): StreamFrame[] {
    const frames = [...this.closeReasoning(), ...this.closeMessage(final)];
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
    return this.items.map((item) => {
      if (item.type === 'reasoning') return { ...item, summary: [{ type: 'summary_text' as const, text: this.reasoningText }] };
      return { ...item, status, content: [{ type: 'output_text' as const, text: this.text, annotations: [], logprobs: [] }] };
    });
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
