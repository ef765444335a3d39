import { useEffect, useState } from 'preact/hooks';
import { api, download, get } from '../api';
import { Amount } from './Amount';
import { Field, valueOf } from './Field';
import { Empty, ErrorMessage, Show } from './Status';
import { useAction } from './useAction';
import { useLoad } from './useLoad';

export interface Invoice {
  id: string;
  tenant_id: string;
  period_start: string;
  period_end: string;
  status: 'queued' | 'running' | 'ready' | 'failed';
  total: string | null;
  total_rounded: string | null;
  charges: number | null;
  error: string | null;
}

const FORMATS = ['csv', 'json', 'pdf'] as const;

/** A tenant's invoices with their downloads; `canCreate` adds the admin's form. */
export function InvoicesPanel({ basePath, tenantId, canCreate }: { basePath: string; tenantId?: string; canCreate?: boolean }) {
  const state = useLoad(() => get<{ data: Invoice[] }>(basePath, { tenant_id: tenantId, limit: 100 }), [basePath, tenantId]);
  const pending = state.data?.data.some((i) => i.status === 'queued' || i.status === 'running');
  useEffect(() => {
    if (!pending) return;
    const timer = setTimeout(state.reload, 1000);
    return () => clearTimeout(timer);
  }, [state.data]);
  return (
    <section aria-labelledby="invoices-title">
      <h2 id="invoices-title">Invoices</h2>
      {canCreate && tenantId && <CreateInvoice tenantId={tenantId} onCreated={state.reload} />}
      <Show state={state}>
        {(page) => (page.data.length ? <InvoiceTable invoices={page.data} basePath={basePath} /> : <Empty>No invoices yet.</Empty>)}
      </Show>
    </section>
  );
}

function InvoiceTable({ invoices, basePath }: { invoices: Invoice[]; basePath: string }) {
  const action = useAction();
  const fetchFile = (inv: Invoice, fmt: string) =>
    action.run(() => download(`${basePath}/${inv.id}/export?format=${fmt}`, `invoice-${inv.period_start.slice(0, 10)}-${inv.id.slice(0, 8)}.${fmt}`));
  return (
    <div class="table-wrap">
      <ErrorMessage error={action.error} />
      <table>
        <thead>
          <tr>
            <th scope="col">Period</th>
            <th scope="col">Status</th>
            <th scope="col" class="num">Charges</th>
            <th scope="col" class="num">Total (USD)</th>
            <th scope="col" class="num">Rounded</th>
            <th scope="col">Download</th>
          </tr>
        </thead>
        <tbody>
          {invoices.map((inv) => (
            <tr key={inv.id} data-invoice={inv.id}>
              <td>
                {inv.period_start.slice(0, 10)} → {inv.period_end.slice(0, 10)}
              </td>
              <td>
                <span class={`badge ${inv.status}`}>{inv.status}</span>
                {inv.error && <small class="muted"> {inv.error}</small>}
              </td>
              <td class="num">{inv.charges ?? ''}</td>
              <td class="num">
                <Amount value={inv.total} />
              </td>
              <td class="num">
                <Amount value={inv.total_rounded} />
              </td>
              <td class="actions">
                {inv.status === 'ready'
                  ? FORMATS.map((fmt) => (
                      <button type="button" key={fmt} disabled={action.busy} onClick={() => void fetchFile(inv, fmt)} aria-label={`Download ${fmt.toUpperCase()} of ${inv.period_start.slice(0, 10)}`}>
                        {fmt.toUpperCase()}
                      </button>
                    ))
                  : '—'}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

const firstOfMonth = (offset: number) => {
  const d = new Date();
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + offset, 1)).toISOString().slice(0, 10);
};

function CreateInvoice({ tenantId, onCreated }: { tenantId: string; onCreated: () => void }) {
  const [start, setStart] = useState(firstOfMonth(0));
  const [end, setEnd] = useState(firstOfMonth(1));
  const action = useAction();
  const submit = async (e: Event) => {
    e.preventDefault();
    const body = { tenant_id: tenantId, period_start: `${start}T00:00:00Z`, period_end: `${end}T00:00:00Z` };
    if (await action.run(() => api('POST', '/admin/invoices', body))) onCreated();
  };
  return (
    <form class="inline-form" onSubmit={submit} aria-label="Create an invoice">
      <Field id="invoice-start" label="Period start (UTC)" type="date" required value={start} onChange={(e) => setStart(valueOf(e))} />
      <Field id="invoice-end" label="Period end (excluded)" type="date" required value={end} onChange={(e) => setEnd(valueOf(e))} />
      <button type="submit" disabled={action.busy}>
        Create invoice
      </button>
      <ErrorMessage error={action.error} />
    </form>
  );
}
