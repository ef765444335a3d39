import { useState } from 'preact/hooks';
import { get } from '../api';
import { Amount } from '../components/Amount';
import { PriceForm } from '../components/PriceForm';
import { Empty, Show } from '../components/Status';
import { useLoad } from '../components/useLoad';

interface Model {
  model: string;
  provider: string;
  upstream_model?: string | null;
  price: { input_price: string; cached_input_price: string; output_price: string; effective_from: string } | null;
}

interface PriceVersion {
  id: string;
  input_price: string;
  cached_input_price: string;
  output_price: string;
  effective_from: string;
}

/** Models with the price in force, and any model's price history. Prices are USD per 1M tokens. */
export function Models() {
  const state = useLoad(() => get<{ data: Model[] }>('/admin/models'), []);
  const [open, setOpen] = useState<string | null>(null);
  return (
    <>
      <h1>Models and prices</h1>
      <p class="muted">Prices in USD per 1,000,000 tokens.</p>
      <PriceForm
        onSaved={(model) => {
          state.reload();
          setOpen(model);
        }}
      />
      <Show state={state}>
        {({ data }) =>
          data.length ? (
            <div class="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th scope="col">Model</th>
                    <th scope="col">Provider</th>
                    <th scope="col" class="num">Input</th>
                    <th scope="col" class="num">Cached input</th>
                    <th scope="col" class="num">Output</th>
                    <th scope="col">In force since</th>
                    <th scope="col">History</th>
                  </tr>
                </thead>
                <tbody>
                  {data.map((m) => (
                    <tr key={m.model}>
                      <td>{m.model}</td>
                      <td>{m.provider}</td>
                      <td class="num"><Amount value={m.price?.input_price} /></td>
                      <td class="num"><Amount value={m.price?.cached_input_price} /></td>
                      <td class="num"><Amount value={m.price?.output_price} /></td>
                      <td>{m.price ? m.price.effective_from.slice(0, 16).replace('T', ' ') : 'not priced'}</td>
                      <td>
                        <button type="button" aria-expanded={open === m.model} onClick={() => setOpen(open === m.model ? null : m.model)}>
                          Price versions
                        </button>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          ) : (
            <Empty>No models yet: add one with PUT /admin/models/:model.</Empty>
          )
        }
      </Show>
      {open && <PriceHistory model={open} revision={state.data} />}
    </>
  );
}

function PriceHistory({ model, revision }: { model: string; revision: unknown }) {
  const state = useLoad(() => get<{ data: PriceVersion[] }>(`/admin/models/${encodeURIComponent(model)}/prices`), [model, revision]);
  return (
    <section aria-labelledby="price-history">
      <h2 id="price-history">Price versions of {model}</h2>
      <Show state={state}>
        {({ data }) => (
          <div class="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">Effective from</th>
                  <th scope="col" class="num">Input</th>
                  <th scope="col" class="num">Cached input</th>
                  <th scope="col" class="num">Output</th>
                </tr>
              </thead>
              <tbody>
                {data.map((p) => (
                  <tr key={p.id}>
                    <td>{p.effective_from.slice(0, 16).replace('T', ' ')}</td>
                    <td class="num"><Amount value={p.input_price} /></td>
                    <td class="num"><Amount value={p.cached_input_price} /></td>
                    <td class="num"><Amount value={p.output_price} /></td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Show>
    </section>
  );
}
