import { Prisma } from '../generated/prisma/client';
import { planRange, TimeRange } from './time-range';

/** A grouping key: how to read it from a rollup row (`r`) and from a raw usage event (`e`, with its charge `l`). */
export interface KeySpec {
  alias: string;
  rollup: Prisma.Sql;
  raw: Prisma.Sql;
}

/** The sums every aggregate row carries (as text: exact numerics, 64-bit counts). */
export interface AggregateRow {
  requests: string;
  uncharged_requests: string;
  input_tokens: string;
  cached_tokens: string;
  output_tokens: string;
  reasoning_tokens: string;
  cost: string;
  input_cost: string;
  cached_input_cost: string;
  output_cost: string;
  reasoning_cost: string;
  [key: string]: string | null;
}

export const NO_PRICE_ID = '00000000-0000-0000-0000-000000000000';

/** The columns of a usage report row. */
export const REPORT_METRICS = ['requests', 'uncharged_requests', 'input_tokens', 'cached_tokens', 'output_tokens', 'reasoning_tokens', 'cost'] as const;

/** What an aggregate carries: the report's columns plus the cost breakdown (invoices use it). */
const METRICS = [...REPORT_METRICS, 'input_cost', 'cached_input_cost', 'output_cost', 'reasoning_cost'] as const;

const ts = (d: Date) => Prisma.sql`${d.toISOString()}::timestamptz`;
const and = (parts: Prisma.Sql[]) => (parts.length ? Prisma.join(parts, ' AND ') : Prisma.sql`TRUE`);

/**
 * One SQL statement (so one snapshot: a charge is either in the rollup and marked on its event, or
 * neither) that aggregates the usage of [from, to) by `keys`:
 *
 *  - whole UTC hours from usage_rollups (charged events, kept by the ledger trigger),
 *  - plus the uncharged events of those hours (usage_events, charged_at IS NULL: a small index range),
 *  - plus the partial hours at the range's edges from usage_events LEFT JOIN ledger_entries.
 *
 * Costs are sums of the ledger's charges (-amount and the breakdown columns), so they equal the
 * ledger exactly. `chargedOnly` leaves uncharged events out altogether (invoices).
 * Returns null when the range is empty.
 */
