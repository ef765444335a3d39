import type { Client } from 'pg';
import { waitFor } from './wait';

/**
 * Money invariants any suite can check on the tenants it touched, straight from Postgres (exact
 * numeric comparisons in SQL, never JS floats). Each returns the offending rows; `expect...`
 * throws with them.
 */

/** Waits until no usage event of these tenants is left uncharged. */
export async function waitUntilAllCharged(db: Client, tenantIds: string[], timeoutMs = 30_000): Promise<void> {
  await waitFor(
    `every usage event of ${tenantIds.length} tenants charged`,
    async () => {
      const { rows } = await db.query('SELECT count(*)::int AS n FROM usage_events WHERE tenant_id = ANY($1::uuid[]) AND charged_at IS NULL', [tenantIds]);
      return rows[0].n === 0;
    },
    timeoutMs,
    100,
  );
}

/** Tenants whose balance is not the sum of their ledger (credits minus charges). */
export async function balanceLedgerMismatches(db: Client, tenantIds: string[]) {
  const { rows } = await db.query(
    `SELECT t.id, t.balance::text AS balance, COALESCE(sum(l.amount), 0)::text AS ledger
       FROM tenants t LEFT JOIN ledger_entries l ON l.tenant_id = t.id
      WHERE t.id = ANY($1::uuid[])
      GROUP BY t.id, t.balance
     HAVING t.balance <> COALESCE(sum(l.amount), 0)`,
    [tenantIds],
  );
  return rows as Array<{ id: string; balance: string; ledger: string }>;
}

/** Tenants still holding a reservation (tenants.reserved, or reservation rows, not back to zero). */
export async function heldReservations(db: Client, tenantIds: string[]) {
  const { rows } = await db.query(
    `SELECT t.id, t.reserved::text AS reserved, COALESCE((SELECT sum(r.amount) FROM reservations r WHERE r.tenant_id = t.id), 0)::text AS rows_sum
       FROM tenants t
      WHERE t.id = ANY($1::uuid[])
        AND (t.reserved <> 0 OR EXISTS (SELECT 1 FROM reservations r WHERE r.tenant_id = t.id))`,
    [tenantIds],
  );
  return rows as Array<{ id: string; reserved: string; rows_sum: string }>;
}

/** Key budget periods of these tenants still holding something (every hold ends with its charge or withdrawal). */
export async function heldBudgets(db: Client, tenantIds: string[]) {
  const { rows } = await db.query(
    `SELECT s.api_key_id, s.period_start, s.reserved::text AS reserved
       FROM key_spend s JOIN api_keys k ON k.id = s.api_key_id
      WHERE k.tenant_id = ANY($1::uuid[]) AND s.reserved <> 0`,
    [tenantIds],
  );
  return rows as Array<{ api_key_id: string; period_start: Date; reserved: string }>;
}

/** Tenants whose usage rollups do not add up to their ledger charges (sum(cost) = -sum(charge amount)). */
export async function rollupLedgerMismatches(db: Client, tenantIds: string[]) {
  const { rows } = await db.query(
    `WITH charges AS (
       SELECT tenant_id, -sum(amount) AS cost FROM ledger_entries WHERE kind = 'charge' AND tenant_id = ANY($1::uuid[]) GROUP BY tenant_id
     ), rollups AS (
       SELECT tenant_id, sum(cost) AS cost FROM usage_rollups WHERE tenant_id = ANY($1::uuid[]) GROUP BY tenant_id
     )
     SELECT COALESCE(c.tenant_id, r.tenant_id) AS id, COALESCE(c.cost, 0)::text AS charges, COALESCE(r.cost, 0)::text AS rollups
       FROM charges c FULL JOIN rollups r ON r.tenant_id = c.tenant_id
      WHERE COALESCE(c.cost, 0) <> COALESCE(r.cost, 0)`,
    [tenantIds],
  );
  return rows as Array<{ id: string; charges: string; rollups: string }>;
}

/**
 * Ledger entries whose balance_after does not follow the running sum: the entries of a tenant must
 * chain from 0 to its balance, each one's balance before (balance_after - amount) being the
 * balance_after of the one before it. Compared as multisets (no order is needed: entries of one
 * transaction share created_at), so {balance before of each} + {balance} = {balance_after of each} + {0}.
 * Returns the tenants where the chain breaks, with the unmatched values.
 */
export async function balanceAfterMismatches(db: Client, tenantIds: string[]) {
  const { rows } = await db.query(
    `WITH befores AS (
       SELECT tenant_id, balance_after - amount AS v FROM ledger_entries WHERE tenant_id = ANY($1::uuid[])
       UNION ALL SELECT id, balance FROM tenants WHERE id = ANY($1::uuid[])
     ), afters AS (
       SELECT tenant_id, balance_after AS v FROM ledger_entries WHERE tenant_id = ANY($1::uuid[])
       UNION ALL SELECT id, 0 FROM tenants WHERE id = ANY($1::uuid[])
     ), unmatched AS (
       (SELECT tenant_id, v, 'before' AS side FROM befores EXCEPT ALL SELECT tenant_id, v, 'before' FROM afters)
       UNION ALL
       (SELECT tenant_id, v, 'after' FROM afters EXCEPT ALL SELECT tenant_id, v, 'after' FROM befores)
     )
     SELECT tenant_id AS id, array_agg(side || ' ' || v::text ORDER BY side, v) AS unmatched FROM unmatched GROUP BY tenant_id`,
    [tenantIds],
  );
  return rows as Array<{ id: string; unmatched: string[] }>;
}

/** Usage events with other than exactly one ledger charge, once all are charged. */
export async function eventsWithoutExactlyOneCharge(db: Client, tenantIds: string[]) {
  const { rows } = await db.query(
    `SELECT e.id, count(l.id)::int AS charges
       FROM usage_events e LEFT JOIN ledger_entries l ON l.usage_event_id = e.id
      WHERE e.tenant_id = ANY($1::uuid[])
      GROUP BY e.id
     HAVING count(l.id) <> 1`,
    [tenantIds],
  );
  return rows as Array<{ id: string; charges: number }>;
}

/**
 * After every usage event of these tenants is charged: balance = sum(ledger), each balance_after
 * on the running sum, nothing reserved (balances and key budgets),
 * rollups = ledger charges, one charge per event. Throws listing every violation.
 */
export async function expectMoneyInvariants(db: Client, tenantIds: string[], timeoutMs = 30_000): Promise<void> {
  await waitUntilAllCharged(db, tenantIds, timeoutMs);
  // A reservation is released in the charge's transaction, or at once for a refused request.
  await waitFor('reservations released', async () => (await heldReservations(db, tenantIds)).length === 0, Math.min(timeoutMs, 10_000), 100).catch(() => undefined);
  const problems = {
    balance_is_not_the_ledger: await balanceLedgerMismatches(db, tenantIds),
    balance_after_is_not_the_running_sum: await balanceAfterMismatches(db, tenantIds),
    reservations_held: await heldReservations(db, tenantIds),
    budget_holds_left: await heldBudgets(db, tenantIds),
    rollups_are_not_the_ledger: await rollupLedgerMismatches(db, tenantIds),
    events_not_charged_once: await eventsWithoutExactlyOneCharge(db, tenantIds),
  };
  const found = Object.entries(problems).filter(([, rows]) => rows.length > 0);
  if (found.length) throw new Error(`money invariants broken:\n${JSON.stringify(Object.fromEntries(found), null, 2)}`);
}
