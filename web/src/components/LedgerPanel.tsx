import { useState } from 'preact/hooks';
import { get } from '../api';
import { Amount } from './Amount';
import { Empty, Show } from './Status';
import { useLoad } from './useLoad';

interface Entry {
  id: string;
  kind: string;
  amount: string;
  balance_after: string;
  response_id: string | null;
  reference: string | null;
  created_at: string;
}

const PAGE = 20;

/** The append-only ledger, newest first, a page at a time (cursor = the last entry's id). */
export function LedgerPanel({ tenantId, revision }: { tenantId: string; revision: number }) {
  const [cursors, setCursors] = useState<string[]>([]);
  const after = cursors.at(-1);
  const state = useLoad(() => get<{ data: Entry[]; has_more: boolean }>(`/admin/tenants/${tenantId}/ledger`, { limit: PAGE, after }), [tenantId, after, revision]);
  return (
    <section aria-labelledby="ledger-title">
      <h2 id="ledger-title">Ledger</h2>
      <Show state={state}>
        {(page) =>
          page.data.length ? (
            <>
              <div class="table-wrap">
                <table>
                  <thead>
                    <tr>
                      <th scope="col">Time</th>
                      <th scope="col">Kind</th>
                      <th scope="col" class="num">Amount (USD)</th>
                      <th scope="col" class="num">Balance after</th>
                      <th scope="col">Response / reference</th>
                    </tr>
                  </thead>
                  <tbody>
                    {page.data.map((e) => (
                      <tr key={e.id}>
                        <td>{e.created_at.replace('T', ' ').slice(0, 19)}</td>
                        <td>{e.kind}</td>
                        <td class="num">
                          <Amount value={e.amount} />
                        </td>
                        <td class="num">
                          <Amount value={e.balance_after} />
                        </td>
                        <td class="ellipsis">{e.response_id ?? e.reference ?? ''}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
              <nav class="pager" aria-label="Ledger pages">
                <button type="button" disabled={!cursors.length} onClick={() => setCursors(cursors.slice(0, -1))}>
                  Newer
                </button>
                <button type="button" disabled={!page.has_more} onClick={() => setCursors([...cursors, page.data.at(-1)!.id])}>
                  Older
                </button>
              </nav>
            </>
          ) : (
            <Empty>No ledger entries yet.</Empty>
          )
        }
      </Show>
    </section>
  );
}