export function usageAggregateSql(opts: { tenantId?: string; range: TimeRange; keys: KeySpec[]; chargedOnly?: boolean }): Prisma.Sql | null {
  const { tenantId, keys, chargedOnly = false } = opts;
  const plan = planRange(opts.range);
  const groupBy = keys.length ? Prisma.sql`GROUP BY ${Prisma.raw(keys.map((_, i) => String(i + 1)).join(', '))}` : Prisma.empty;
  const keyCols = (side: 'rollup' | 'raw') => keys.map((k) => Prisma.sql`${k[side]} AS ${Prisma.raw(`"${k.alias}"`)}`);
  const select = (side: 'rollup' | 'raw', metrics: Prisma.Sql[]) => Prisma.join([...keyCols(side), ...metrics], ', ');
  const parts: Prisma.Sql[] = [];

  if (plan.hours) {
    const { from, to } = plan.hours;
    const where = and([
      ...(tenantId ? [Prisma.sql`r.tenant_id = ${tenantId}::uuid`] : []),
      ...(from ? [Prisma.sql`r.hour >= ${ts(from)}`] : []),
      ...(to ? [Prisma.sql`r.hour < ${ts(to)}`] : []),
    ]);
    parts.push(Prisma.sql`
      SELECT ${select('rollup', [
        Prisma.sql`sum(r.requests) AS requests`,
        Prisma.sql`0::bigint AS uncharged_requests`,
        Prisma.sql`sum(r.input_tokens) AS input_tokens`,
        Prisma.sql`sum(r.cached_tokens) AS cached_tokens`,
        Prisma.sql`sum(r.output_tokens) AS output_tokens`,
        Prisma.sql`sum(r.reasoning_tokens) AS reasoning_tokens`,
        Prisma.sql`sum(r.cost) AS cost`,
        Prisma.sql`sum(r.input_cost) AS input_cost`,
        Prisma.sql`sum(r.cached_input_cost) AS cached_input_cost`,
        Prisma.sql`sum(r.output_cost) AS output_cost`,
        Prisma.sql`sum(r.reasoning_cost) AS reasoning_cost`,
      ])}
        FROM usage_rollups r
       WHERE ${where}
       ${groupBy}`);
    if (!chargedOnly) {
      // The events of those hours not charged yet: few, found through (charged_at, created_at).
      const whereRaw = and([
        Prisma.sql`e.charged_at IS NULL`,
        ...(tenantId ? [Prisma.sql`e.tenant_id = ${tenantId}::uuid`] : []),
        ...(from ? [Prisma.sql`e.created_at >= ${ts(from)}`] : []),
        ...(to ? [Prisma.sql`e.created_at < ${ts(to)}`] : []),
      ]);
      parts.push(Prisma.sql`
        SELECT ${select('raw', [
          Prisma.sql`count(*) AS requests`,
          Prisma.sql`count(*) AS uncharged_requests`,
          Prisma.sql`sum(e.input_tokens) AS input_tokens`,
          Prisma.sql`sum(e.cached_tokens) AS cached_tokens`,
          Prisma.sql`sum(e.output_tokens) AS output_tokens`,
          Prisma.sql`sum(e.reasoning_tokens) AS reasoning_tokens`,
          Prisma.sql`0::numeric AS cost`,
          Prisma.sql`0::numeric AS input_cost`,
          Prisma.sql`0::numeric AS cached_input_cost`,
          Prisma.sql`0::numeric AS output_cost`,
          Prisma.sql`0::numeric AS reasoning_cost`,
        ])}
          FROM usage_events e LEFT JOIN ledger_entries l ON false -- no charge, by definition (keys may name l)
         WHERE ${whereRaw}
         ${groupBy}`);
    }
  }

  if (plan.edges.length) {
    const pieces = plan.edges.map((edge) =>
      Prisma.sql`(${and([...(edge.from ? [Prisma.sql`e.created_at >= ${ts(edge.from)}`] : []), ...(edge.to ? [Prisma.sql`e.created_at < ${ts(edge.to)}`] : [])])})`,
    );
    const whereRaw = and([...(tenantId ? [Prisma.sql`e.tenant_id = ${tenantId}::uuid`] : []), Prisma.sql`(${Prisma.join(pieces, ' OR ')})`]);
    parts.push(Prisma.sql`
      SELECT ${select('raw', [
        Prisma.sql`count(*) AS requests`,
        Prisma.sql`count(*) FILTER (WHERE l.id IS NULL) AS uncharged_requests`,
        Prisma.sql`sum(e.input_tokens) AS input_tokens`,
        Prisma.sql`sum(e.cached_tokens) AS cached_tokens`,
        Prisma.sql`sum(e.output_tokens) AS output_tokens`,
        Prisma.sql`sum(e.reasoning_tokens) AS reasoning_tokens`,
        Prisma.sql`sum(-l.amount) AS cost`,
        Prisma.sql`sum(l.input_cost) AS input_cost`,
        Prisma.sql`sum(l.cached_input_cost) AS cached_input_cost`,
        Prisma.sql`sum(l.output_cost) AS output_cost`,
        Prisma.sql`sum(l.reasoning_cost) AS reasoning_cost`,
      ])}
        FROM usage_events e ${chargedOnly ? Prisma.sql`JOIN` : Prisma.sql`LEFT JOIN`} ledger_entries l ON l.usage_event_id = e.id
       WHERE ${whereRaw}
       ${groupBy}`);
  }

  if (!parts.length) return null;
  const outerKeys = keys.map((k) => Prisma.raw(`"${k.alias}"`));
  const outerMetrics = METRICS.map((m) => Prisma.raw(`coalesce(sum(${m}), 0)::text AS ${m}`));
  return Prisma.sql`
    SELECT ${Prisma.join([...outerKeys, ...outerMetrics], ', ')}
      FROM (${Prisma.join(parts, ' UNION ALL ')}) parts
     ${keys.length ? Prisma.sql`GROUP BY ${Prisma.join(outerKeys, ', ')} ORDER BY ${Prisma.join(outerKeys, ', ')}` : Prisma.empty}`;
}

/** A zero row (the one total row of an empty range). */
export const zeroAggregate = (): AggregateRow =>
  Object.fromEntries(METRICS.map((m) => [m, '0'])) as unknown as AggregateRow;
