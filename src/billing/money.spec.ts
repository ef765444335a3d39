import { addAmounts, compareAmounts, computeCharge, costReceipt, defaultCachedInputPrice, formatAmount, isAmount, isPrice, negate, Price } from './money';

const seed: Price = { input: '0.25', cachedInput: '0.05', output: '2.00' };

// Expected strings were computed independently with Python's decimal module (precision 100).
describe('computeCharge', () => {
  it.each([
    // [name, usage, price, total, input, cachedInput, output, reasoning]
    ['zero tokens', [0, 0, 0, 0], seed, '0', '0', '0', '0', '0'],
    ['input only', [1000, 0, 0, 0], seed, '0.00025', '0.00025', '0', '0', '0'],
    ['one token of each price', [1, 0, 1, 0], seed, '0.00000225', '0.00000025', '0', '0.000002', '0'],
    ['cached share billed at the cache price', [1000, 400, 0, 0], seed, '0.00017', '0.00015', '0.00002', '0', '0'],
    ['all input cached', [300, 300, 0, 0], seed, '0.000015', '0', '0.000015', '0', '0'],
    ['reasoning inside output, billed once', [100, 0, 50, 30], seed, '0.000125', '0.000025', '0', '0.00004', '0.00006'],
    ['all output is reasoning', [0, 0, 10, 10], seed, '0.00002', '0', '0', '0', '0.00002'],
    ['mixed', [1200, 256, 300, 120], seed, '0.0008488', '0.000236', '0.0000128', '0.00036', '0.00024'],
    [
      '9-decimal prices',
      [3, 1, 7, 2],
      { input: '0.123456789', cachedInput: '0.000000001', output: '1.987654321' },
      '0.000014160493826',
      '0.000000246913578',
      '0.000000000000001',
      '0.000009938271605',
      '0.000003975308642',
    ],
    [
      'huge token counts',
      [9_007_199_254_740_991, 1, 9_007_199_254_740_991, 0],
      { input: '999999999999.999999999', cachedInput: '0', output: '999999999999.999999999' },
      '18014398509481980999981.985601490518019',
      '9007199254740989999990.99280074525901',
      '0',
      '9007199254740990999990.992800745259009',
      '0',
    ],
    ['zero prices', [500, 100, 500, 100], { input: '0', cachedInput: '0', output: '0' }, '0', '0', '0', '0', '0'],
  ])('%s', (_name, [inputTokens, cachedTokens, outputTokens, reasoningTokens], price, total, input, cachedInput, output, reasoning) => {
    const charge = computeCharge({ inputTokens, cachedTokens, outputTokens, reasoningTokens }, price as Price);
    expect(charge).toEqual({ total, input, cachedInput, output, reasoning });
    expect(addAmounts(charge.input, charge.cachedInput, charge.output, charge.reasoning)).toEqual(charge.total);
  });

  it('never prints an exponent for tiny amounts', () => {
    const c = computeCharge({ inputTokens: 1, cachedTokens: 0, outputTokens: 0, reasoningTokens: 0 }, { input: '0.000000001', cachedInput: '0', output: '0' });
    expect(c.total).toEqual('0.000000000000001');
  });

  it('uses the cache price, not the input price, for cached tokens', () => {
    const price = { input: '1', cachedInput: '0.1', output: '0' };
    const none = computeCharge({ inputTokens: 1_000_000, cachedTokens: 0, outputTokens: 0, reasoningTokens: 0 }, price);
    const all = computeCharge({ inputTokens: 1_000_000, cachedTokens: 1_000_000, outputTokens: 0, reasoningTokens: 0 }, price);
    expect(none.total).toEqual('1');
    expect(all.total).toEqual('0.1');
  });

  it.each([
    [{ inputTokens: 10, cachedTokens: 11, outputTokens: 0, reasoningTokens: 0 }, /cachedTokens/],
    [{ inputTokens: 0, cachedTokens: 0, outputTokens: 5, reasoningTokens: 6 }, /reasoningTokens/],
    [{ inputTokens: -1, cachedTokens: 0, outputTokens: 0, reasoningTokens: 0 }, /inputTokens/],
    [{ inputTokens: 1.5, cachedTokens: 0, outputTokens: 0, reasoningTokens: 0 }, /inputTokens/],
    [{ inputTokens: Number.MAX_SAFE_INTEGER + 1, cachedTokens: 0, outputTokens: 0, reasoningTokens: 0 }, /inputTokens/],
  ])('refuses impossible usage %p', (usage, message) => {
    expect(() => computeCharge(usage, seed)).toThrow(message);
  });
});

