import { randomBytes } from 'node:crypto';

/** Every event type a webhook endpoint can subscribe to. */
export const WEBHOOK_EVENT_TYPES = ['balance.low', 'budget.threshold', 'invoice.ready', 'charge.failed'] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

export const isWebhookEventType = (value: unknown): value is WebhookEventType =>
  typeof value === 'string' && (WEBHOOK_EVENT_TYPES as readonly string[]).includes(value);

/** The `data` of each event type. Amounts are decimal strings, times ISO 8601. */
export interface WebhookEventData {
  'balance.low': { tenant_id: string; balance: string; available: string; threshold: string };
  'budget.threshold': {
    tenant_id: string;
    api_key_id: string;
    percent: 80 | 100;
    limit: string;
    spent: string;
    period_start: string;
    /** null for a `total` budget, which never resets. */
    resets_at: string | null;
  };
  'invoice.ready': { tenant_id: string; invoice_id: string; period_start: string; period_end: string; total: string };
  'charge.failed': { tenant_id: string; usage_event_id: string; response_id: string; error: string };
}

/** The delivered body. */
export interface WebhookPayload<T extends WebhookEventType = WebhookEventType> {
  id: string;
  type: T;
  created_at: string;
  data: WebhookEventData[T];
}

/** An event ready for the outbox: its body is fixed here, so every attempt sends the same bytes. */
export interface WebhookEventRecord {
  id: string;
  type: WebhookEventType;
  tenantId: string | null;
  /** "<type>:<cause>": unique, so the same cause never makes a second event. */
  dedupKey: string;
  body: string;
}

export const newWebhookEventId = () => `evt_${randomBytes(16).toString('hex')}`;

/**
 * The event `type` with `data`, caused by `cause` (an id that names the change: an invoice's
 * id and generation, a usage event's id, a key and its period...). The same type and cause give
 * one event only, whichever process emits it and however often.
 */
export function webhookEvent<T extends WebhookEventType>(type: T, cause: string, data: WebhookEventData[T], now = new Date()): WebhookEventRecord {
  const id = newWebhookEventId();
  const payload: WebhookPayload<T> = { id, type, created_at: now.toISOString(), data };
  return { id, type, tenantId: data.tenant_id, dedupKey: `${type}:${cause}`, body: JSON.stringify(payload) };
}

export const invoiceReadyEvent = (data: WebhookEventData['invoice.ready'], generation: number) =>
  webhookEvent('invoice.ready', `${data.invoice_id}:${generation}`, data);

export const chargeFailedEvent = (data: WebhookEventData['charge.failed']) => webhookEvent('charge.failed', data.usage_event_id, data);

/** Once per key, threshold and budget period. */
export const budgetThresholdEvent = (data: WebhookEventData['budget.threshold']) =>
  webhookEvent('budget.threshold', `${data.api_key_id}:${data.period_start}:${data.percent}`, data);

/** `crossing` names one downward crossing (e.g. the ledger entry that crossed the threshold). */
export const balanceLowEvent = (data: WebhookEventData['balance.low'], crossing: string) => webhookEvent('balance.low', `${data.tenant_id}:${crossing}`, data);
