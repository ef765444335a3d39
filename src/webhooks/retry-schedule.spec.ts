import { attemptOffsetsMs, retryDelayMs } from './retry-schedule';

describe('webhook retry schedule', () => {
  it('waits base × 2^(n−1) after the n-th attempt', () => {
    expect([1, 2, 3, 4, 5, 8, 11].map((n) => retryDelayMs(n, 5000))).toEqual([5000, 10_000, 20_000, 40_000, 80_000, 640_000, 5_120_000]);
    expect(retryDelayMs(1, 50)).toBe(50);
    expect(retryDelayMs(3, 50)).toBe(200);
  });

  it('matches BullMQ exponential back-off, which the queue uses', () => {
    // BullMQ: round(2^(attemptsMade − 1) × delay).
    for (let n = 1; n <= 11; n++) expect(retryDelayMs(n, 5000)).toBe(Math.round(2 ** (n - 1) * 5000));
  });

  it('with the defaults (5 s, 12 attempts), a receiver down for 10 minutes still gets the event', () => {
    const offsets = attemptOffsetsMs(12, 5000);
    // 0, 5, 15, 35, 75, 155, 315, 635, 1275, 2555, 5115, 10235 seconds.
    expect(offsets.map((ms) => ms / 1000)).toEqual([0, 5, 15, 35, 75, 155, 315, 635, 1275, 2555, 5115, 10235]);
    expect(offsets.some((ms) => ms > 10 * 60_000)).toBe(true);
    expect(offsets[7]).toBe(635_000);
  });
});
