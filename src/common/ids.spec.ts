import { newId } from './ids';

describe('newId', () => {
  it('gives prefixed 48-hex-digit ids, never the same one twice across refills of its random pool', () => {
    const ids = Array.from({ length: 5000 }, () => newId('resp'));
    for (const id of ids) expect(id).toMatch(/^resp_[0-9a-f]{48}$/);
    expect(new Set(ids).size).toBe(ids.length);
    // No id repeats a slice of an earlier one: the pool is refilled, not reused.
    const bodies = new Set(ids.map((id) => id.slice(5, 21)));
    expect(bodies.size).toBe(ids.length);
  });
});
