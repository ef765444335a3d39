import type { PriceVersion } from '../catalog/catalog.service';
import { assignBalancesAfter, priceFor, PendingEvent, planCharges, priceInForce } from './charge-plan';

const v = (id: string, model: string, from: string, input: string, output: string, cachedInput = '0', tenantId: string | null = null): PriceVersion => ({
  id,
  modelId: model,
  tenantId,
  input,
  cachedInput,
  output,
  effectiveFrom: new Date(from),
});

const versions = [
  v('p1', 'm', '2026-01-01T00:00:00Z', '1', '2', '0.1'),
  v('p2', 'm', '2026-06-01T00:00:00Z', '3', '4', '0.3'),
  v('q1', 'other', '2026-01-01T00:00:00Z', '100', '100'),
  v('t1-own', 'm', '2026-03-01T00:00:00Z', '0.5', '1', '0.05', 't1'),
];

const event = (id: string, tenantId: string, at: string, tokens: Partial<PendingEvent> = {}): PendingEvent => ({
  id,
  tenantId,
  responseId: `resp_${id}`,
  model: 'm',
  inputTokens: 1_000_000,
  cachedTokens: 0,
  outputTokens: 0,
  reasoningTokens: 0,
  requestedAt: new Date(at),
  priceId: null,
  ...tokens,
});

describe('priceInForce', () => {
  it.each([
    ['2025-12-31T23:59:59.999Z', null],
    ['2026-01-01T00:00:00Z', 'p1'],
    ['2026-05-31T23:59:59.999Z', 'p1'],
    ['2026-06-01T00:00:00Z', 'p2'],
    ['2027-01-01T00:00:00Z', 'p2'],
  ])('at %s uses %s', (at, id) => {
    expect(priceInForce(versions, 'm', new Date(at))?.id ?? null).toBe(id);
  });

  it('ignores other models and the order of versions', () => {
    expect(priceInForce([...versions].reverse(), 'm', new Date('2026-07-01T00:00:00Z'))?.id).toBe('p2');
    expect(priceInForce(versions, 'nope', new Date('2027-01-01T00:00:00Z'))).toBeNull();
  });
});

describe('planCharges', () => {
  it('prices each event at the version in force when its request started, and totals per tenant', () => {
    const { planned, unpriced, totals } = planCharges(
      [
        event('a', 't1', '2026-05-31T23:59:59Z'),
        event('b', 't1', '2026-06-01T00:00:01Z', { inputTokens: 500_000, cachedTokens: 100_000, outputTokens: 10, reasoningTokens: 4 }),
        event('c', 't2', '2026-06-02T00:00:00Z', { inputTokens: 0, outputTokens: 1_000_000 }),
      ],
      versions,
    );
    expect(unpriced).toEqual([]);
    expect(planned.map((p) => [p.event.id, p.price.id, p.charge.total])).toEqual([
      ['a', 'p1', '1'],
      ['b', 'p2', '1.23004'],
      ['c', 'p2', '4'],
    ]);
    expect(planned[1].charge).toEqual({ total: '1.23004', input: '1.2', cachedInput: '0.03', output: '0.000024', reasoning: '0.000016' });
    expect(Object.fromEntries(totals)).toEqual({ t1: '2.23004', t2: '4' });
  });

  it('never charges an unpriced event at zero: it is set apart', () => {
    const { planned, unpriced, totals } = planCharges([event('early', 't1', '2020-01-01T00:00:00Z'), event('ok', 't1', '2026-02-01T00:00:00Z')], versions);
    expect(unpriced.map((e) => e.id)).toEqual(['early']);
    expect(planned.map((p) => p.event.id)).toEqual(['ok']);
    expect(totals.get('t1')).toBe('1');
  });
});

describe('priceFor', () => {
  it('uses the version fixed at admission, even when a later one is in force at requestedAt', () => {
    expect(priceFor(versions, event('e', 't', '2026-07-01T00:00:00Z', { priceId: 'p1' }))?.id).toBe('p1');
  });

  it('falls back to the version in force at requestedAt for events without one', () => {
    expect(priceFor(versions, event('e', 't', '2026-07-01T00:00:00Z'))?.id).toBe('p2');
  });

  it('never takes a fixed version of another model, nor one that is gone', () => {
    expect(priceFor(versions, event('e', 't', '2026-07-01T00:00:00Z', { priceId: 'q1' }))).toBeNull();
    expect(priceFor(versions, event('e', 't', '2026-07-01T00:00:00Z', { priceId: 'missing' }))).toBeNull();
  });

  it('takes a tenant version fixed at admission for that tenant only', () => {
    expect(priceFor(versions, event('e', 't1', '2026-07-01T00:00:00Z', { priceId: 't1-own' }))?.id).toBe('t1-own');
    expect(priceFor(versions, event('e', 't2', '2026-07-01T00:00:00Z', { priceId: 't1-own' }))).toBeNull();
  });

  it('never falls back to a tenant version for an event without a fixed one', () => {
    expect(priceInForce(versions, 'm', new Date('2026-04-01T00:00:00Z'))?.id).toBe('p1');
  });

  it('charges a fixed version planCharges picks, not the one in force later', () => {
    const { planned } = planCharges([event('e', 't', '2026-07-01T00:00:00Z', { priceId: 'p1' })], versions);
    expect(planned[0].price.id).toBe('p1');
    expect(planned[0].charge.total).toBe('1');
  });
});

describe('assignBalancesAfter', () => {
  it('walks back from the final balance', () => {
    const { planned } = planCharges(
      [event('a', 't', '2026-02-01T00:00:00Z'), event('b', 't', '2026-02-01T00:00:00Z', { inputTokens: 250_000 }), event('c', 't', '2026-02-01T00:00:00Z')],
      versions,
    );
    assignBalancesAfter(planned, '7.75');
    expect(planned.map((p) => p.balanceAfter)).toEqual(['9', '8.75', '7.75']);
  });

  it('goes negative exactly', () => {
    const { planned } = planCharges([event('a', 't', '2026-02-01T00:00:00Z', { inputTokens: 1 })], versions);
    assignBalancesAfter(planned, '-0.000001');
    expect(planned[0].balanceAfter).toBe('-0.000001');
  });
});
