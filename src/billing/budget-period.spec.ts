import { periodReset, periodStart, secondsUntilReset } from './budget-period';

const at = (iso: string) => new Date(iso);
const iso = (d: Date | null) => d && d.toISOString();

describe('budget periods (UTC)', () => {
  it.each([
    ['day', '2026-12-02T14:30:00.000Z', '2026-12-02T00:00:00.000Z', '2026-12-03T00:00:00.000Z'],
    ['day', '2026-12-02T00:00:00.000Z', '2026-12-02T00:00:00.000Z', '2026-12-03T00:00:00.000Z'],
    ['day', '2026-12-02T23:59:59.999Z', '2026-12-02T00:00:00.000Z', '2026-12-03T00:00:00.000Z'],
    ['day', '2026-12-31T23:59:59.999Z', '2026-12-31T00:00:00.000Z', '2027-01-01T00:00:00.000Z'],
    // 2026-12-02 is a Wednesday; its week started Monday 2026-11-30.
    ['week', '2026-12-02T14:30:00.000Z', '2026-11-30T00:00:00.000Z', '2026-12-07T00:00:00.000Z'],
    ['week', '2026-11-30T00:00:00.000Z', '2026-11-30T00:00:00.000Z', '2026-12-07T00:00:00.000Z'],
    // A Sunday belongs to the week of the Monday before it.
    ['week', '2026-12-06T23:59:59.999Z', '2026-11-30T00:00:00.000Z', '2026-12-07T00:00:00.000Z'],
    ['week', '2027-01-01T12:00:00.000Z', '2026-12-28T00:00:00.000Z', '2027-01-04T00:00:00.000Z'],
    ['month', '2026-12-02T14:30:00.000Z', '2026-12-01T00:00:00.000Z', '2027-01-01T00:00:00.000Z'],
    ['month', '2028-02-29T23:59:59.999Z', '2028-02-01T00:00:00.000Z', '2028-03-01T00:00:00.000Z'],
    ['month', '2027-01-31T10:00:00.000Z', '2027-01-01T00:00:00.000Z', '2027-02-01T00:00:00.000Z'],
    ['total', '2026-12-02T14:30:00.000Z', '1970-01-01T00:00:00.000Z', null],
  ] as const)('%s holding %s starts %s and resets %s', (period, instant, start, reset) => {
    expect(iso(periodStart(period, at(instant)))).toBe(start);
    expect(iso(periodReset(period, at(instant)))).toBe(reset);
  });

  it('counts whole seconds to the reset, rounding up, and none for total', () => {
    expect(secondsUntilReset('day', at('2026-12-02T23:59:00.000Z'))).toBe(60);
    expect(secondsUntilReset('day', at('2026-12-02T23:59:59.001Z'))).toBe(1);
    expect(secondsUntilReset('week', at('2026-12-06T00:00:00.000Z'))).toBe(86_400);
    expect(secondsUntilReset('total', at('2026-12-02T00:00:00.000Z'))).toBeNull();
  });
});
