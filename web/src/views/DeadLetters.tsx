import { api, get } from '../api';
import { Empty, ErrorMessage, Show } from '../components/Status';
import { useAction } from '../components/useAction';
import { useLoad } from '../components/useLoad';

interface DeadLetter {
  id: string;
  usage_event_id: string;
  attempts: number;
  failed_reason: string;
  failed_at: string | null;
}

/** Charge jobs that failed every attempt; replay one or all once the cause is fixed. */
export function DeadLetters() {
  const state = useLoad(() => get<{ data: DeadLetter[]; total: number }>('/admin/queues/charges/failed', { limit: 100 }), []);
  const action = useAction();
  const replay = async (path: string) => {
    if (await action.run(() => api('POST', path))) state.reload();
  };
  return (
    <>
      <h1>Dead letters</h1>
      <ErrorMessage error={action.error} />
      <Show state={state}>
        {({ data, total }) =>
          data.length ? (
            <>
              <p>
                {total} charge job(s) failed every attempt.{' '}
                <button type="button" disabled={action.busy} onClick={() => void replay('/admin/queues/charges/failed/retry')}>
                  Replay all
                </button>
              </p>
              <div class="table-wrap">
                <table>
                  <thead>
                    <tr>
                      <th scope="col">Usage event</th>
                      <th scope="col" class="num">Attempts</th>
                      <th scope="col">Reason</th>
                      <th scope="col">Failed at</th>
                      <th scope="col">Replay</th>
                    </tr>
                  </thead>
                  <tbody>
                    {data.map((d) => (
                      <tr key={d.id}>
                        <td><code>{d.usage_event_id}</code></td>
                        <td class="num">{d.attempts}</td>
                        <td>{d.failed_reason}</td>
                        <td>{d.failed_at?.replace('T', ' ').slice(0, 19) ?? ''}</td>
                        <td>
                          <button type="button" disabled={action.busy} onClick={() => void replay(`/admin/queues/charges/failed/${encodeURIComponent(d.id)}/retry`)} aria-label={`Replay ${d.usage_event_id}`}>
                            Replay
                          </button>
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            </>
          ) : (
            <Empty>No dead letters: every charge went through.</Empty>
          )
        }
      </Show>
    </>
  );
}
