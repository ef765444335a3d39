import { Field, valueOf } from './Field';

export interface Period {
  from: string;
  to: string;
}

/** Two dates, both included (UTC days). */
export function PeriodPicker({ period, onChange, id }: { period: Period; onChange: (p: Period) => void; id: string }) {
  return (
    <fieldset class="period">
      <legend>Period (UTC)</legend>
      <Field id={`${id}-from`} label="From" type="date" value={period.from} max={period.to} onChange={(e) => valueOf(e) && onChange({ ...period, from: valueOf(e) })} />
      <Field id={`${id}-to`} label="To" type="date" value={period.to} min={period.from} onChange={(e) => valueOf(e) && onChange({ ...period, to: valueOf(e) })} />
    </fieldset>
  );
}
