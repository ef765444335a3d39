import { BudgetPeriod, periodReset } from './budget-period';
import type { SqlClient } from '../common/sql/sql-client';
import { formatAmount } from './money';
import type { BudgetThresholdFact } from './spend-alerts';

/** What one key's budget period gets back from the reservations charged (held) and what they cost (charged). */
export interface BudgetMove {
  apiKeyId: string;
  periodStart: Date;
  held: string;
  charged: string;
}

/**
 * Inside a charge's transaction: each key period's hold out and its exact charges in (moves in key
 * order). Returns the 80% and 100% marks this charge reached first in the period.
 */
export async function moveIntoBudgets(tx: SqlClient, moves: BudgetMove[]): Promise<BudgetThresholdFact[]> {
  const col = <T>(f: (m: BudgetMove) => T) => moves.map(f);
  // The rows are locked in key order first; FOR UPDATE reads their latest version, so "not yet
  // reached" is known exactly and the 80% / 100% marks are reported once per period.
  const rows = await tx.$queryRaw<
    Array<{ tenantId: string; apiKeyId: string; periodStart: Date; period: BudgetPeriod | null; limit: string | null; spent: string; reached80: boolean; reached100: boolean }>
  >`
    WITH m AS (
      SELECT * FROM unnest(${col((m) => m.apiKeyId)}::uuid[], ${col((m) => m.periodStart)}::timestamptz[],
                           ${col((m) => m.held)}::numeric[], ${col((m) => m.charged)}::numeric[]) AS m(api_key_id, period_start, held, charged)
    ), locked AS (
      SELECT s.api_key_id, s.period_start, s.reached_80_at IS NULL AS open80, s.reached_100_at IS NULL AS open100
        FROM key_spend s JOIN m USING (api_key_id, period_start)
       ORDER BY s.api_key_id, s.period_start FOR UPDATE OF s
    )
    UPDATE key_spend s
       SET spent = s.spent + m.charged, reserved = s.reserved - m.held,
           reached_80_at = COALESCE(s.reached_80_at, CASE WHEN s.spent + m.charged >= 0.8 * k.budget_limit THEN now() END),
           reached_100_at = COALESCE(s.reached_100_at, CASE WHEN s.spent + m.charged >= k.budget_limit THEN now() END)
      FROM m JOIN locked l USING (api_key_id, period_start) JOIN api_keys k ON k.id = m.api_key_id
     WHERE s.api_key_id = m.api_key_id AND s.period_start = m.period_start
    RETURNING k.tenant_id AS "tenantId", s.api_key_id AS "apiKeyId", s.period_start AS "periodStart", k.budget_period::text AS period,
              k.budget_limit::text AS "limit", s.spent::text AS spent,
              l.open80 AND s.reached_80_at IS NOT NULL AS reached80, l.open100 AND s.reached_100_at IS NOT NULL AS reached100`;
  const facts: BudgetThresholdFact[] = [];
  for (const r of rows) {
    const resetsAt = r.period ? periodReset(r.period, r.periodStart) : null;
    for (const percent of [80, 100] as const) {
      if (r[`reached${percent}`] && r.limit !== null) {
        facts.push({ tenantId: r.tenantId, apiKeyId: r.apiKeyId, percent, limit: formatAmount(r.limit), spent: formatAmount(r.spent), periodStart: r.periodStart, resetsAt });
      }
    }
  }
  return facts;
}

/** A key's spent and reserved in the period starting at `periodStart` (numeric text), or null before its first hold. */
export async function periodSpend(db: SqlClient, apiKeyId: string, periodStart: Date): Promise<{ spent: string; reserved: string } | null> {
  const [row] = await db.$queryRaw<Array<{ spent: string; reserved: string }>>`
    SELECT spent::text AS spent, reserved::text AS reserved FROM key_spend
     WHERE api_key_id = ${apiKeyId}::uuid AND period_start = ${periodStart}::timestamptz`;
  return row ?? null;
}
