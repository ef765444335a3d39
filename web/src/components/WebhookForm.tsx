import { useState } from 'preact/hooks';
import { api } from '../api';
import { Field, valueOf } from './Field';
import { ErrorMessage } from './Status';
import { useAction } from './useAction';

export const WEBHOOK_EVENTS = ['balance.low', 'budget.threshold', 'invoice.ready', 'charge.failed'];

/** POST /admin/webhooks; the signing secret is in the answer only, so it is shown once. */
export function WebhookForm({ onCreated }: { onCreated: () => void }) {
  const [url, setUrl] = useState('');
  const [tenantId, setTenantId] = useState('');
  const [events, setEvents] = useState<string[]>([...WEBHOOK_EVENTS]);
  const [secret, setSecret] = useState<string | null>(null);
  const action = useAction();
  const toggle = (event: string) => setEvents(events.includes(event) ? events.filter((e) => e !== event) : [...events, event]);
  const submit = async (e: Event) => {
    e.preventDefault();
    const body = { url: url.trim(), events, ...(tenantId.trim() ? { tenant_id: tenantId.trim() } : {}) };
    const created = await action.run(() => api<{ secret: string }>('POST', '/admin/webhooks', body));
    if (created) {
      setSecret(created.secret);
      setUrl('');
      onCreated();
    }
  };
  return (
    <>
      {secret && (
        <div class="notice" role="status">
          <p>Signing secret — copy it now, it is not shown again:</p>
          <code class="secret">{secret}</code>
          <button type="button" onClick={() => setSecret(null)}>
            Done
          </button>
        </div>
      )}
      <details>
        <summary>Add a webhook</summary>
        <form class="key-form" onSubmit={submit} aria-label="Add a webhook">
          <Field id="webhook-url" label="URL" type="url" required value={url} onInput={(e) => setUrl(valueOf(e))} />
          <Field id="webhook-tenant" label="Tenant id (optional)" hint="Empty: every tenant." value={tenantId} onInput={(e) => setTenantId(valueOf(e))} />
          <fieldset class="period">
            <legend>Events</legend>
            {WEBHOOK_EVENTS.map((event) => (
              <label key={event} class="check">
                <input type="checkbox" checked={events.includes(event)} onChange={() => toggle(event)} /> {event}
              </label>
            ))}
          </fieldset>
          <button type="submit" disabled={action.busy}>
            Add webhook
          </button>
          <ErrorMessage error={action.error} />
        </form>
      </details>
    </>
  );
}
