import { useState } from 'preact/hooks';
import { api, get } from '../api';
import { Amount } from '../components/Amount';
import { Field, valueOf } from '../components/Field';
import { InvoicesPanel } from '../components/InvoicesPanel';
import { KeysPanel } from '../components/KeysPanel';
import { TenantLimitsForm } from '../components/TenantLimitsForm';
import { LedgerPanel } from '../components/LedgerPanel';
import { ErrorMessage, Show } from '../components/Status';
import { UsagePanel } from '../components/UsagePanel';
import { useAction } from '../components/useAction';
import { useLoad } from '../components/useLoad';
import type { Tenant } from './Tenants';

/** One tenant: balance, credit, spend limits and suspend; its keys, ledger, usage and invoices. */
export function TenantPage({ id }: { id: string }) {
  const state = useLoad(() => get<Tenant>(`/admin/tenants/${id}`), [id]);
  const [ledgerRev, setLedgerRev] = useState(0);
  const changed = () => {
    state.reload();
    setLedgerRev((r) => r + 1);
  };
  return (
    <Show state={state}>
      {(tenant) => (
        <>
          <h1>{tenant.name}</h1>
          <p class="muted">
            <code>{tenant.id}</code>
          </p>
          <dl class="cards">
            <div>
              <dt>Balance (USD)</dt>
              <dd data-testid="tenant-balance">
                <Amount value={tenant.balance} />
              </dd>
            </div>
            <div>
              <dt>Credit limit (USD)</dt>
              <dd data-testid="tenant-credit-limit">
                <Amount value={tenant.credit_limit} />
              </dd>
            </div>
            <div>
              <dt>Low-balance threshold (USD)</dt>
              <dd data-testid="tenant-threshold">{tenant.low_balance_threshold === null ? <span class="muted">none</span> : <Amount value={tenant.low_balance_threshold} />}</dd>
            </div>
            <div>
              <dt>Status</dt>
              <dd>
                <span class={`badge ${tenant.status}`}>{tenant.status}</span>
              </dd>
            </div>
          </dl>
          <div class="columns">
            <CreditForm tenantId={id} onDone={changed} />
            <StatusToggle tenant={tenant} onDone={changed} />
          </div>
          <TenantLimitsForm tenant={tenant} onDone={changed} />
          <KeysPanel tenantId={id} />
          <LedgerPanel tenantId={id} revision={ledgerRev} />
          <UsagePanel id="tenant-usage" path="/admin/usage" tenantId={id} />
          <InvoicesPanel basePath="/admin/invoices" tenantId={id} canCreate />
        </>
      )}
    </Show>
  );
}

function CreditForm({ tenantId, onDone }: { tenantId: string; onDone: () => void }) {
  const [amount, setAmount] = useState('');
  const [reference, setReference] = useState('');
  const action = useAction();
  const submit = async (e: Event) => {
    e.preventDefault();
    const body = { amount: amount.trim(), ...(reference.trim() ? { reference: reference.trim() } : {}) };
    if (await action.run(() => api('POST', `/admin/tenants/${tenantId}/credits`, body))) {
      setAmount('');
      setReference('');
      onDone();
    }
  };
  return (
    <form class="inline-form" onSubmit={submit} aria-label="Add credits">
      <Field id="credit-amount" label="Credit amount (USD)" inputMode="decimal" required value={amount} onInput={(e) => setAmount(valueOf(e))} />
      <Field id="credit-reference" label="Reference (optional)" value={reference} onInput={(e) => setReference(valueOf(e))} hint="A repeated reference is not credited twice." />
      <button type="submit" disabled={action.busy}>
        Add credits
      </button>
      <ErrorMessage error={action.error} />
    </form>
  );
}

function StatusToggle({ tenant, onDone }: { tenant: Tenant; onDone: () => void }) {
  const action = useAction();
  const next = tenant.status === 'active' ? 'suspended' : 'active';
  const toggle = async () => {
    if (await action.run(() => api('PATCH', `/admin/tenants/${tenant.id}`, { status: next }))) onDone();
  };
  return (
    <div class="inline-form">
      <button type="button" class={next === 'suspended' ? 'danger' : ''} disabled={action.busy} onClick={() => void toggle()}>
        {next === 'suspended' ? 'Suspend tenant' : 'Reactivate tenant'}
      </button>
      <ErrorMessage error={action.error} />
    </div>
  );
}
