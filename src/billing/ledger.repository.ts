import { SqlClient } from '../common/sql/sql-client';
import { unnestInsert, UnnestColumn } from '../common/sql/unnest';
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

export interface ChargedTenantRow {
  balance: string;
  reserved: string;
  creditLimit: string;
  threshold: string | null;
}

/**
 * Takes a tenant's charges off its balance and what their holds released off `reserved`; the new
 * balance and reserved, and the tenant's credit limit and low-balance threshold.
 */
export async function takeCharges(db: SqlClient, tenantId: string, total: string, released: string): Promise<ChargedTenantRow> {
  const [row] = await db.$queryRaw<ChargedTenantRow[]>`
    UPDATE tenants SET balance = balance - ${total}::numeric,
                       reserved = reserved - ${released}::numeric
     WHERE id = ${tenantId}::uuid
    RETURNING balance::text AS balance, reserved::text AS reserved, credit_limit::text AS "creditLimit",
              low_balance_threshold::text AS threshold`;
  return row;
}

const CHARGE_COLUMNS: UnnestColumn<PlannedCharge>[] = [
  { column: 'tenant_id', pgType: 'uuid', value: (p) => p.event.tenantId },
  { column: 'amount', pgType: 'numeric', value: (p) => `-${p.charge.total}` },
  { column: 'balance_after', pgType: 'numeric', value: (p) => p.balanceAfter },
  { column: 'usage_event_id', pgType: 'uuid', value: (p) => p.event.id },
  { column: 'response_id', pgType: 'text', value: (p) => p.event.responseId },
  { column: 'price_id', pgType: 'uuid', value: (p) => p.price.id },
  { column: 'input_cost', pgType: 'numeric', value: (p) => p.charge.input },
  { column: 'cached_input_cost', pgType: 'numeric', value: (p) => p.charge.cachedInput },
  { column: 'output_cost', pgType: 'numeric', value: (p) => p.charge.output },
  { column: 'reasoning_cost', pgType: 'numeric', value: (p) => p.charge.reasoning },
];

/** One charge entry per planned charge, in one statement (createMany costs several times more in the client). */
export async function insertCharges(db: SqlClient, planned: PlannedCharge[]): Promise<void> {
  await db.$executeRaw(unnestInsert('ledger_entries', CHARGE_COLUMNS, planned, { id: 'gen_random_uuid()', kind: `'charge'` }));
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
