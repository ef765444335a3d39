import type { Usage } from '../providers/provider';

/** How a request's pending usage event is finished: its final usage, held to its bounds. */
export interface FinalUsage {
  usageEventId: string;
  billable: Usage;
  overrun: { inputTokens: number; outputTokens: number };
}
