import type { CostReceipt } from '../billing/money';
import type { Usage } from '../providers/provider';
import { completeOutputItem } from './output-parts';
import type { OutputItem } from './input-items';

/** Request settings echoed back on every response object. */
export interface ResponseSettings {
  temperature: number;
  top_p: number;
  max_output_tokens: number | null;
  metadata: Record<string, string>;
  store: boolean;
  caching: { type: 'enabled' | 'disabled'; prefix?: boolean } | null;
  thinking: { type: 'enabled' | 'disabled' | 'auto' } | null;
  expire_at: number | null;
  reasoning: { effort: string | null; summary: string | null };
  text: Record<string, unknown>;
  tool_choice: unknown;
  tools: unknown[];
  parallel_tool_calls: boolean;
  truncation: string;
  user: string | null;
  service_tier: string | null;
  /**
   * max_output_tokens, or client_disconnected for a stream the client left (kept in the stored
   * record for operators; the API shows such a response as `cancelled`).
   */
  incomplete_reason: 'max_output_tokens' | 'client_disconnected' | null;
}

/** OpenAI's usage, plus the cost receipt of a finished request (absent on records stored before receipts). */
export interface ApiUsage extends Partial<CostReceipt> {
  input_tokens: number;
  input_tokens_details: { cached_tokens: number; cache_write_tokens: number };
  output_tokens: number;
  output_tokens_details: { reasoning_tokens: number };
  total_tokens: number;
}

export interface ResponseRecord {
  id: string;
  model: string;
  status: 'completed' | 'incomplete' | 'failed' | 'in_progress';
  instructions: string | null;
  output: OutputItem[];
  usage: ApiUsage | null;
  settings: ResponseSettings;
  previousResponseId: string | null;
  createdAt: Date;
  completedAt: Date | null;
}

export const toApiUsage = (u: Usage): ApiUsage => ({
  input_tokens: u.inputTokens,
  input_tokens_details: { cached_tokens: u.cachedTokens, cache_write_tokens: 0 },
  output_tokens: u.outputTokens,
  output_tokens_details: { reasoning_tokens: u.reasoningTokens },
  total_tokens: u.inputTokens + u.outputTokens,
});

/** The `x-tollgate-cost` header of a non-streamed answer: its receipt's cost. */
export const costHeader = (usage: ApiUsage | undefined): Record<string, string> => (usage?.cost !== undefined ? { 'x-tollgate-cost': usage.cost } : {});

const seconds = (d: Date) => Math.floor(d.getTime() / 1000);

/** Usage as OpenAI's schema wants it, also for records stored before cache_write_tokens was reported. */
const conformantUsage = (u: ApiUsage): ApiUsage => ({
  ...u,
  input_tokens_details: { ...u.input_tokens_details, cache_write_tokens: u.input_tokens_details.cache_write_tokens ?? 0 },
});

/**
 * OpenAI's `incomplete_details.reason` knows only max_output_tokens and content_filter: a stream
 * the client left is shown as `cancelled` (generation stopped on request), with no details.
 */
function apiStatus(r: ResponseRecord): { status: ResponseRecord['status'] | 'cancelled'; incomplete_details: { reason: 'max_output_tokens' } | null } {
  const reason = r.settings.incomplete_reason;
  if (reason === 'client_disconnected') return { status: r.status === 'incomplete' ? 'cancelled' : r.status, incomplete_details: null };
  return { status: r.status, incomplete_details: reason ? { reason } : null };
}

/** The codes OpenAI's schema allows for a response's `error.code` that Tollgate can mean; anything else is a server_error. */
const RESPONSE_ERROR_CODES = ['server_error', 'rate_limit_exceeded', 'invalid_prompt'];

export const responseErrorCode = (code: string | null): string => (code && RESPONSE_ERROR_CODES.includes(code) ? code : 'server_error');

/** The OpenAI `response` object. Same builder for create, retrieve and the stream's events. */
export function toResponseObject(r: ResponseRecord) {
  const s = r.settings;
  return {
    id: r.id,
    object: 'response' as const,
    created_at: seconds(r.createdAt),
    ...apiStatus(r),
    completed_at: r.completedAt ? seconds(r.completedAt) : null,
    error: null as { code: string; message: string } | null,
    instructions: r.instructions,
    max_output_tokens: s.max_output_tokens,
    model: r.model,
    output: r.output.map(completeOutputItem),
    parallel_tool_calls: s.parallel_tool_calls,
    previous_response_id: r.previousResponseId,
    reasoning: s.reasoning,
    service_tier: s.service_tier,
    store: s.store,
    temperature: s.temperature,
    text: s.text,
    tool_choice: s.tool_choice,
    tools: s.tools,
    top_p: s.top_p,
    truncation: s.truncation,
    ...(r.usage && { usage: conformantUsage(r.usage) }),
    ...(s.user !== null && { user: s.user }),
    metadata: s.metadata,
    caching: s.caching,
    thinking: s.thinking,
    expire_at: s.expire_at,
  };
}
