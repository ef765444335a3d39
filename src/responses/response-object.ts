import type { Usage } from '../providers/provider';
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
  /** max_output_tokens, or client_disconnected for a stream the client left. */
  incomplete_reason: 'max_output_tokens' | 'client_disconnected' | null;
}

export interface ApiUsage {
  input_tokens: number;
  input_tokens_details: { cached_tokens: number };
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
  input_tokens_details: { cached_tokens: u.cachedTokens },
  output_tokens: u.outputTokens,
  output_tokens_details: { reasoning_tokens: u.reasoningTokens },
  total_tokens: u.inputTokens + u.outputTokens,
});

const seconds = (d: Date) => Math.floor(d.getTime() / 1000);

/** The OpenAI `response` object. Same builder for create, retrieve and the stream's events. */
export function toResponseObject(r: ResponseRecord) {
  const s = r.settings;
  return {
    id: r.id,
    object: 'response' as const,
    created_at: seconds(r.createdAt),
    status: r.status,
    completed_at: r.completedAt ? seconds(r.completedAt) : null,
    error: null,
    incomplete_details: s.incomplete_reason ? { reason: s.incomplete_reason } : null,
    instructions: r.instructions,
    max_output_tokens: s.max_output_tokens,
    model: r.model,
    output: r.output,
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
    usage: r.usage,
    user: s.user,
    metadata: s.metadata,
    caching: s.caching,
    thinking: s.thinking,
    expire_at: s.expire_at,
  };
}
