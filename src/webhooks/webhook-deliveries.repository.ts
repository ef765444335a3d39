import { SqlClient } from '../common/sql/sql-client';
import type { SendResult } from './webhook-sender';

export type DeliveryStatus = 'pending' | 'delivered' | 'failed';

/** A delivery claimed for one attempt, with what the attempt sends. */
export interface ClaimedDelivery {
  attempts: number;
  url: string;
  secret: string;
  event_id: string;
  type: string;
  body: string;
}

/** What one attempt did, and what the delivery becomes. */
export interface AttemptRecord {
  deliveryId: string;
  attemptedAt: Date;
  sent: SendResult;
  ok: boolean;
  maxAttempts: number;
  nextAttemptAt: Date;
}

/**
 * Claims a pending delivery not leased by a live attempt: counts the attempt and leases the row
 * for `leaseMs`. Null when it is done, gone, or leased elsewhere.
 */
export async function claimDelivery(db: SqlClient, deliveryId: string, leaseMs: number): Promise<ClaimedDelivery | null> {
  const rows = await db.$queryRaw<ClaimedDelivery[]>`
    UPDATE webhook_deliveries d
       SET attempts = d.attempts + 1,
           locked_until = now() + ${leaseMs} * interval '1 millisecond'
      FROM webhook_endpoints w, webhook_events e
     WHERE d.id = ${deliveryId}::uuid AND d.status = 'pending' AND (d.locked_until IS NULL OR d.locked_until < now())
       AND w.id = d.endpoint_id AND e.id = d.event_id
    RETURNING d.attempts, w.url, w.secret, e.id AS event_id, e.type, e.body`;
  return rows[0] ?? null;
}

/** The delivery's status, or null when it is gone. */
export async function deliveryStatus(db: SqlClient, deliveryId: string): Promise<string | null> {
  const [row] = await db.$queryRaw<Array<{ status: string }>>`SELECT status::text FROM webhook_deliveries WHERE id = ${deliveryId}::uuid`;
  return row?.status ?? null;
}

/** The attempt row and the delivery's new state, in one statement: that state, or null when the delivery is gone. */
export async function recordAttempt(db: SqlClient, a: AttemptRecord): Promise<DeliveryStatus | null> {
  const rows = await db.$queryRaw<Array<{ status: DeliveryStatus }>>`
    WITH attempt AS (
      INSERT INTO webhook_attempts (id, delivery_id, attempted_at, status_code, error, duration_ms)
      VALUES (gen_random_uuid(), ${a.deliveryId}::uuid, ${a.attemptedAt}, ${a.sent.statusCode}, ${a.sent.error}, ${a.sent.durationMs})
    )
    UPDATE webhook_deliveries
       SET status = (CASE WHEN ${a.ok} THEN 'delivered' WHEN attempts >= ${a.maxAttempts} THEN 'failed' ELSE 'pending' END)::webhook_delivery_status,
           delivered_at = CASE WHEN ${a.ok} THEN now() END,
           last_status_code = ${a.sent.statusCode},
           last_error = ${a.sent.error},
           next_attempt_at = ${a.nextAttemptAt},
           locked_until = NULL
     WHERE id = ${a.deliveryId}::uuid AND status = 'pending'
    RETURNING status::text AS status`;
  return rows[0]?.status ?? null;
}

/** Pending deliveries overdue by `overdueMs` and not leased by a live attempt (their job was lost); at most `limit` ids. */
export async function overdueDeliveries(db: SqlClient, overdueMs: number, limit: number): Promise<string[]> {
  const rows = await db.$queryRaw<Array<{ id: string }>>`
    SELECT id FROM webhook_deliveries
     WHERE status = 'pending' AND next_attempt_at < now() - ${overdueMs} * interval '1 millisecond'
       AND (locked_until IS NULL OR locked_until < now())
     ORDER BY next_attempt_at LIMIT ${limit}`;
  return rows.map((r) => r.id);
}
