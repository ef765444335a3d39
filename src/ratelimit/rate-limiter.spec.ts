import { formatReset, rateHeaders } from './rate-limiter.service';

describe('rate limit headers', () => {
  it.each([
    [1, '1s'],
    [999, '1s'],
    [1001, '2s'],
    [59_000, '59s'],
    [60_000, '1m0s'],
    [360_000, '6m0s'],
    [0, '1s'],
  ])('formats %i ms as %s', (ms, text) => expect(formatReset(ms)).toBe(text));

  it('sends only the headers of the limits a key has', () => {
    expect(rateHeaders({ rpm: 10, tpm: null }, 3, 0, 30_000)).toEqual({
      'x-ratelimit-limit-requests': '10',
      'x-ratelimit-remaining-requests': '7',
      'x-ratelimit-reset-requests': '30s',
    });
    expect(rateHeaders({ rpm: null, tpm: 1000 }, 3, 1200, 1000)).toEqual({
      'x-ratelimit-limit-tokens': '1000',
      'x-ratelimit-remaining-tokens': '0',
      'x-ratelimit-reset-tokens': '1s',
    });
    expect(rateHeaders({ rpm: null, tpm: null }, 1, 1, 1)).toEqual({});
  });
});
