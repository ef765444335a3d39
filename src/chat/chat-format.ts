import { invalidValue } from '../common/errors';
import { CreateResponseDto } from '../responses/dto/create-response.dto';
import type { ApiUsage, toResponseObject } from '../responses/response-object';
import type { StreamFrame } from '../responses/stream-events';
import { chatInputItems, chatRefusal, chatText, chatToolCalls, chatToolChoice, chatTools } from './chat-tools';
import type { ChatCompletionDto } from './dto/chat-completion.dto';

type ResponseObject = ReturnType<typeof toResponseObject>;

/** A chat completion request as the Responses request the gateway runs (never stored). */
export function toResponsesRequest(dto: ChatCompletionDto): CreateResponseDto {
  if (dto.messages === undefined || dto.messages === null) throw invalidValue('messages', "Missing required parameter: 'messages'.");
  return Object.assign(new CreateResponseDto(), {
    model: dto.model,
    messages: chatInputItems(dto.messages),
    temperature: dto.temperature ?? undefined,
    top_p: dto.top_p ?? undefined,
    max_output_tokens: dto.max_completion_tokens ?? dto.max_tokens ?? undefined,
    stream: dto.stream ?? false,
    store: false,
    thinking: dto.thinking ?? undefined,
    extra_body: dto.extra_body ?? undefined,
    reasoning: dto.reasoning_effort ? { effort: dto.reasoning_effort } : undefined,
    tools: chatTools(dto.tools),
    tool_choice: chatToolChoice(dto.tool_choice),
    parallel_tool_calls: dto.parallel_tool_calls ?? undefined,
    text: chatText(dto.response_format, dto.verbosity),
    include: dto.logprobs ? ['message.output_text.logprobs'] : undefined,
    top_logprobs: dto.logprobs ? (dto.top_logprobs ?? undefined) : undefined,
    prompt_cache_key: dto.prompt_cache_key ?? undefined,
    safety_identifier: dto.safety_identifier ?? undefined,
    service_tier: dto.service_tier ?? undefined,
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
    ...(u.cost !== undefined && { cost: u.cost, cost_details: u.cost_details }),
  };
}

const finishReason = (r: ResponseObject) => {
  if (r.status === 'incomplete' && r.incomplete_details?.reason === 'max_output_tokens') return 'length';
  return chatToolCalls(r.output as never).length ? 'tool_calls' : 'stop';
};

function texts(r: ResponseObject) {
  let content = '';
  let reasoning = '';
  for (const item of r.output) {
    if (item.type === 'message') content += item.content.map((c) => (c.type === 'output_text' ? c.text : '')).join('');
    else if (item.type === 'reasoning') reasoning += (item.summary ?? []).map((s) => s.text).join('');
  }
  return { content, reasoning };
}

/** The `chat.completion` object for a finished response (reasoning as `reasoning_content`, as the seed models send it). */
export function toChatCompletion(r: ResponseObject) {
  const { content, reasoning } = texts(r);
  const toolCalls = chatToolCalls(r.output as never);
  return {
    id: chatId(r.id),
    object: 'chat.completion' as const,
    created: r.created_at,
    model: r.model,
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant' as const,
          content: toolCalls.length && !content ? null : content,
          refusal: chatRefusal(r.output as never),
          ...(toolCalls.length && { tool_calls: toolCalls }),
          ...(reasoning && { reasoning_content: reasoning }),
        },
        finish_reason: finishReason(r),
        logprobs: null,
      },
    ],
    usage: toChatUsage(r.usage!),
    service_tier: r.service_tier ?? 'default',
  };
}

/**
 * Turns the Responses stream frames into `chat.completion.chunk`s: a first chunk with the role,
 * content (and reasoning_content) deltas, a last chunk with finish_reason, then — with
 * stream_options.include_usage — a chunk with empty choices and the usage (the chunks before it
 * carry `usage: null`, as OpenAI sends them).
 */
export class ChatChunker {
  private id = '';
  private created = 0;
  private model = '';
  /** Tool call index by output item id, in the order the calls started. */
  private readonly calls = new Map<string, number>();

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
      } else if (type === 'response.refusal.delta') {
        out.push(this.chunk({ refusal: data.delta }, null));
      } else if (type === 'response.output_item.added') {
        const started = this.toolCallStart(data.item as Record<string, unknown>);
        if (started) out.push(this.chunk({ tool_calls: [started] }, null));
      } else if (type === 'response.function_call_arguments.delta' || type === 'response.custom_tool_call_input.delta') {
        const index = this.calls.get(String(data.item_id));
        const delta = type === 'response.function_call_arguments.delta' ? { function: { arguments: data.delta } } : { custom: { input: data.delta } };
        if (index !== undefined) out.push(this.chunk({ tool_calls: [{ index, ...delta }] }, null));
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

  /** The first delta of a tool call (id, name), or null for an item that is not one. */
  private toolCallStart(item: Record<string, unknown>) {
    if (item?.type !== 'function_call' && item?.type !== 'custom_tool_call') return null;
    const index = this.calls.size;
    this.calls.set(String(item.id), index);
    if (item.type === 'function_call') return { index, id: item.call_id, type: 'function', function: { name: item.name, arguments: '' } };
    // The chunk schema knows only function calls: a custom call goes without `type`, as `custom`.
    return { index, id: item.call_id, custom: { name: item.name, input: '' } };
  }

  private base() {
    return { id: this.id, object: 'chat.completion.chunk', created: this.created, model: this.model };
  }

  private chunk(delta: Record<string, unknown>, finish: string | null) {
    return { ...this.base(), choices: [{ index: 0, delta, finish_reason: finish, logprobs: null }], ...(this.includeUsage && { usage: null }) };
  }
}
