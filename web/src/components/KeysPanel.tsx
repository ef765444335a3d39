import { useState } from 'preact/hooks';
import { api, get } from '../api';
import { Amount } from './Amount';
import { keyBody } from '../key-body';
import { KeyForm } from './KeyForm';
import { Empty, ErrorMessage, Show } from './Status';
import { useAction } from './useAction';
import { useLoad } from './useLoad';

export interface ApiKey {
  id: string;
  prefix: string;
  name: string | null;
  created_at: string;
  revoked_at: string | null;
  rpm_limit: number | null;
  tpm_limit: number | null;
  budget_limit?: string | null;
  budget_period?: string | null;
  expires_at?: string | null;
  allowed_models?: string[] | null;
}

/** A tenant's keys: create (the key is shown once), change limits, revoke. */
export function KeysPanel({ tenantId }: { tenantId: string }) {
  const state = useLoad(() => get<{ data: ApiKey[] }>(`/admin/tenants/${tenantId}/api-keys`), [tenantId]);
  const [created, setCreated] = useState<{ key: string; name: string | null } | null>(null);
  const action = useAction();
  const create = async (fields: Record<string, string>) => {
    const key = await action.run(() => api<ApiKey & { key: string }>('POST', `/admin/tenants/${tenantId}/api-keys`, keyBody(fields, false)));
    if (key) {
      setCreated({ key: key.key, name: key.name });
      state.reload();
    }
    return !!key;
  };
  return (
    <section aria-labelledby="keys-title">
      <h2 id="keys-title">API keys</h2>
      {created && (
        <div class="notice" role="status" data-testid="new-key">
          <p>
            New key{created.name ? ` “${created.name}”` : ''} — copy it now, it is not shown again:
          </p>
          <code class="secret">{created.key}</code>
          <button type="button" onClick={() => setCreated(null)}>
            Done
          </button>
        </div>
      )}
      <details>
        <summary>Create a key</summary>
        <KeyForm idPrefix="new-key" submitLabel="Create key" busy={action.busy} onSubmit={create} />
        <ErrorMessage error={action.error} />
      </details>
      <Show state={state}>{({ data }) => (data.length ? <KeyTable keys={data} onChange={state.reload} /> : <Empty>No keys yet.</Empty>)}</Show>
    </section>
  );
}

function KeyTable({ keys, onChange }: { keys: ApiKey[]; onChange: () => void }) {
  const hasBudgets = keys.some((k) => 'budget_limit' in k || 'expires_at' in k || 'allowed_models' in k);
  return (
    <div class="table-wrap">
      <table>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Prefix</th>
            <th scope="col">Limits</th>
            {hasBudgets && <th scope="col">Budget, expiry, models</th>}
            <th scope="col">Status</th>
            <th scope="col">Actions</th>
          </tr>
        </thead>
        <tbody>
          {keys.map((k) => (
            <KeyRow key={k.id} apiKey={k} hasBudgets={hasBudgets} onChange={onChange} />
          ))}
        </tbody>
      </table>
    </div>
  );
}

function KeyRow({ apiKey: k, hasBudgets, onChange }: { apiKey: ApiKey; hasBudgets: boolean; onChange: () => void }) {
  const [confirming, setConfirming] = useState(false);
  const [editing, setEditing] = useState(false);
  const action = useAction();
  const label = k.name ?? k.prefix;
  const revoke = async () => {
    if (await action.run(() => api('DELETE', `/admin/api-keys/${k.id}`))) onChange();
  };
  const save = async (fields: Record<string, string>) => {
    const ok = !!(await action.run(() => api('PATCH', `/admin/api-keys/${k.id}`, keyBody(fields, true))));
    if (ok) {
      setEditing(false);
      onChange();
    }
    return ok;
  };
  return (
    <tr data-key={k.id}>
      <td>{k.name ?? <span class="muted">unnamed</span>}</td>
      <td>
        <code>{k.prefix}</code>
      </td>
      <td>
        rpm {k.rpm_limit ?? '∞'}, tpm {k.tpm_limit ?? '∞'}
      </td>
      {hasBudgets && (
        <td>
          {k.budget_limit ? (
            <>
              <Amount value={k.budget_limit} /> / {k.budget_period ?? 'total'}
            </>
          ) : (
            'no budget'
          )}
          {k.expires_at && <div>expires {k.expires_at.slice(0, 16).replace('T', ' ')}</div>}
          {k.allowed_models && <div>models: {k.allowed_models.join(', ')}</div>}
        </td>
      )}
      <td>{k.revoked_at ? <span class="badge suspended">revoked</span> : <span class="badge active">active</span>}</td>
      <td class="actions">
        {!k.revoked_at && (
          <>
            <button type="button" onClick={() => setEditing(!editing)} aria-expanded={editing} aria-label={`Edit ${label}`}>
              Edit
            </button>
            {confirming ? (
              <>
                <button type="button" class="danger" disabled={action.busy} onClick={() => void revoke()} aria-label={`Confirm revoking ${label}`}>
                  Confirm revoke
                </button>
                <button type="button" onClick={() => setConfirming(false)}>
                  Cancel
                </button>
              </>
            ) : (
              <button type="button" class="danger" onClick={() => setConfirming(true)} aria-label={`Revoke ${label}`}>
                Revoke
              </button>
            )}
          </>
        )}
        {editing && <KeyForm idPrefix={`edit-${k.id}`} submitLabel="Save" initial={k} busy={action.busy} onSubmit={save} />}
        <ErrorMessage error={action.error} />
      </td>
    </tr>
  );
}
