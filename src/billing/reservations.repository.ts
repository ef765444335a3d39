import { Prisma } from '../generated/prisma/client';
import { NamedSql } from '../common/sql/named-sql';
import { SqlClient } from '../common/sql/sql-client';
import { unnestRows, UnnestColumn } from '../common/sql/unnest';
import type { Admission } from './reservations.service';

interface IdRow {
  id: string;
}

/** An admission with the key period its amount is also held against (none when the key has no budget). */
export interface AdmissionHold extends Admission {
  budgetKeyId: string | null;
  budgetPeriodStart: Date | null;
}

/** What one key's admissions of a statement hold against its period spend. */
export interface KeyHold {
  apiKeyId: string;
  periodStart: Date;
  amount: string;
}

export interface HoldResult {
  admitted: number;
  keysHeld: number;
}

export interface ReleasedRow {
  id: string;
  tenantId: string;
  amount: string;
  budgetKeyId: string | null;
  budgetPeriodStart: Date | null;
}

/** The SQLSTATEs the admission statement raises (through admission_refused) to undo its budget holds. */
export const REFUSED_BY_BUDGET = 'TGB29';
export const REFUSED_BY_BALANCE = 'TGQ29';

const KEY_HOLD_COLUMNS: UnnestColumn<KeyHold>[] = [
  { column: 'id', pgType: 'uuid', value: (k) => k.apiKeyId },
  { column: 'period_start', pgType: 'timestamptz', value: (k) => k.periodStart },
  { column: 'amount', pgType: 'numeric', value: (k) => k.amount },
];

const RESERVATION_COLUMNS: UnnestColumn<AdmissionHold>[] = [
  { column: 'id', pgType: 'uuid', value: (a) => a.reservationId },
  { column: 'amount', pgType: 'numeric', value: (a) => a.amount },
  { column: 'budget_key_id', pgType: 'uuid', value: (a) => a.budgetKeyId },
  { column: 'budget_period_start', pgType: 'timestamptz', value: (a) => a.budgetPeriodStart },
];

const PENDING_EVENT_COLUMNS: UnnestColumn<AdmissionHold>[] = [
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
 * In one statement: holds each key's amount against its period spend (an upsert whose condition
 * is checked on the latest row), then `total` against the tenant's balance only if every key hold
 * went in and balance - reserved + credit_limit covers it, and writes the reservations and pending
 * usage events. When key holds went in but the balance hold did not, the statement raises
 * (admission_refused) so that nothing of it stays. `keyHolds` must be sorted by key id, so two
 * statements lock the same key rows in the same order.
 */
export async function holdAdmissions(
  db: NamedSql,
  tenantId: string,
  total: string,
  leaseMs: number,
  admissions: AdmissionHold[],
  keyHolds: KeyHold[],
): Promise<HoldResult> {
  const lease = `${leaseMs} milliseconds`;
  const [row] = await db.rows<HoldResult>(
    'hold_admissions',
    Prisma.sql`
    WITH key_held AS (
      INSERT INTO key_spend AS s (api_key_id, period_start, reserved)
      SELECT k.id, k.period_start, k.amount
        FROM ${unnestRows(KEY_HOLD_COLUMNS, keyHolds, 'k')}
        JOIN api_keys ak ON ak.id = k.id
       WHERE ak.budget_limit IS NULL OR k.amount <= ak.budget_limit
       ORDER BY k.id
      ON CONFLICT (api_key_id, period_start) DO UPDATE SET reserved = s.reserved + EXCLUDED.reserved
       WHERE s.spent + s.reserved + EXCLUDED.reserved
             <= COALESCE((SELECT budget_limit FROM api_keys WHERE id = s.api_key_id), s.spent + s.reserved + EXCLUDED.reserved)
      RETURNING s.api_key_id
    ), held AS (
      UPDATE tenants SET reserved = reserved + ${total}::numeric
       WHERE id = ${tenantId}::uuid AND balance - reserved + credit_limit >= ${total}::numeric
         AND (SELECT count(*) FROM key_held) = ${keyHolds.length}
      RETURNING id
    ), reservation AS (
      INSERT INTO reservations (id, tenant_id, amount, expires_at, budget_key_id, budget_period_start)
      SELECT r.id, held.id, r.amount, now() + ${lease}::interval, r.budget_key_id, r.budget_period_start
        FROM held, ${unnestRows(RESERVATION_COLUMNS, admissions, 'r')}
    ), events AS (
      INSERT INTO usage_events (id, tenant_id, api_key_id, response_id, model, input_tokens, cached_tokens, output_tokens,
                                reasoning_tokens, requested_at, reservation_id, state, price_id, max_input_tokens,
                                max_output_tokens, lease_expires_at)
      SELECT u.id, held.id, u.api_key_id, u.response_id, u.model, 0, 0, 0, 0, u.requested_at, u.reservation_id, 'pending',
             u.price_id, u.max_input, u.max_output, now() + ${lease}::interval
        FROM held, ${unnestRows(PENDING_EVENT_COLUMNS, admissions)}
      RETURNING id
    )
    SELECT (SELECT count(*) FROM events)::int AS admitted, (SELECT count(*) FROM key_held)::int AS "keysHeld",
           CASE WHEN NOT EXISTS (SELECT 1 FROM held) AND EXISTS (SELECT 1 FROM key_held)
                THEN admission_refused(CASE WHEN (SELECT count(*) FROM key_held) = ${keyHolds.length} THEN ${REFUSED_BY_BALANCE} ELSE ${REFUSED_BY_BUDGET} END)
           END AS undone`,
  );
  return row;
}

