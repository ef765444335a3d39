import { bearerToken, generateApiKey, hashApiKey, secretsEqual } from './api-key';

describe('api keys', () => {
  it('generates distinct sk- keys whose hash and prefix match', () => {
    const a = generateApiKey();
    const b = generateApiKey();
    expect(a.key).toMatch(/^sk-tg-[A-Za-z0-9_-]{40}$/);
    expect(a.key).not.toEqual(b.key);
    expect(a.hash).toEqual(hashApiKey(a.key));
    expect(a.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(a.key.startsWith(a.prefix)).toBe(true);
    expect(a.prefix).toHaveLength(12);
  });

  it('never stores the key itself in the hash', () => {
    const { key, hash } = generateApiKey();
    expect(hash).not.toContain(key.slice(6));
  });

  it('compares secrets of different lengths safely', () => {
    expect(secretsEqual('abc', 'abc')).toBe(true);
    expect(secretsEqual('abc', 'abcd')).toBe(false);
    expect(secretsEqual('', 'x')).toBe(false);
  });

  it.each([
    ['Bearer sk-abc', 'sk-abc'],
    ['bearer   sk-abc  ', 'sk-abc'],
    ['Basic sk-abc', null],
    ['Bearer', null],
    ['Bearer a b', null],
    [undefined, null],
  ])('reads the bearer token of %p', (header, expected) => {
    expect(bearerToken(header)).toEqual(expected);
  });
});
