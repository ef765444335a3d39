import { SqlClient } from '../common/sql/sql-client';
import { unnestRows, UnnestColumn } from '../common/sql/unnest';
import type { PlannedCharge } from './charge-plan';

interface BalanceRow {
  balance: string;
}

/** Adds `amount` to the tenant's balance; the new balance, or null when there is no such tenant. */
export async function addToBalance(db: SqlClient, tenantId: string, amount: string): Promise<string | null> {
  const rows = await db.$queryRaw<BalanceRow[]>`
    UPDATE tenants SET balance = balance + ${amount}::numeric
    WHERE id = ${tenantId}::uuid
    RETURNING balance::text AS balance`;
  return rows.length ? rows[0].balance : null;
}

export interface TenantCharge {
  tenantId: string;
  /** What the tenant's charges add up to (off the balance). */
  total: string;
  /** What their reservations held (off `reserved`). */
  released: string;
}

export interface ChargeEntry {
  planned: PlannedCharge;
  /** The tenant's later charges of this batch (charge-plan's laterTotals): balance after = final balance + this. */
  laterTotal: string;
}

export interface ChargedTenantRow {
  tenantId: string;
  balance: string;
  reserved: string;
  creditLimit: string;
  threshold: string | null;
}

const TENANT_COLUMNS: UnnestColumn<TenantCharge>[] = [
  { column: 'tenant_id', pgType: 'uuid', value: (t) => t.tenantId },
  { column: 'total', pgType: 'numeric', value: (t) => t.total },
  { column: 'released', pgType: 'numeric', value: (t) => t.released },
];

const ENTRY_COLUMNS: UnnestColumn<ChargeEntry>[] = [
  { column: 'tenant_id', pgType: 'uuid', value: (e) => e.planned.event.tenantId },
  { column: 'amount', pgType: 'numeric', value: (e) => `-${e.planned.charge.total}` },
  { column: 'later_total', pgType: 'numeric', value: (e) => e.laterTotal },
  { column: 'usage_event_id', pgType: 'uuid', value: (e) => e.planned.event.id },
  { column: 'response_id', pgType: 'text', value: (e) => e.planned.event.responseId },
  { column: 'price_id', pgType: 'uuid', value: (e) => e.planned.price.id },
  { column: 'input_cost', pgType: 'numeric', value: (e) => e.planned.charge.input },
  { column: 'cached_input_cost', pgType: 'numeric', value: (e) => e.planned.charge.cachedInput },
  { column: 'output_cost', pgType: 'numeric', value: (e) => e.planned.charge.output },
  { column: 'reasoning_cost', pgType: 'numeric', value: (e) => e.planned.charge.reasoning },
];

/**
 * In one statement: takes each tenant's charges off its balance and what their holds released off
 * `reserved` (the rows locked in id order, so two charge transactions never wait on each other in
 * a cycle), and writes one ledger entry per charge with the balance right after it. One round trip
 * instead of an update and an insert, so the tenant rows stay locked only for this and the commit.
 * Returns each tenant's new balance and reserved, with its credit limit and low-balance threshold.
 */
export async function chargeTenants(db: SqlClient, tenants: TenantCharge[], entries: ChargeEntry[]): Promise<ChargedTenantRow[]> {
  const rows = await db.$queryRaw<Array<ChargedTenantRow & { entries: number }>>`
    WITH locked AS (
      SELECT id FROM tenants WHERE id = ANY(${tenants.map((t) => t.tenantId)}::uuid[]) ORDER BY id FOR NO KEY UPDATE
    ), taken AS (
      UPDATE tenants t SET balance = t.balance - u.total, reserved = t.reserved - u.released
        FROM ${unnestRows(TENANT_COLUMNS, tenants)}
       WHERE t.id = u.tenant_id AND t.id IN (SELECT id FROM locked)
      RETURNING t.id, t.balance, t.reserved, t.credit_limit, t.low_balance_threshold
    ), written AS (
      INSERT INTO ledger_entries (id, kind, tenant_id, amount, balance_after, usage_event_id, response_id, price_id,
                                  input_cost, cached_input_cost, output_cost, reasoning_cost)
      SELECT gen_random_uuid(), 'charge', c.tenant_id, c.amount, taken.balance + c.later_total, c.usage_event_id, c.response_id,
             c.price_id, c.input_cost, c.cached_input_cost, c.output_cost, c.reasoning_cost
        FROM ${unnestRows(ENTRY_COLUMNS, entries, 'c')} JOIN taken ON taken.id = c.tenant_id
      RETURNING 1
    )
    SELECT taken.id::text AS "tenantId", taken.balance::text AS balance, taken.reserved::text AS reserved,
           taken.credit_limit::text AS "creditLimit", taken.low_balance_threshold::text AS threshold,
           (SELECT count(*) FROM written)::int AS entries
      FROM taken`;
  if (rows.length !== tenants.length || (rows[0]?.entries ?? 0) !== entries.length) {
    throw new Error(`charging ${tenants.length} tenants found ${rows.length} and wrote ${rows[0]?.entries ?? 0} of ${entries.length} ledger entries`);
  }
  return rows.map(({ entries: _, ...row }) => row);
}

export interface TenantMoneyRow {
  balance: string;
  reserved: string;
  creditLimit: string;
}

/** A tenant's balance, reserved and credit limit (numeric text, as stored), or null when there is no such tenant. */
export async function tenantMoney(db: SqlClient, tenantId: string): Promise<TenantMoneyRow | null> {
  const [row] = await db.$queryRaw<TenantMoneyRow[]>`
    SELECT balance::text AS balance, reserved::text AS reserved, credit_limit::text AS "creditLimit" FROM tenants WHERE id = ${tenantId}::uuid`;
  return row ?? null;
}
