import { useState } from 'preact/hooks';
import { api, get } from '../api';
import { Amount } from '../components/Amount';
import { Field, valueOf } from '../components/Field';
import { Empty, ErrorMessage, Show } from '../components/Status';
import { useAction } from '../components/useAction';
import { useLoad } from '../components/useLoad';
import { navigate } from '../router';

export interface Tenant {
  id: string;
  name: string;
  status: 'active' | 'suspended';
  balance: string;
  credit_limit: string;
  low_balance_threshold: string | null;
  created_at: string;
}

/** Every tenant with its status and exact balance, and a form to create one. */
export function Tenants() {
  const state = useLoad(() => get<{ data: Tenant[] }>('/admin/tenants'), []);
  return (
    <>
      <h1>Tenants</h1>
      <CreateTenant />
      <Show state={state}>
        {({ data }) =>
          data.length ? (
            <div class="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th scope="col">Name</th>
                    <th scope="col">Status</th>
                    <th scope="col" class="num">Balance (USD)</th>
                    <th scope="col">Created</th>
                  </tr>
                </thead>
                <tbody>
                  {data.map((t) => (
                    <tr key={t.id} data-tenant={t.id}>
                      <td>
                        <a href={`/dashboard/tenants/${t.id}`} data-route={`/tenants/${t.id}`}>
                          {t.name}
                        </a>
                      </td>
                      <td>
                        <span class={`badge ${t.status}`}>{t.status}</span>
                      </td>
                      <td class="num">
                        <Amount value={t.balance} />
                      </td>
                      <td>{t.created_at.slice(0, 10)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          ) : (
            <Empty>No tenants yet.</Empty>
          )
        }
      </Show>
    </>
  );
}

function CreateTenant() {
  const [name, setName] = useState('');
  const [credits, setCredits] = useState('');
  const action = useAction();
  const submit = async (e: Event) => {
    e.preventDefault();
    const tenant = await action.run(() => api<Tenant>('POST', '/admin/tenants', { name, ...(credits.trim() ? { credits: credits.trim() } : {}) }));
    if (tenant) navigate(`/tenants/${tenant.id}`);
  };
  return (
    <form class="inline-form" onSubmit={submit} aria-label="Create a tenant">
      <Field id="tenant-name" label="Name" required value={name} onInput={(e) => setName(valueOf(e))} />
      <Field id="tenant-credits" label="Opening credits (USD)" inputMode="decimal" placeholder="10.00" value={credits} onInput={(e) => setCredits(valueOf(e))} />
      <button type="submit" disabled={action.busy}>
        Create tenant
      </button>
      <ErrorMessage error={action.error} />
    </form>
  );
}
