import type { Client } from 'pg';
import { newUuid } from '../../src/common/ids';

export interface EventUsage {
  input: number;
  cached?: number;
  output: number;
  reasoning?: number;
}

export interface EventOptions {
  /** When the request started (prices it when no price version is fixed). */
  requestedAt: string | Date;
  /** When the usage was recorded (reports and invoices go by it); defaults to requestedAt. */
  createdAt?: string | Date;
  /** The price version fixed at admission. */
  priceId?: string | null;
  state?: 'final' | 'interrupted' | 'pending';
}

/** A finished usage event written straight into usage_events, as if a request had been answered; returns its id. */
export async function insertEvent(
  db: Client,
  tenant: { tenantId: string; keyId: string },
  model: string,
  u: EventUsage,
  options: EventOptions,
): Promise<string> {
  const id = newUuid();
  await db.query(
    `INSERT INTO usage_events (id, tenant_id, api_key_id, response_id, model, input_tokens, cached_tokens, output_tokens,
                               reasoning_tokens, requested_at, created_at, price_id, state)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, coalesce($11::timestamptz, $10::timestamptz, now()), $12, $13::usage_state)`,
    [
      id,
      tenant.tenantId,
      tenant.keyId,
      `resp_${id.replace(/-/g, '')}`,
      model,
      u.input,
      u.cached ?? 0,
      u.output,
      u.reasoning ?? 0,
      options.requestedAt,
      options.createdAt ?? null,
      options.priceId ?? null,
      options.state ?? 'final',
    ],
  );
  return id;
}
