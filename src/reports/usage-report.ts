import { addAmounts } from '../billing/money';
import { safeCsv } from '../common/csv';
import { Prisma } from '../generated/prisma/client';
import { AggregateRow, KeySpec, REPORT_METRICS } from './usage-sql';
import { GROUP_KEYS, GroupBy } from './usage-query';

/** The key columns of each group_by, read from a rollup row (r) or a raw event (e). */
export const REPORT_KEYS: Record<GroupBy, KeySpec> = {
  model: { alias: GROUP_KEYS.model, rollup: Prisma.sql`r.model`, raw: Prisma.sql`e.model` },
  day: {
    alias: GROUP_KEYS.day,
    rollup: Prisma.sql`to_char(r.hour AT TIME ZONE 'UTC', 'YYYY-MM-DD')`,
    raw: Prisma.sql`to_char(e.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')`,
  },
  api_key: { alias: GROUP_KEYS.api_key, rollup: Prisma.sql`r.api_key_id::text`, raw: Prisma.sql`e.api_key_id::text` },
  tenant: { alias: GROUP_KEYS.tenant, rollup: Prisma.sql`r.tenant_id::text`, raw: Prisma.sql`e.tenant_id::text` },
};

export const METRIC_COLUMNS = REPORT_METRICS;

export interface UsageMetrics {
  requests: number;
  /** Events with no charge yet: their tokens are counted, their cost is not (it is not in the ledger yet). */
  uncharged_requests: number;
  input_tokens: number;
  cached_tokens: number;
  output_tokens: number;
  reasoning_tokens: number;
  /** Exact decimal string: the sum of the ledger charges (-amount) of these events. */
  cost: string;
}

export type UsageRow = Partial<Record<(typeof GROUP_KEYS)[GroupBy], string>> & UsageMetrics;

const count = (text: string) => {
  const n = Number(text);
  if (!Number.isSafeInteger(n)) throw new RangeError(`count out of range: ${text}`);
  return n;
};

/** An aggregate row from SQL -> a report row (group keys first, in group_by order). */
export function toUsageRow(row: AggregateRow, groupBy: GroupBy[]): UsageRow {
  const out: Record<string, unknown> = {};
  for (const g of groupBy) out[GROUP_KEYS[g]] = row[GROUP_KEYS[g]];
  out.requests = count(row.requests);
  out.uncharged_requests = count(row.uncharged_requests);
  out.input_tokens = count(row.input_tokens);
  out.cached_tokens = count(row.cached_tokens);
  out.output_tokens = count(row.output_tokens);
  out.reasoning_tokens = count(row.reasoning_tokens);
  out.cost = addAmounts(row.cost);
  return out as unknown as UsageRow;
}

/** The totals of a report: integer sums and the exact sum of the costs. */
export function totalsOf(rows: UsageMetrics[]): UsageMetrics {
  const totals: UsageMetrics = { requests: 0, uncharged_requests: 0, input_tokens: 0, cached_tokens: 0, output_tokens: 0, reasoning_tokens: 0, cost: '0' };
  for (const r of rows) {
    totals.requests += r.requests;
    totals.uncharged_requests += r.uncharged_requests;
    totals.input_tokens += r.input_tokens;
    totals.cached_tokens += r.cached_tokens;
    totals.output_tokens += r.output_tokens;
    totals.reasoning_tokens += r.reasoning_tokens;
  }
  totals.cost = rows.reduce((acc, r) => addAmounts(acc, r.cost), '0');
  return totals;
}

const NUMERIC_COLUMNS: ReadonlySet<string> = new Set(METRIC_COLUMNS);

/** CSV with a header row: the group keys (in group_by order), then the metric columns. */
export function usageCsv(rows: UsageRow[], groupBy: GroupBy[]): string {
  const columns = [...groupBy.map((g) => GROUP_KEYS[g]), ...METRIC_COLUMNS];
  return safeCsv(
    columns,
    rows.map((r) => columns.map((c) => String((r as unknown as Record<string, unknown>)[c] ?? ''))),
    NUMERIC_COLUMNS,
  );
}