describe('amount helpers', () => {
  it.each([
    ['0.25', '0.025'],
    ['2', '0.2'],
    ['0.000000001', '0.0000000001'],
    ['0', '0'],
  ])('defaults the cached price of %s to 10%%: %s', (input, cached) => {
    expect(defaultCachedInputPrice(input)).toEqual(cached);
  });

  it.each([
    ['0.25', true],
    ['2', true],
    ['123456789012.123456789', true],
    ['0.1234567891', false],
    ['-1', false],
    ['1e3', false],
    ['', false],
    [' 1', false],
    [1, false],
  ])('isPrice(%p) = %p', (value, ok) => expect(isPrice(value)).toBe(ok));

  it.each([
    ['10.00', true],
    ['-5', true],
    ['0.000000000000000001', true],
    ['0.0000000000000000001', false],
    ['1,5', false],
    ['NaN', false],
    [10, false],
  ])('isAmount(%p) = %p', (value, ok) => expect(isAmount(value)).toBe(ok));

  it('adds, negates and compares exactly', () => {
    expect(addAmounts('0.1', '0.2')).toEqual('0.3');
    expect(addAmounts('10', '-0.000037500')).toEqual('9.9999625');
    expect(addAmounts()).toEqual('0');
    expect(negate('0.5')).toEqual('-0.5');
    expect(negate('0')).toEqual('0');
    expect(compareAmounts('0.30', '0.3')).toBe(0);
    expect(compareAmounts('-1', '0')).toBe(-1);
    expect(formatAmount('1.2300')).toEqual('1.23');
  });
});

describe('costReceipt', () => {
  const version = { id: 'price-1', ...seed };

  it.each([
    // [name, usage, cost, input, cached_input, output, reasoning] — worked by hand at 0.25 / 0.05 / 2.00
    ['nothing used', [0, 0, 0, 0], '0', '0', '0', '0', '0'],
    ['plain', [20, 0, 12, 0], '0.000029', '0.000005', '0', '0.000024', '0'],
    ['cached prefix', [1000, 800, 5, 0], '0.0001', '0.00005', '0.00004', '0.00001', '0'],
    ['thinking', [10, 0, 100, 60], '0.0002025', '0.0000025', '0', '0.00008', '0.00012'],
    ['everything', [1200, 256, 300, 120], '0.0008488', '0.000236', '0.0000128', '0.00036', '0.00024'],
  ])('%s', (_name, [input, cached, output, reasoning], cost, inputCost, cachedCost, outputCost, reasoningCost) => {
    expect(costReceipt({ inputTokens: input, cachedTokens: cached, outputTokens: output, reasoningTokens: reasoning }, version)).toEqual({
      cost,
      cost_details: { input: inputCost, cached_input: cachedCost, output: outputCost, reasoning: reasoningCost, price_id: 'price-1' },
    });
  });

  it('is the ledger charge: the same total and parts as computeCharge, for any usage and price', () => {
    const prices = [seed, { input: '0.123456789', cachedInput: '0.000000001', output: '1.987654321' }, { input: '0', cachedInput: '0', output: '0' }];
    let state = 7;
    const next = (max: number) => (state = (state * 1103515245 + 12345) % 2 ** 31) % (max + 1);
    for (let i = 0; i < 500; i++) {
      const inputTokens = next(200_000);
      const outputTokens = next(50_000);
      const usage = { inputTokens, cachedTokens: next(inputTokens), outputTokens, reasoningTokens: next(outputTokens) };
      const price = prices[i % prices.length];
      const receipt = costReceipt(usage, { id: 'v', ...price });
      const charge = computeCharge(usage, price);
      expect(receipt.cost).toBe(charge.total);
      const d = receipt.cost_details;
      expect([d.input, d.cached_input, d.output, d.reasoning]).toEqual([charge.input, charge.cachedInput, charge.output, charge.reasoning]);
      expect(addAmounts(d.input, d.cached_input, d.output, d.reasoning)).toBe(receipt.cost);
    }
  });

  it('refuses usage that is not billable rather than pricing it', () => {
    expect(() => costReceipt({ inputTokens: 1, cachedTokens: 2, outputTokens: 0, reasoningTokens: 0 }, version)).toThrow(RangeError);
    expect(() => costReceipt({ inputTokens: 0, cachedTokens: 0, outputTokens: 1, reasoningTokens: 2 }, version)).toThrow(RangeError);
    expect(() => costReceipt({ inputTokens: 1.5, cachedTokens: 0, outputTokens: 0, reasoningTokens: 0 }, version)).toThrow(RangeError);
  });
});
