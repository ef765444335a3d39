import { BoundedCache } from './bounded-cache';

describe('BoundedCache', () => {
  let clock = 0;
  const cache = () => new BoundedCache<string, number>(3, 100, () => clock);

  beforeEach(() => (clock = 1_000));

  it('serves a value until its ttl runs out, then forgets it', () => {
    const c = cache();
    c.set('a', 1);
    clock += 99;
    expect(c.get('a')).toBe(1);
    clock += 1;
    expect(c.get('a')).toBeUndefined();
    expect(c.size).toBe(0);
  });

  it('never holds more than max entries: the one stored longest ago goes', () => {
    const c = cache();
    for (const [k, v] of [['a', 1], ['b', 2], ['c', 3], ['d', 4]] as const) c.set(k, v);
    expect(c.size).toBe(3);
    expect([c.get('a'), c.get('b'), c.get('c'), c.get('d')]).toEqual([undefined, 2, 3, 4]);
  });

  it('storing a key again renews it, so it is not the next to go', () => {
    const c = cache();
    c.set('a', 1);
    c.set('b', 2);
    c.set('c', 3);
    c.set('a', 10);
    c.set('d', 4);
    expect([c.get('a'), c.get('b'), c.get('c'), c.get('d')]).toEqual([10, undefined, 3, 4]);
  });

  it('a renewed key gets a fresh ttl', () => {
    const c = cache();
    c.set('a', 1);
    clock += 80;
    c.set('a', 2);
    clock += 80;
    expect(c.get('a')).toBe(2);
  });

  it('deletes one key, or everything', () => {
    const c = cache();
    c.set('a', 1);
    c.set('b', 2);
    c.delete('a');
    expect([c.get('a'), c.get('b')]).toEqual([undefined, 2]);
    c.clear();
    expect(c.size).toBe(0);
  });

  it('keeps empty values apart from misses', () => {
    const c = new BoundedCache<string, number[]>(2, 100, () => clock);
    c.set('none', []);
    expect(c.get('none')).toEqual([]);
    expect(c.get('other')).toBeUndefined();
  });
});
