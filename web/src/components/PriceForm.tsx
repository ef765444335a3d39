import { useState } from 'preact/hooks';
import { api } from '../api';
import { Field, valueOf } from './Field';
import { ErrorMessage } from './Status';
import { useAction } from './useAction';

const FIELDS = ['provider', 'upstream_model', 'input_price', 'cached_input_price', 'output_price'] as const;

/** PUT /admin/models/:model: route a model and add a price version (older versions are kept). */
export function PriceForm({ onSaved }: { onSaved: (model: string) => void }) {
  const [model, setModel] = useState('');
  const [fields, setFields] = useState<Record<string, string>>({ provider: 'simulated' });
  const [effectiveFrom, setEffectiveFrom] = useState('');
  const action = useAction();
  const set = (name: string) => (e: Event) => setFields({ ...fields, [name]: valueOf(e) });
  const submit = async (e: Event) => {
    e.preventDefault();
    const body: Record<string, string> = {};
    for (const name of FIELDS) if (fields[name]?.trim()) body[name] = fields[name].trim();
    if (effectiveFrom) body.effective_from = new Date(effectiveFrom).toISOString();
    if (await action.run(() => api('PUT', `/admin/models/${encodeURIComponent(model.trim())}`, body))) onSaved(model.trim());
  };
  return (
    <details>
      <summary>Add a model or a price version</summary>
      <form class="key-form" onSubmit={submit} aria-label="Add a price version">
        <Field id="price-model" label="Model" required value={model} onInput={(e) => setModel(valueOf(e))} />
        <Field id="price-provider" label="Provider" required value={fields.provider ?? ''} onInput={set('provider')} />
        <Field id="price-upstream" label="Upstream model (optional)" value={fields.upstream_model ?? ''} onInput={set('upstream_model')} />
        <Field id="price-input" label="Input price" inputMode="decimal" required value={fields.input_price ?? ''} onInput={set('input_price')} />
        <Field id="price-cached" label="Cached input price (optional)" inputMode="decimal" hint="Default: 10% of the input price." value={fields.cached_input_price ?? ''} onInput={set('cached_input_price')} />
        <Field id="price-output" label="Output price" inputMode="decimal" required value={fields.output_price ?? ''} onInput={set('output_price')} />
        <Field id="price-from" label="Effective from (optional)" type="datetime-local" hint="Default: now; never in the past." value={effectiveFrom} onInput={(e) => setEffectiveFrom(valueOf(e))} />
        <button type="submit" disabled={action.busy}>
          Save price
        </button>
        <ErrorMessage error={action.error} />
      </form>
    </details>
  );
}
