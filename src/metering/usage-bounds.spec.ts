import { boundUsage } from './usage-bounds';

const usage = (inputTokens: number, cachedTokens: number, outputTokens: number, reasoningTokens: number) => ({
  inputTokens,
  cachedTokens,
  outputTokens,
  reasoningTokens,
});

describe('boundUsage', () => {
  it('leaves usage within the bounds untouched', () => {
    expect(boundUsage(usage(100, 20, 50, 10), { inputTokens: 100, outputTokens: 50 })).toEqual({
      billable: usage(100, 20, 50, 10),
      overrun: { inputTokens: 0, outputTokens: 0 },
    });
  });

  it('cuts output beyond the bound and records the excess', () => {
    expect(boundUsage(usage(21, 0, 100_000, 0), { inputTokens: 40, outputTokens: 100 })).toEqual({
      billable: usage(21, 0, 100, 0),
      overrun: { inputTokens: 0, outputTokens: 99_900 },
    });
  });

  it('keeps cached within input and reasoning within output after cutting', () => {
    expect(boundUsage(usage(500, 400, 300, 250), { inputTokens: 300, outputTokens: 200 })).toEqual({
      billable: usage(300, 300, 200, 200),
      overrun: { inputTokens: 200, outputTokens: 100 },
    });
  });

  it('treats negative, fractional and non-finite counts as what they can honestly mean', () => {
    expect(boundUsage(usage(-5, -1, Number.NaN, Number.POSITIVE_INFINITY), { inputTokens: 10, outputTokens: 10 })).toEqual({
      billable: usage(0, 0, 0, 0),
      overrun: { inputTokens: 0, outputTokens: 0 },
    });
    expect(boundUsage(usage(10.7, 2.2, 3.9, 1.5), { inputTokens: 10, outputTokens: 10 }).billable).toEqual(usage(10, 2, 3, 1));
  });
});
