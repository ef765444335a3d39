import { addAmounts, computeCharge } from '../billing/money';
import { buildInvoiceLines, ChargeGroup, displayRounding, InvoiceMismatchError, lineAmountAtPrice, PriceInfo, roundToCents } from './invoice-lines';
import { previousMonth, parsePeriod } from './period';

const v1: PriceInfo = { id: 'p1', effectiveFrom: new Date('2026-01-01T00:00:00Z'), input: '0.25', cachedInput: '0.025', output: '2' };
const v2: PriceInfo = { id: 'p2', effectiveFrom: new Date('2026-01-15T00:00:00Z'), input: '0.3', cachedInput: '0.03', output: '2.5' };
const prices = new Map([v1, v2].map((p) => [p.id, p]));

/** Sums real charges (money.ts) of the given usages into a group, as the SQL does. */
function group(model: string, price: PriceInfo, usages: Array<[number, number, number, number]>): ChargeGroup {
  const g = { model, priceId: price.id, requests: 0, tokens: [0, 0, 0, 0], costs: ['0', '0', '0', '0', '0'] };
  for (const [inputTokens, cachedTokens, outputTokens, reasoningTokens] of usages) {
    const c = computeCharge({ inputTokens, cachedTokens, outputTokens, reasoningTokens }, price);
    g.requests++;
    g.tokens = [g.tokens[0] + inputTokens, g.tokens[1] + cachedTokens, g.tokens[2] + outputTokens, g.tokens[3] + reasoningTokens];
    g.costs = [c.total, c.input, c.cachedInput, c.output, c.reasoning].map((x, i) => addAmounts(g.costs[i], x));
  }
  return {
    model,
    priceId: price.id,
    requests: String(g.requests),
    inputTokens: String(g.tokens[0]),
    cachedTokens: String(g.tokens[1]),
    outputTokens: String(g.tokens[2]),
    reasoningTokens: String(g.tokens[3]),
    cost: g.costs[0],
    inputCost: g.costs[1],
    cachedInputCost: g.costs[2],
    outputCost: g.costs[3],
    reasoningCost: g.costs[4],
  };
}

describe('buildInvoiceLines', () => {
  it('makes one line per (model, kind, price version) that adds up to the charges exactly', () => {
    const groups = [
      group('m-b', v1, [[10, 0, 5, 0]]),
      group('m-a', v2, [[1000, 300, 77, 33], [7, 7, 1, 1]]),
      group('m-a', v1, [[123, 23, 45, 6]]),
    ];
    const built = buildInvoiceLines(groups, prices);
    expect(built.lines.map((l) => [l.model, l.priceId, l.kind, Number(l.quantity)])).toEqual([
      ['m-a', 'p1', 'input', 100],
      ['m-a', 'p1', 'cached_input', 23],
      ['m-a', 'p1', 'output', 39],
      ['m-a', 'p1', 'reasoning', 6],
      ['m-a', 'p2', 'input', 700],
      ['m-a', 'p2', 'cached_input', 307],
      ['m-a', 'p2', 'output', 44],
      ['m-a', 'p2', 'reasoning', 34],
      ['m-b', 'p1', 'input', 10],
      ['m-b', 'p1', 'output', 5],
    ]);
    expect(built.charges).toBe(4);
    expect(built.total).toBe(addAmounts(...groups.map((g) => g.cost)));
    expect(addAmounts(...built.lines.map((l) => l.amount))).toBe(built.total);
    // Every line is quantity x unit price / 1e6 exactly (the price version the charges used).
    expect(built.priceMismatches).toEqual([]);
    expect(built.lines[4]).toMatchObject({ unitPrice: '0.3', amount: lineAmountAtPrice(700n, '0.3') });
    expect(built.lines[7]).toMatchObject({ unitPrice: '2.5', priceEffectiveFrom: v2.effectiveFrom });
  });

  it('refuses groups whose breakdown does not add up to the charges', () => {
    const bad = { ...group('m', v1, [[10, 0, 5, 0]]), cost: '1' };
    expect(() => buildInvoiceLines([bad], prices)).toThrow(InvoiceMismatchError);
  });

  it('has no lines and a zero total for no charges; an unknown price version has a null unit price', () => {
    expect(buildInvoiceLines([], prices)).toMatchObject({ lines: [], total: '0', charges: 0 });
    const orphan = { ...group('m', v1, [[10, 0, 0, 0]]), priceId: null };
    expect(buildInvoiceLines([orphan], prices).lines).toEqual([expect.objectContaining({ kind: 'input', unitPrice: null, priceId: null })]);
  });
});

describe('the rounding rule', () => {
  it('rounds to cents half up, always with two decimals', () => {
    expect(roundToCents('0.005')).toBe('0.01');
    expect(roundToCents('0.004999999999')).toBe('0.00');
    expect(roundToCents('12.345')).toBe('12.35');
    expect(roundToCents('0.1')).toBe('0.10');
    expect(roundToCents('0')).toBe('0.00');
  });

  it('rounds the exact total, and shows the difference from the rounded lines as a rounding line', () => {
    const lines = ['0.004', '0.004', '0.004']; // each shows as 0.00, the total 0.012 as 0.01
    expect(displayRounding(lines, '0.012')).toEqual({ lineAmounts: ['0.00', '0.00', '0.00'], totalRounded: '0.01', adjustment: '0.01' });
    expect(displayRounding(['0.005', '0.005'], '0.01')).toEqual({ lineAmounts: ['0.01', '0.01'], totalRounded: '0.01', adjustment: '-0.01' });
    expect(displayRounding([], '0')).toEqual({ lineAmounts: [], totalRounded: '0.00', adjustment: '0.00' });
  });
});

describe('periods', () => {
  it('invoices the previous calendar month (UTC), across a year boundary too', () => {
    expect(previousMonth(new Date('2026-03-01T00:05:00Z'))).toEqual({ start: new Date('2026-02-01T00:00:00Z'), end: new Date('2026-03-01T00:00:00Z') });
    expect(previousMonth(new Date('2026-01-01T00:05:00Z'))).toEqual({ start: new Date('2025-12-01T00:00:00Z'), end: new Date('2026-01-01T00:00:00Z') });
    expect(previousMonth(new Date('2026-07-31T23:59:59.999Z')).start).toEqual(new Date('2026-06-01T00:00:00Z'));
  });

  it('requires period_end after period_start', () => {
    expect(() => parsePeriod('2026-02-01T00:00:00Z', '2026-01-01T00:00:00Z')).toThrow(/period_end/);
    expect(() => parsePeriod('2026-02-01T00:00:00Z', '2026-02-01T00:00:00Z')).toThrow(/period_end/);
    expect(() => parsePeriod('nope', '2026-02-01T00:00:00Z')).toThrow(/period_start/);
    expect(parsePeriod('2026-01-01', '2026-02-01T00:00:00Z')).toEqual({ start: new Date('2026-01-01T00:00:00Z'), end: new Date('2026-02-01T00:00:00Z') });
  });
});
