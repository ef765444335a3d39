import { useMemo, useState } from 'preact/hooks';
import { get } from '../api';
import { Amount } from '../components/Amount';
import { PeriodPicker } from '../components/PeriodPicker';
import { Empty, Show } from '../components/Status';
import { UsageChart } from '../components/UsageChart';
import { UsageReport, UsageRow, UsageTable } from '../components/UsagePanel';
import { useLoad } from '../components/useLoad';
import { approx, compareDecimal } from '../decimal';
import { daysOf, lastDays, periodQuery } from '../period';

const TOP = 5;
const byCost = (rows: UsageRow[]) => [...rows].sort((a, b) => compareDecimal(b.cost, a.cost)).slice(0, TOP);

/** The admin overview: spend, requests and tokens of a period, cost per day, top tenants and models. */
export function Overview() {
  const [period, setPeriod] = useState(lastDays(30));
  const state = useLoad(async () => {
    const q = periodQuery(period);
    const [days, tenants, models, names] = await Promise.all([
      get<UsageReport>('/admin/usage', { ...q, group_by: 'day' }),
      get<UsageReport>('/admin/usage', { ...q, group_by: 'tenant' }),
      get<UsageReport>('/admin/usage', { ...q, group_by: 'model' }),
      get<{ data: Array<{ id: string; name: string }> }>('/admin/tenants'),
    ]);
    return { days, tenants, models, names: new Map(names.data.map((t) => [t.id, t.name])) };
  }, [period]);
  return (
    <>
      <h1>Overview</h1>
      <PeriodPicker id="overview" period={period} onChange={setPeriod} />
      <Show state={state}>
        {(r) => (
          <>
            <Totals totals={r.days.totals} />
            <CostPerDay report={r.days} days={daysOf(period)} />
            <div class="columns">
              <section aria-labelledby="top-tenants">
                <h2 id="top-tenants">Top tenants</h2>
                {r.tenants.data.length ? (
                  <UsageTable rows={byCost(r.tenants.data)} keys={['tenant_id']} compact label={(row) => r.names.get(row.tenant_id!) ?? row.tenant_id!} />
                ) : (
                  <Empty>No usage in this period.</Empty>
                )}
              </section>
              <section aria-labelledby="top-models">
                <h2 id="top-models">Top models</h2>
                {r.models.data.length ? <UsageTable rows={byCost(r.models.data)} keys={['model']} compact /> : <Empty>No usage in this period.</Empty>}
              </section>
            </div>
          </>
        )}
      </Show>
    </>
  );
}

function Totals({ totals }: { totals: UsageRow }) {
  return (
    <dl class="cards">
      <div>
        <dt>Spend (USD)</dt>
        <dd>
          <Amount value={totals.cost} />
        </dd>
      </div>
      <div>
        <dt>Requests</dt>
        <dd>{totals.requests}</dd>
      </div>
      <div>
        <dt>Input tokens</dt>
        <dd>{totals.input_tokens}</dd>
      </div>
      <div>
        <dt>Output tokens</dt>
        <dd>{totals.output_tokens}</dd>
      </div>
    </dl>
  );
}

function CostPerDay({ report, days }: { report: UsageReport; days: string[] }) {
  const series = useMemo(() => {
    const byDay = new Map(report.data.map((r) => [r.day!, approx(r.cost)]));
    return [{ label: 'cost', values: days.map((d) => byDay.get(d) ?? 0) }];
  }, [report, days]);
  if (!report.data.length) return <Empty>No usage in this period.</Empty>;
  return <UsageChart title="Cost per day (USD)" days={days} series={series} />;
}
