/** A key's budget period: a UTC calendar day, week (from Monday), month, or one that never ends. */
export type BudgetPeriod = 'day' | 'week' | 'month' | 'total';

export const BUDGET_PERIODS: readonly BudgetPeriod[] = ['day', 'week', 'month', 'total'];

/** The period a budget without one is counted in. */
export const DEFAULT_BUDGET_PERIOD: BudgetPeriod = 'month';

/** The start of the one "total" period. */
export const TOTAL_PERIOD_START = new Date(0);

const DAY_MS = 86_400_000;

/** The UTC instant the period holding `at` starts at. */
export function periodStart(period: BudgetPeriod, at: Date): Date {
  const y = at.getUTCFullYear();
  const m = at.getUTCMonth();
  const d = at.getUTCDate();
  switch (period) {
    case 'day':
      return new Date(Date.UTC(y, m, d));
    case 'week': {
      // getUTCDay: Sunday 0 .. Saturday 6; days since the last Monday.
      const sinceMonday = (at.getUTCDay() + 6) % 7;
      return new Date(Date.UTC(y, m, d) - sinceMonday * DAY_MS);
    }
    case 'month':
      return new Date(Date.UTC(y, m, 1));
    case 'total':
      return TOTAL_PERIOD_START;
  }
}

/** The UTC instant the period holding `at` ends at (the next one's start); null for "total". */
export function periodReset(period: BudgetPeriod, at: Date): Date | null {
  const start = periodStart(period, at);
  switch (period) {
    case 'day':
      return new Date(start.getTime() + DAY_MS);
    case 'week':
      return new Date(start.getTime() + 7 * DAY_MS);
    case 'month':
      return new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + 1, 1));
    case 'total':
      return null;
  }
}

/** Whole seconds from `at` until the period resets (at least 1); null for "total". */
export function secondsUntilReset(period: BudgetPeriod, at: Date): number | null {
  const reset = periodReset(period, at);
  return reset ? Math.max(1, Math.ceil((reset.getTime() - at.getTime()) / 1000)) : null;
}
