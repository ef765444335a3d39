import { useState } from 'preact/hooks';
import { api } from '../api';
import { Field, valueOf } from './Field';
import { ErrorMessage } from './Status';
import { useAction } from './useAction';

interface Limits {
  id: string;
  credit_limit: string;
  low_balance_threshold: string | null;
}

/** PATCH a tenant's credit limit and low-balance threshold; only the fields filled are sent. */
export function TenantLimitsForm({ tenant, onDone }: { tenant: Limits; onDone: () => void }) {
  const [creditLimit, setCreditLimit] = useState('');
  const [threshold, setThreshold] = useState('');
  const action = useAction();
  const submit = async (e: Event) => {
    e.preventDefault();
    const body: Record<string, string | null> = {};
    if (creditLimit.trim()) body.credit_limit = creditLimit.trim();
    if (threshold.trim()) body.low_balance_threshold = threshold.trim().toLowerCase() === 'none' ? null : threshold.trim();
    if (await action.run(() => api('PATCH', `/admin/tenants/${tenant.id}`, body))) {
      setCreditLimit('');
      setThreshold('');
      onDone();
    }
  };
  return (
    <form class="inline-form" onSubmit={submit} aria-label="Spend limits">
      <Field id="credit-limit" label="Credit limit (USD)" inputMode="decimal" placeholder={tenant.credit_limit} hint="How far below zero the balance may go; 0 is prepaid." value={creditLimit} onInput={(e) => setCreditLimit(valueOf(e))} />
      <Field id="low-balance-threshold" label="Low-balance threshold (USD)" inputMode="decimal" placeholder={tenant.low_balance_threshold ?? 'none'} hint={'Sends balance.low below it; "none" removes it.'} value={threshold} onInput={(e) => setThreshold(valueOf(e))} />
      <button type="submit" disabled={action.busy}>
        Save limits
      </button>
      <ErrorMessage error={action.error} />
    </form>
  );
}
