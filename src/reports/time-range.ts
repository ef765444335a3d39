/** Half-open time range [from, to); an absent bound is open (all time before / after). */
export interface TimeRange {
  from?: Date;
  to?: Date;
}

/** How a range is read: whole UTC hours from usage_rollups, the partial hours from usage_events. */
export interface RangePlan {
  /** Whole hours [from, to) read from the rollups; null when the range holds no whole hour. */
  hours: TimeRange | null;
  /** At most two partial-hour pieces at the edges, read from the raw usage events. */
  edges: TimeRange[];
}

const HOUR = 3_600_000;
export const floorHour = (d: Date) => new Date(Math.floor(d.getTime() / HOUR) * HOUR);
export const ceilHour = (d: Date) => new Date(Math.ceil(d.getTime() / HOUR) * HOUR);

/**
 * Splits [from, to) into the whole UTC hours inside it and the partial hours at its edges. Every
 * instant of the range is in exactly one piece.
 */
export function planRange(range: TimeRange): RangePlan {
  const { from, to } = range;
  const a = from ? ceilHour(from) : undefined;
  const b = to ? floorHour(to) : undefined;
  if (a && b && a.getTime() >= b.getTime()) {
    // No whole hour inside: everything is read raw (an empty range reads nothing).
    return { hours: null, edges: from!.getTime() < to!.getTime() ? [{ from, to }] : [] };
  }
  const edges: TimeRange[] = [];
  if (from && a && from.getTime() < a.getTime()) edges.push({ from, to: a });
  if (to && b && b.getTime() < to.getTime()) edges.push({ from: b, to });
  return { hours: { from: a, to: b }, edges };
}
