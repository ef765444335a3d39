import { useMemo, useState } from 'preact/hooks';
import { get } from '../api';
import { approx } from '../decimal';
import { daysOf, lastDays, periodQuery } from '../period';
import { Amount } from './Amount';
import { PeriodPicker } from './PeriodPicker';
import { Empty, Show } from './Status';
import { UsageChart } from './UsageChart';
import { useLoad } from './useLoad';

export interface UsageRow {
  day?: string;
  model?: string;
  tenant_id?: string;
  requests: number;
  uncharged_requests: number;
  input_tokens: number;
  cached_tokens: number;
  output_tokens: number;
  reasoning_tokens: number;
  cost: string;
}

export interface UsageReport {
  data: UsageRow[];
  totals: UsageRow;
}

/** Usage by day and model: a chart of cost per day and model, and the exact table. */
export function UsagePanel({ path, tenantId, id }: { path: string; tenantId?: string; id: string }) {
  const [period, setPeriod] = useState(lastDays(30));
  const state = useLoad(() => get<UsageReport>(path, { tenant_id: tenantId, group_by: 'day,model', ...periodQuery(period) }), [path, tenantId, period]);
  return (
    <section aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>Usage</h2>
      <PeriodPicker id={id} period={period} onChange={setPeriod} />
      <Show state={state}>{(report) => <UsageByModel report={report} days={daysOf(period)} />}</Show>
    </section>
  );
}

function UsageByModel({ report, days }: { report: UsageReport; days: string[] }) {
  const series = useMemo(() => {
    const models = [...new Set(report.data.map((r) => r.model!))].sort();
    return models.map((model) => {
      const byDay = new Map(report.data.filter((r) => r.model === model).map((r) => [r.day!, approx(r.cost)]));
      return { label: model, values: days.map((d) => byDay.get(d) ?? 0) };
    });
  }, [report, days]);
  if (!report.data.length) return <Empty>No usage in this period.</Empty>;
  return (
    <>
      <UsageChart title="Cost per day by model (USD)" days={days} series={series} />
      <UsageTable rows={report.data} totals={report.totals} keys={['day', 'model']} />
    </>
  );
}

const KEY_LABELS: Record<string, string> = { day: 'Day', model: 'Model', tenant_id: 'Tenant' };

interface TableProps {
  rows: UsageRow[];
  totals?: UsageRow;
  keys: Array<keyof UsageRow>;
  /** The first key's cell text (a tenant's name for its id). */
  label?: (row: UsageRow) => string;
  /** Without the cached and reasoning columns. */
  compact?: boolean;
}

export function UsageTable({ rows, totals, keys, label, compact }: TableProps) {
  return (
    <div class="table-wrap" tabIndex={0} aria-label="Usage table">
      <table>
        <thead>
          <tr>
            {keys.map((k) => (
              <th scope="col" key={k}>
                {KEY_LABELS[k] ?? k}
              </th>
            ))}
            <th scope="col" class="num">Cost (USD)</th>
            <th scope="col" class="num">Requests</th>
            <th scope="col" class="num">Input tokens</th>
            {!compact && <th scope="col" class="num">Cached</th>}
            <th scope="col" class="num">Output tokens</th>
            {!compact && <th scope="col" class="num">Reasoning</th>}
          </tr>
        </thead>
        <tbody>
          {rows.map((r, i) => (
            <tr key={i}>
              {keys.map((k, j) => (
                <td key={k}>{j === 0 && label ? label(r) : String(r[k] ?? '')}</td>
              ))}
              <UsageCells row={r} compact={compact} />
            </tr>
          ))}
        </tbody>
        {totals && (
          <tfoot>
            <tr>
              <th scope="row" colSpan={keys.length}>
                Total
              </th>
              <UsageCells row={totals} compact={compact} />
            </tr>
          </tfoot>
        )}
      </table>
    </div>
  );
}

const UsageCells = ({ row, compact }: { row: UsageRow; compact?: boolean }) => (
  <>
    <td class="num">
      <Amount value={row.cost} />
    </td>
    <td class="num">{row.requests}</td>
    <td class="num">{row.input_tokens}</td>
    {!compact && <td class="num">{row.cached_tokens}</td>}
    <td class="num">{row.output_tokens}</td>
    {!compact && <td class="num">{row.reasoning_tokens}</td>}
  </>
);
