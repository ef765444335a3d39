import { invalidValue } from '../common/errors';
import { parseTime } from '../reports/usage-query';

/** A half-open billing period [start, end). */
export interface Period {
  start: Date;
  end: Date;
}

/** The calendar month (UTC) before the one `at` falls in: the period the monthly job invoices. */
export function previousMonth(at: Date): Period {
  const y = at.getUTCFullYear();
  const m = at.getUTCMonth();
  return { start: new Date(Date.UTC(y, m - 1, 1)), end: new Date(Date.UTC(y, m, 1)) };
}

/** period_start / period_end from a request: ISO times, end after start (400 naming the field). */
export function parsePeriod(start: unknown, end: unknown): Period {
  if (start === undefined || start === null || start === '') throw invalidValue('period_start', `'period_start' is required.`);
  if (end === undefined || end === null || end === '') throw invalidValue('period_end', `'period_end' is required.`);
  const s = parseTime('period_start', start)!;
  const e = parseTime('period_end', end)!;
  if (e.getTime() <= s.getTime()) throw invalidValue('period_end', `'period_end' must be after 'period_start'.`);
  return { start: s, end: e };
}
