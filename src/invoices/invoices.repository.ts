import { SqlClient } from '../common/sql/sql-client';

interface RequeuedRow {
  id: string;
  generation: number;
}

/** The state of a tenant's period when an invoice is built, read in the build's snapshot. */
export interface PeriodCheckRow {
  asOf: Date;
  /** Usage events of the period not charged yet. */
  uncharged: number;
  /** What the ledger charged for the period's events. */
  ledgerTotal: string;
}

/** Invoices still queued, last changed before `cutoff` (their job was lost, or never queued); at most `limit`. */
export function staleQueuedInvoices(db: SqlClient, cutoff: Date, limit: number): Promise<RequeuedRow[]> {
  return db.$queryRaw<RequeuedRow[]>`
    SELECT id, generation FROM invoices WHERE status = 'queued' AND updated_at < ${cutoff}::timestamptz LIMIT ${limit}`;
}

/**
 * Queues again (next generation) up to 100 invoices built before their period ended, once the
 * period has been over for `graceMs`.
 */
export function requeueEarlyInvoices(db: SqlClient, graceMs: number): Promise<RequeuedRow[]> {
  return db.$queryRaw<RequeuedRow[]>`
    UPDATE invoices SET status = 'queued', generation = generation + 1, error = NULL, updated_at = now()
     WHERE id IN (SELECT id FROM invoices WHERE status = 'ready' AND as_of < period_end
                     AND period_end < now() - ${graceMs} * interval '1 millisecond' LIMIT 100)
     RETURNING id, generation`;
}

export async function checkPeriod(db: SqlClient, tenantId: string, range: { from: Date; to: Date }): Promise<PeriodCheckRow> {
  const [row] = await db.$queryRaw<PeriodCheckRow[]>`
    SELECT now() AS "asOf",
           (SELECT count(*)::int FROM usage_events e
             WHERE e.charged_at IS NULL AND e.tenant_id = ${tenantId}::uuid
               AND e.created_at >= ${range.from.toISOString()}::timestamptz AND e.created_at < ${range.to.toISOString()}::timestamptz) AS uncharged,
           (SELECT coalesce(sum(-l.amount), 0)::text FROM ledger_entries l JOIN usage_events e ON e.id = l.usage_event_id
             WHERE l.kind = 'charge' AND e.tenant_id = ${tenantId}::uuid
               AND e.created_at >= ${range.from.toISOString()}::timestamptz AND e.created_at < ${range.to.toISOString()}::timestamptz) AS "ledgerTotal"`;
  return row;
}
