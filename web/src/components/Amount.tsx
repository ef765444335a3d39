/** An amount exactly as the API wrote it (a decimal string), never reformatted. */
export const Amount = ({ value }: { value: string | null | undefined }) =>
  value === null || value === undefined ? <span class="muted">—</span> : <span class="amount">{value}</span>;
