const DAY = 86_400_000;

/** A period of whole UTC days, [from, to) as ISO times; `days` ends with today. */
export function lastDays(days: number) {
  const today = Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate());
  return { from: isoDate(today - (days - 1) * DAY), to: isoDate(today) };
}

export const isoDate = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** The query of a period chosen as two dates (both included). */
export const periodQuery = (p: { from: string; to: string }) => ({
  from: `${p.from}T00:00:00Z`,
  to: new Date(Date.parse(`${p.to}T00:00:00Z`) + DAY).toISOString(),
});

/** Every day of the period, so a chart shows the quiet days as zero. */
export function daysOf(p: { from: string; to: string }): string[] {
  const out: string[] = [];
  for (let t = Date.parse(`${p.from}T00:00:00Z`); t <= Date.parse(`${p.to}T00:00:00Z`) && out.length < 1000; t += DAY) out.push(isoDate(t));
  return out;
}
