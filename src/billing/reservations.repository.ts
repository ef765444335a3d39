import { SqlClient } from '../common/sql/sql-client';
import { unnestRows, UnnestColumn } from '../common/sql/unnest';
import type { Admission } from './reservations.service';

interface IdRow {
  id: string;
}

interface ReleasedRow {
  tenantId: string;
  amount: string;
}

const RESERVATION_COLUMNS: UnnestColumn<Admission>[] = [
  { column: 'id', pgType: 'uuid', value: (a) => a.reservationId },
  { column: 'amount', pgType: 'numeric', value: (a) => a.amount },
];

const PENDING_EVENT_COLUMNS: UnnestColumn<Admission>[] = [
  { column: 'id', pgType: 'uuid', value: (a) => a.usageEventId },
  { column: 'api_key_id', pgType: 'uuid', value: (a) => a.apiKeyId },
  { column: 'response_id', pgType: 'text', value: (a) => a.responseId },
  { column: 'model', pgType: 'text', value: (a) => a.model },
  { column: 'requested_at', pgType: 'timestamptz', value: (a) => a.requestedAt },
  { column: 'reservation_id', pgType: 'uuid', value: (a) => a.reservationId },
  { column: 'price_id', pgType: 'uuid', value: (a) => a.priceId },
  { column: 'max_input', pgType: 'int', value: (a) => a.maxInputTokens },
  { column: 'max_output', pgType: 'int', value: (a) => a.maxOutputTokens },
];

/**
 * Holds `total` against the tenant's balance and writes the admissions' reservations and pending
 * usage events, in one statement, only if balance - reserved covers it. True when it did.
 */
export async function holdAdmissions(db: SqlClient, tenantId: string, total: string, leaseMs: number, admissions: Admission[]): Promise<boolean> {
  const lease = `${leaseMs} milliseconds`;
  const rows = await db.$queryRaw<IdRow[]>`
    WITH held AS (
      UPDATE tenants SET reserved = reserved + ${total}::numeric
       WHERE id = ${tenantId}::uuid AND balance - reserved >= ${total}::numeric
      RETURNING id
    ), reservation AS (
      INSERT INTO reservations (id, tenant_id, amount, expires_at)
      SELECT r.id, held.id, r.amount, now() + ${lease}::interval FROM held, ${unnestRows(RESERVATION_COLUMNS, admissions, 'r')}
    )
    INSERT INTO usage_events (id, tenant_id, api_key_id, response_id, model, input_tokens, cached_tokens, output_tokens,
                              reasoning_tokens, requested_at, reservation_id, state, price_id, max_input_tokens,
                              max_output_tokens, lease_expires_at)
    SELECT u.id, held.id, u.api_key_id, u.response_id, u.model, 0, 0, 0, 0, u.requested_at, u.reservation_id, 'pending',
           u.price_id, u.max_input, u.max_output, now() + ${lease}::interval
      FROM held, ${unnestRows(PENDING_EVENT_COLUMNS, admissions)}
    RETURNING id`;
  return rows.length === admissions.length;
}

/** Deletes a reservation's pending usage event and gives its hold back; nothing when the event is no longer pending. */
export async function withdrawAdmission(db: SqlClient, reservationId: string): Promise<void> {
  await db.$executeRaw`
    WITH event AS (
      DELETE FROM usage_events WHERE reservation_id = ${reservationId}::uuid AND state = 'pending' RETURNING reservation_id
    ), gone AS (
      DELETE FROM reservations r USING event WHERE r.id = event.reservation_id RETURNING r.tenant_id, r.amount
    )
    UPDATE tenants t SET reserved = t.reserved - gone.amount FROM gone WHERE t.id = gone.tenant_id`;
}

/** Deletes reservations; what each held, with its tenant. */
export function deleteReservations(db: SqlClient, reservationIds: string[]): Promise<ReleasedRow[]> {
  return db.$queryRaw<ReleasedRow[]>`
    DELETE FROM reservations WHERE id = ANY(${reservationIds}::uuid[]) RETURNING tenant_id AS "tenantId", amount::text AS amount`;
}

/** Pending events past their lease that have a checkpoint become `interrupted`; their ids. */
export async function interruptExpiredLeases(db: SqlClient): Promise<string[]> {
  const rows = await db.$queryRaw<IdRow[]>`
    UPDATE usage_events SET state = 'interrupted', lease_expires_at = NULL
     WHERE state = 'pending' AND lease_expires_at < now() AND checkpointed_at IS NOT NULL
    RETURNING id`;
  return rows.map((r) => r.id);
}

/** Pending events past their lease without a checkpoint are withdrawn with their holds; how many tenants got holds back. */
export function withdrawExpiredLeases(db: SqlClient): Promise<number> {
  return db.$executeRaw`
    WITH event AS (
      DELETE FROM usage_events
       WHERE state = 'pending' AND lease_expires_at < now() AND checkpointed_at IS NULL
      RETURNING reservation_id
    ), gone AS (
      DELETE FROM reservations r USING event WHERE r.id = event.reservation_id RETURNING r.tenant_id, r.amount
    ), per_tenant AS (SELECT tenant_id, sum(amount) AS amount FROM gone GROUP BY tenant_id)
    UPDATE tenants t SET reserved = t.reserved - p.amount FROM per_tenant p WHERE t.id = p.tenant_id`;
}

/** Frees expired reservations that have no usage event at all; how many tenants got holds back. */
export function releaseOrphanReservations(db: SqlClient): Promise<number> {
  return db.$executeRaw`
    WITH gone AS (
      DELETE FROM reservations r
       WHERE r.expires_at < now()
         AND NOT EXISTS (SELECT 1 FROM usage_events e WHERE e.reservation_id = r.id)
      RETURNING tenant_id, amount
    ), per_tenant AS (SELECT tenant_id, sum(amount) AS amount FROM gone GROUP BY tenant_id)
    UPDATE tenants t SET reserved = t.reserved - p.amount FROM per_tenant p WHERE t.id = p.tenant_id`;
}

