import type { InputHTMLAttributes } from 'preact';

type Props = InputHTMLAttributes<HTMLInputElement> & { label: string; id: string; hint?: string };

/** A labelled input. */
export function Field({ label, id, hint, ...input }: Props) {
  return (
    <div class="field">
      <label for={id}>{label}</label>
      <input id={id} {...input} aria-describedby={hint ? `${id}-hint` : undefined} />
      {hint && (
        <small id={`${id}-hint`} class="muted">
          {hint}
        </small>
      )}
    </div>
  );
}

/** The string value of an input event. */
export const valueOf = (e: Event) => (e.currentTarget as HTMLInputElement).value;
