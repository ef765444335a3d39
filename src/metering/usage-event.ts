import type { TenantAuth } from '../auth/auth.guards';
import { newUuid } from '../common/ids';
import type { Usage } from '../providers/provider';

/** The outbox row for one answered request; written in the same transaction as the response. */
export function usageEventData(
  auth: TenantAuth,
  responseId: string,
  model: string,
  usage: Usage,
  requestedAt: Date,
  reservationId: string | null,
) {
  return {
    id: newUuid(),
    tenantId: auth.tenantId,
    apiKeyId: auth.apiKeyId,
    responseId,
    model,
    inputTokens: usage.inputTokens,
    cachedTokens: usage.cachedTokens,
    outputTokens: usage.outputTokens,
    reasoningTokens: usage.reasoningTokens,
    requestedAt,
    reservationId,
  };
}
