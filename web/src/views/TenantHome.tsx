import { get } from '../api';
import { Amount } from '../components/Amount';
import { InvoicesPanel } from '../components/InvoicesPanel';
import { Show } from '../components/Status';
import { UsagePanel } from '../components/UsagePanel';
import { useLoad } from '../components/useLoad';

interface Balance {
  balance: string;
  reserved: string;
  available: string;
  credit_limit: string;
  budget: { limit: string; period: string; spent: string; reserved: string; remaining: string; resets_at: string | null } | null;
}

/** A tenant's own view: its balance and budget, usage, invoices. */
export function TenantHome() {
  const state = useLoad(() => get<Balance>('/v1/balance'), []);
  return (
    <>
      <h1>Your account</h1>
      <Show state={state}>
        {(b) => (
          <dl class="cards">
            <div>
              <dt>Balance (USD)</dt>
              <dd data-testid="tenant-balance"><Amount value={b.balance} /></dd>
            </div>
            <div>
              <dt>Held by running requests</dt>
              <dd><Amount value={b.reserved} /></dd>
            </div>
            <div>
              <dt>Available</dt>
              <dd><Amount value={b.available} /></dd>
            </div>
            <div>
              <dt>Credit limit</dt>
              <dd data-testid="credit-limit"><Amount value={b.credit_limit} /></dd>
            </div>
            {b.budget && (
              <div>
                <dt>This key's budget ({b.budget.period})</dt>
                <dd data-testid="key-budget">
                  <Amount value={b.budget.spent} /> of <Amount value={b.budget.limit} /> spent, <Amount value={b.budget.reserved} /> held; <Amount value={b.budget.remaining} /> left
                  {b.budget.resets_at && <small class="muted"> · resets {b.budget.resets_at.slice(0, 10)}</small>}
                </dd>
              </div>
            )}
          </dl>
        )}
      </Show>
      <UsagePanel id="my-usage" path="/v1/usage" />
      <InvoicesPanel basePath="/v1/invoices" />
    </>
  );
}
