import { useState } from 'preact/hooks';
import { get } from '../api';
import { Field, valueOf } from '../components/Field';
import { Empty, Show } from '../components/Status';
import { useLoad } from '../components/useLoad';

interface AuditEntry {
  id: string;
  actor: string;
  action: string;
  target_type: string | null;
  target_id: string | null;
  status: number;
  method: string;
  path: string;
  created_at: string;
}

const PAGE = 50;

/** The audit log of admin actions, newest first, paged; filtered by action name. */
export function Audit() {
  const [action, setAction] = useState('');
  const [cursors, setCursors] = useState<string[]>([]);
  const after = cursors.at(-1);
  const state = useLoad(() => get<{ data: AuditEntry[]; has_more: boolean }>('/admin/audit', { limit: PAGE, after, action }), [after, action]);
  return (
    <>
      <h1>Audit log</h1>
      <form class="inline-form" onSubmit={(e) => e.preventDefault()} aria-label="Filter the audit log">
        <Field id="audit-action" label="Action" placeholder="tenant.create" value={action} onChange={(e) => { setCursors([]); setAction(valueOf(e).trim()); }} />
      </form>
      <Show state={state}>
        {(page) =>
          page.data.length ? (
            <>
              <div class="table-wrap">
                <table>
                  <thead>
                    <tr>
                      <th scope="col">Time</th>
                      <th scope="col">Action</th>
                      <th scope="col">Target</th>
                      <th scope="col">Request</th>
                      <th scope="col" class="num">Status</th>
                    </tr>
                  </thead>
                  <tbody>
                    {page.data.map((e) => (
                      <tr key={e.id}>
                        <td>{e.created_at.replace('T', ' ').slice(0, 19)}</td>
                        <td>{e.action}</td>
                        <td class="ellipsis">{e.target_type ? `${e.target_type} ${e.target_id ?? ''}` : ''}</td>
                        <td class="ellipsis">{e.method} {e.path}</td>
                        <td class="num">{e.status}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
              <nav class="pager" aria-label="Audit pages">
                <button type="button" disabled={!cursors.length} onClick={() => setCursors(cursors.slice(0, -1))}>Newer</button>
                <button type="button" disabled={!page.has_more} onClick={() => setCursors([...cursors, page.data.at(-1)!.id])}>Older</button>
              </nav>
            </>
          ) : (
            <Empty>No audit entries{action ? ` for “${action}”` : ''}.</Empty>
          )
        }
      </Show>
    </>
  );
}
