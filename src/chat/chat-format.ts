import { invalidValue } from '../common/errors';
import { CreateResponseDto } from '../responses/dto/create-response.dto';
import type { ApiUsage, toResponseObject } from '../responses/response-object';
import type { StreamFrame } from '../responses/stream-events';
import type { ChatCompletionDto } from './dto/chat-completion.dto';

type ResponseObject = ReturnType<typeof toResponseObject>;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Chat messages as Responses input items: `text` parts become input_text / output_text. */
function toInputItems(messages: unknown): unknown {
  if (!Array.isArray(messages)) return messages;
  return messages.map((m) => {
    if (!isObject(m) || !Array.isArray(m.content)) return m;
    const textType = m.role === 'assistant' ? 'output_text' : 'input_text';
    return { ...m, content: m.content.map((p) => (isObject(p) && p.type === 'text' ? { ...p, type: textType } : p)) };
  });
}

/** A chat completion request as the Responses request the gateway runs (never stored). */
export function toResponsesRequest(dto: ChatCompletionDto): CreateResponseDto {
  if (dto.messages === undefined || dto.messages === null) throw invalidValue('messages', "Missing required parameter: 'messages'.");
  if (dto.tools?.length) throw invalidValue('tools', 'Tools are not supported by this gateway yet.');
  const rf = dto.response_format?.type;
  if (rf !== undefined && rf !== 'text') throw invalidValue('response_format.type', "Only response_format type 'text' is supported.");
  return Object.assign(new CreateResponseDto(), {
    model: dto.model,
    messages: toInputItems(dto.messages),
    temperature: dto.temperature ?? undefined,
    top_p: dto.top_p ?? undefined,
    max_output_tokens: dto.max_completion_tokens ?? dto.max_tokens ?? undefined,
    stream: dto.stream ?? false,
    store: false,
    thinking: dto.thinking ?? undefined,
    extra_body: dto.extra_body ?? undefined,
    reasoning: dto.reasoning_effort ? { effort: dto.reasoning_effort } : undefined,
    user: dto.user ?? undefined,
  });
}

export const chatId = (responseId: string) => `chatcmpl-${responseId.replace(/^resp_/, '')}`;

export function toChatUsage(u: ApiUsage) {
  return {
    prompt_tokens: u.input_tokens,
    completion_tokens: u.output_tokens,
    total_tokens: u.total_tokens,
    prompt_tokens_details: { cached_tokens: u.input_tokens_details.cached_tokens },
    completion_tokens_details: { reasoning_tokens: u.output_tokens_details.reasoning_tokens },
  };
}

const finishReason = (r: ResponseObject) => (r.status === 'incomplete' && r.incomplete_details?.reason === 'max_output_tokens' ? 'length' : 'stop');

function texts(r: ResponseObject) {
  let content = '';
  let reasoning = '';
  for (const item of r.output) {
    if (item.type === 'message') content += item.content.map((c) => c.text ?? '').join('');
    else if (item.type === 'reasoning') reasoning += (item.summary ?? []).map((s) => s.text).join('');
  }
  return { content, reasoning };
}

/** The `chat.completion` object for a finished response (reasoning as `reasoning_content`, as the seed models send it). */
export function toChatCompletion(r: ResponseObject) {
  const { content, reasoning } = texts(r);
  return {
    id: chatId(r.id),
    object: 'chat.completion' as const,
    created: r.created_at,
    model: r.model,
    choices: [
      {
        index: 0,
        message: { role: 'assistant' as const, content, refusal: null, ...(reasoning && { reasoning_content: reasoning }) },
        finish_reason: finishReason(r),
        logprobs: null,
      },
    ],
    usage: toChatUsage(r.usage!),
    service_tier: r.service_tier ?? 'default',
    system_fingerprint: null,
  };
}

/**
 * Turns the Responses stream frames into `chat.completion.chunk`s: a first chunk with the role,
 * content (and reasoning_content) deltas, a last chunk with finish_reason, then — with
 * stream_options.include_usage — a chunk with empty choices and the usage.
 */
export class ChatChunker {
  private id = '';
  private created = 0;
  private model = '';

  constructor(private readonly includeUsage: boolean) {}

  chunks(frames: StreamFrame[]): unknown[] {
    const out: unknown[] = [];
    for (const { type, data } of frames) {
      if (type === 'response.created') {
        const r = data.response as ResponseObject;
        this.id = chatId(r.id);
        this.created = r.created_at;
        this.model = r.model;
        out.push(this.chunk({ role: 'assistant', content: '' }, null));
      } else if (type === 'response.output_text.delta') {
        out.push(this.chunk({ content: data.delta }, null));
      } else if (type === 'response.reasoning_summary_text.delta') {
        out.push(this.chunk({ reasoning_content: data.delta }, null));
      } else if (type === 'response.completed' || type === 'response.incomplete') {
        const r = data.response as ResponseObject;
        out.push(this.chunk({}, finishReason(r)));
        if (this.includeUsage) out.push({ ...this.base(), choices: [], usage: toChatUsage(r.usage!) });
      } else if (type === 'error') {
        out.push({ error: data.error });
      }
    }
    return out;
  }

  private base() {
    return { id: this.id, object: 'chat.completion.chunk', created: this.created, model: this.model, system_fingerprint: null };
  }

  private chunk(delta: Record<string, unknown>, finish: string | null) {
    return { ...this.base(), choices: [{ index: 0, delta, finish_reason: finish, logprobs: null }] };
  }
}