/**
 * Deletes a reservation's pending usage event and gives its hold back (to the key's period spend
 * first, then the tenant: the order admissions lock them in); nothing when the event is no longer pending.
 */
export async function withdrawAdmission(db: SqlClient, reservationId: string): Promise<void> {
  await db.$executeRaw`
    WITH event AS (
      DELETE FROM usage_events WHERE reservation_id = ${reservationId}::uuid AND state = 'pending' RETURNING reservation_id
    ), gone AS (
      DELETE FROM reservations r USING event WHERE r.id = event.reservation_id
      RETURNING r.tenant_id, r.amount, r.budget_key_id, r.budget_period_start
    ), ${givenBack}`;
}

/** Deletes reservations; what each held, with its tenant and its key period. */
export function deleteReservations(db: SqlClient, reservationIds: string[]): Promise<ReleasedRow[]> {
  return db.$queryRaw<ReleasedRow[]>`
    DELETE FROM reservations WHERE id = ANY(${reservationIds}::uuid[])
    RETURNING id, tenant_id AS "tenantId", amount::text AS amount, budget_key_id AS "budgetKeyId", budget_period_start AS "budgetPeriodStart"`;
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
      DELETE FROM reservations r USING event WHERE r.id = event.reservation_id
      RETURNING r.tenant_id, r.amount, r.budget_key_id, r.budget_period_start
    ), ${givenBack}`;
}

/** Frees expired reservations that have no usage event at all; how many tenants got holds back. */
export function releaseOrphanReservations(db: SqlClient): Promise<number> {
  return db.$executeRaw`
    WITH gone AS (
      DELETE FROM reservations r
       WHERE r.expires_at < now()
         AND NOT EXISTS (SELECT 1 FROM usage_events e WHERE e.reservation_id = r.id)
      RETURNING tenant_id, amount, budget_key_id, budget_period_start
    ), ${givenBack}`;
}

/** The tail of a statement whose CTE `gone` returned deleted reservations: their holds go back, key periods first. */
const givenBack = Prisma.sql`
    per_key AS (
      SELECT budget_key_id, budget_period_start, sum(amount) AS amount FROM gone WHERE budget_key_id IS NOT NULL GROUP BY 1, 2
    ), budget AS (
      UPDATE key_spend s SET reserved = s.reserved - p.amount FROM per_key p
       WHERE s.api_key_id = p.budget_key_id AND s.period_start = p.budget_period_start RETURNING 1
    ), per_tenant AS (SELECT tenant_id, sum(amount) AS amount FROM gone GROUP BY tenant_id)
    UPDATE tenants t SET reserved = t.reserved - p.amount FROM per_tenant p
     WHERE t.id = p.tenant_id AND (SELECT count(*) FROM budget) >= 0`;
