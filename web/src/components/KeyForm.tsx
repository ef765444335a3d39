import { useState } from 'preact/hooks';
import { Field, valueOf } from './Field';
import type { ApiKey } from './KeysPanel';

const PERIODS = ['day', 'week', 'month', 'total'];

interface Props {
  idPrefix: string;
  submitLabel: string;
  busy: boolean;
  initial?: ApiKey;
  onSubmit: (fields: Record<string, string>) => Promise<boolean>;
}

/** Key fields; budget, expiry and allowed models when creating, or when the key has them. */
export function KeyForm({ idPrefix, submitLabel, busy, initial, onSubmit }: Props) {
  const [fields, setFields] = useState<Record<string, string>>({});
  const set = (name: string) => (e: Event) => setFields({ ...fields, [name]: valueOf(e) });
  const editing = !!initial;
  const spendControls = !initial || 'budget_limit' in initial || 'expires_at' in initial || 'allowed_models' in initial;
  const hint = editing ? 'Empty keeps it; "none" removes it.' : undefined;
  const submit = async (e: Event) => {
    e.preventDefault();
    if (await onSubmit(fields)) setFields({});
  };
  const id = (name: string) => `${idPrefix}-${name}`;
  return (
    <form class="key-form" onSubmit={submit}>
      {!editing && <Field id={id('name')} label="Name" value={fields.name ?? ''} onInput={set('name')} />}
      <Field id={id('rpm')} label="Requests per minute" inputMode="numeric" placeholder={initial?.rpm_limit?.toString() ?? 'no limit'} hint={hint} value={fields.rpm_limit ?? ''} onInput={set('rpm_limit')} />
      <Field id={id('tpm')} label="Tokens per minute" inputMode="numeric" placeholder={initial?.tpm_limit?.toString() ?? 'no limit'} hint={hint} value={fields.tpm_limit ?? ''} onInput={set('tpm_limit')} />
      {spendControls && (
        <>
          <Field id={id('budget')} label="Budget (USD)" inputMode="decimal" placeholder={initial?.budget_limit ?? 'no budget'} hint={hint} value={fields.budget_limit ?? ''} onInput={set('budget_limit')} />
          <div class="field">
            <label for={id('period')}>Budget period</label>
            <select id={id('period')} value={fields.budget_period ?? ''} onChange={set('budget_period')}>
              <option value="">{initial?.budget_period ? `keep (${initial.budget_period})` : 'default'}</option>
              {PERIODS.map((p) => (
                <option key={p} value={p}>
                  {p}
                </option>
              ))}
            </select>
          </div>
          <Field id={id('expires')} label="Expires at" type="datetime-local" value={fields.expires_at ?? ''} onInput={set('expires_at')} />
          <Field id={id('models')} label="Allowed models (comma-separated)" placeholder={initial?.allowed_models?.join(', ') ?? 'all models'} hint={hint} value={fields.allowed_models ?? ''} onInput={set('allowed_models')} />
        </>
      )}
      <button type="submit" disabled={busy}>
        {submitLabel}
      </button>
    </form>
  );
}
