import { planRange } from './time-range';

const d = (s: string) => new Date(s);

describe('planRange: whole UTC hours from the rollups, partial hours raw', () => {
  it('reads an hour-aligned range from the rollups only', () => {
    expect(planRange({ from: d('2026-01-01T00:00:00Z'), to: d('2026-02-01T00:00:00Z') })).toEqual({
      hours: { from: d('2026-01-01T00:00:00Z'), to: d('2026-02-01T00:00:00Z') },
      edges: [],
    });
  });

  it('splits off the partial hours at both edges', () => {
    expect(planRange({ from: d('2026-01-01T10:15:00Z'), to: d('2026-01-02T08:30:00.500Z') })).toEqual({
      hours: { from: d('2026-01-01T11:00:00Z'), to: d('2026-01-02T08:00:00Z') },
      edges: [
        { from: d('2026-01-01T10:15:00Z'), to: d('2026-01-01T11:00:00Z') },
        { from: d('2026-01-02T08:00:00Z'), to: d('2026-01-02T08:30:00.500Z') },
      ],
    });
  });

  it('reads a range inside one hour (or across one boundary with no whole hour) raw', () => {
    expect(planRange({ from: d('2026-01-01T10:15:00Z'), to: d('2026-01-01T10:45:00Z') })).toEqual({
      hours: null,
      edges: [{ from: d('2026-01-01T10:15:00Z'), to: d('2026-01-01T10:45:00Z') }],
    });
    expect(planRange({ from: d('2026-01-01T10:15:00Z'), to: d('2026-01-01T11:45:00Z') })).toEqual({
      hours: null,
      edges: [{ from: d('2026-01-01T10:15:00Z'), to: d('2026-01-01T11:45:00Z') }],
    });
  });

  it('treats absent bounds as open, and an empty range as nothing', () => {
    expect(planRange({})).toEqual({ hours: { from: undefined, to: undefined }, edges: [] });
    expect(planRange({ to: d('2026-01-01T10:30:00Z') })).toEqual({
      hours: { from: undefined, to: d('2026-01-01T10:00:00Z') },
      edges: [{ from: d('2026-01-01T10:00:00Z'), to: d('2026-01-01T10:30:00Z') }],
    });
    expect(planRange({ from: d('2026-01-01T10:30:00Z'), to: d('2026-01-01T10:30:00Z') })).toEqual({ hours: null, edges: [] });
  });
});
