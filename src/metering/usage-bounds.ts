import type { Usage } from '../providers/provider';

/** The most a request may use: what its reservation was sized for. */
export interface UsageBounds {
  inputTokens: number;
  outputTokens: number;
}

export interface BoundedUsage {
  /** What is charged: never beyond the bounds. */
  billable: Usage;
  /** What a provider reported beyond them (kept on the usage event, never charged). */
  overrun: { inputTokens: number; outputTokens: number };
}

/**
 * Holds reported usage to the reservation's bounds, so a charge can never exceed what was reserved
 * (an upstream that ignores max_output_tokens, or reports absurd usage, cannot overdraw a tenant).
 */
export function boundUsage(usage: Usage, bounds: UsageBounds): BoundedUsage {
  const nonNegative = (n: number) => (Number.isFinite(n) && n > 0 ? Math.floor(n) : 0);
  const reportedInput = nonNegative(usage.inputTokens);
  const reportedOutput = nonNegative(usage.outputTokens);
  const inputTokens = Math.min(reportedInput, bounds.inputTokens);
  const outputTokens = Math.min(reportedOutput, bounds.outputTokens);
  return {
    billable: {
      inputTokens,
      cachedTokens: Math.min(nonNegative(usage.cachedTokens), inputTokens),
      outputTokens,
      reasoningTokens: Math.min(nonNegative(usage.reasoningTokens), outputTokens),
    },
    overrun: { inputTokens: reportedInput - inputTokens, outputTokens: reportedOutput - outputTokens },
  };
}
