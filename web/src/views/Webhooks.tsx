import { useState } from 'preact/hooks';
import { api, get } from '../api';
import { Empty, ErrorMessage, Show } from '../components/Status';
import { useAction } from '../components/useAction';
import { useLoad } from '../components/useLoad';
import { WebhookForm } from '../components/WebhookForm';

interface Webhook {
  id: string;
  url: string;
  events: string[];
  tenant_id: string | null;
}

interface Delivery {
  id: string;
  event_id: string;
  type: string;
  status: 'pending' | 'delivered' | 'failed';
  attempts: number;
  last_status_code: number | null;
  created_at: string;
  delivered_at: string | null;
}

/** Webhook endpoints, adding one (its secret shown once), and each one's deliveries. */
export function Webhooks() {
  const state = useLoad(() => get<{ data: Webhook[] }>('/admin/webhooks'), []);
  const [open, setOpen] = useState<string | null>(null);
  return (
    <>
      <h1>Webhooks</h1>
      <WebhookForm onCreated={state.reload} />
      <Show state={state}>
        {({ data }) =>
          data.length ? (
            <ul class="cards-list">
              {data.map((w) => (
                <li key={w.id} data-webhook={w.id}>
                  <strong class="ellipsis">{w.url}</strong>
                  <div class="muted">
                    {w.events.join(', ')} · {w.tenant_id ? `tenant ${w.tenant_id}` : 'all tenants'}
                  </div>
                  <div class="actions">
                    <button type="button" aria-expanded={open === w.id} onClick={() => setOpen(open === w.id ? null : w.id)}>
                      Deliveries
                    </button>
                    <RemoveWebhook webhook={w} onRemoved={state.reload} />
                  </div>
                  {open === w.id && <Deliveries webhookId={w.id} />}
                </li>
              ))}
            </ul>
          ) : (
            <Empty>No webhooks yet.</Empty>
          )
        }
      </Show>
    </>
  );
}

function RemoveWebhook({ webhook, onRemoved }: { webhook: Webhook; onRemoved: () => void }) {
  const [confirming, setConfirming] = useState(false);
  const action = useAction();
  const remove = async () => {
    if (await action.run(() => api('DELETE', `/admin/webhooks/${webhook.id}`))) onRemoved();
  };
  return confirming ? (
    <>
      <button type="button" class="danger" disabled={action.busy} onClick={() => void remove()} aria-label={`Confirm removing ${webhook.url}`}>
        Confirm remove
      </button>
      <button type="button" onClick={() => setConfirming(false)}>
        Cancel
      </button>
      <ErrorMessage error={action.error} />
    </>
  ) : (
    <button type="button" class="danger" onClick={() => setConfirming(true)} aria-label={`Remove ${webhook.url}`}>
      Remove
    </button>
  );
}

function Deliveries({ webhookId }: { webhookId: string }) {
  const state = useLoad(() => get<{ data: Delivery[]; has_more: boolean }>(`/admin/webhooks/${webhookId}/deliveries`, { limit: 50 }), [webhookId]);
  if (state.error) return <ErrorMessage error={state.error} />;
  return (
    <Show state={state}>
      {({ data }) =>
        data.length ? (
          <div class="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">Created</th>
                  <th scope="col">Event</th>
                  <th scope="col">Status</th>
                  <th scope="col" class="num">Attempts</th>
                  <th scope="col" class="num">Last HTTP status</th>
                </tr>
              </thead>
              <tbody>
                {data.map((d) => (
                  <tr key={d.id}>
                    <td>{d.created_at.replace('T', ' ').slice(0, 19)}</td>
                    <td>{d.type}</td>
                    <td><span class={`badge ${d.status}`}>{d.status}</span></td>
                    <td class="num">{d.attempts}</td>
                    <td class="num">{d.last_status_code ?? '—'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ) : (
          <Empty>No deliveries yet.</Empty>
        )
      }
    </Show>
  );
}
