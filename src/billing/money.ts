import Decimal from 'decimal.js';

/**
 * Exact money math. Amounts are USD decimal strings; prices are USD per 1,000,000 tokens.
 * Nothing here ever goes through a JS number.
 */
const D = Decimal.clone({ precision: 80, rounding: Decimal.ROUND_HALF_EVEN, toExpNeg: -100, toExpPos: 100 });
type Dec = InstanceType<typeof D>;

const MILLION = new D(1_000_000);
const AMOUNT = /^-?\d{1,20}(\.\d{1,18})?$/;
const PRICE = /^\d{1,12}(\.\d{1,9})?$/;

export interface Price {
  input: string;
  cachedInput: string;
  output: string;
}

export interface TokenUsage {
  inputTokens: number;
  cachedTokens: number;
  outputTokens: number;
  reasoningTokens: number;
}

/** A charge and its parts; input + cachedInput + output + reasoning === total. */
export interface ChargeBreakdown {
  total: string;
  /** Uncached input tokens at the input price. */
  input: string;
  cachedInput: string;
  /** Visible output tokens (output minus reasoning) at the output price. */
  output: string;
  /** Reasoning tokens at the output price. */
  reasoning: string;
}

/** "0.25" style, no exponent, no trailing zeros ("2" not "2.000"). */
export const formatAmount = (value: Dec | string): string => new D(value).toFixed();

export const isAmount = (value: unknown): value is string => typeof value === 'string' && AMOUNT.test(value);
/** A price per 1M tokens: non-negative, at most 9 fractional digits. */
export const isPrice = (value: unknown): value is string => typeof value === 'string' && PRICE.test(value);

/** The cached-input price when a model's price does not set it: 10% of the input price. */
export const defaultCachedInputPrice = (inputPrice: string): string => formatAmount(new D(inputPrice).div(10));

function assertTokens(usage: TokenUsage) {
  const { inputTokens, cachedTokens, outputTokens, reasoningTokens } = usage;
  for (const [name, n] of Object.entries({ inputTokens, cachedTokens, outputTokens, reasoningTokens })) {
    if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`${name} must be a non-negative integer, got ${n}`);
  }
  if (cachedTokens > inputTokens) throw new RangeError(`cachedTokens (${cachedTokens}) exceeds inputTokens (${inputTokens})`);
  if (reasoningTokens > outputTokens) throw new RangeError(`reasoningTokens (${reasoningTokens}) exceeds outputTokens (${outputTokens})`);
}

/**
 * ((input - cached) * input_price + cached * cached_input_price + output * output_price) / 1e6,
 * exactly. Reasoning tokens are inside output tokens: billed once, at the output price.
 */
export function computeCharge(usage: TokenUsage, price: Price): ChargeBreakdown {
  assertTokens(usage);
  const perToken = (tokens: number, perMillion: string) => new D(tokens).mul(perMillion).div(MILLION);
  const input = perToken(usage.inputTokens - usage.cachedTokens, price.input);
  const cachedInput = perToken(usage.cachedTokens, price.cachedInput);
  const output = perToken(usage.outputTokens - usage.reasoningTokens, price.output);
  const reasoning = perToken(usage.reasoningTokens, price.output);
  const total = input.add(cachedInput).add(output).add(reasoning);
  return {
    total: formatAmount(total),
    input: formatAmount(input),
    cachedInput: formatAmount(cachedInput),
    output: formatAmount(output),
    reasoning: formatAmount(reasoning),
  };
}

/** A request's cost as its answer reports it (`usage.cost`, `usage.cost_details`). */
export interface CostReceipt {
  cost: string;
  cost_details: { input: string; cached_input: string; output: string; reasoning: string; price_id: string };
}

/**
 * The receipt of `usage` at the price version `price`: the very computeCharge the ledger charge
 * uses, so for the same (billable) usage and version the two agree to the last digit.
 */
export function costReceipt(usage: TokenUsage, price: Price & { id: string }): CostReceipt {
  const charge = computeCharge(usage, price);
  return {
    cost: charge.total,
    cost_details: { input: charge.input, cached_input: charge.cachedInput, output: charge.output, reasoning: charge.reasoning, price_id: price.id },
  };
}

export const addAmounts = (...values: string[]): string => formatAmount(values.reduce((acc, v) => acc.add(v), new D(0)));
export const negate = (value: string): string => formatAmount(new D(value).neg());
export const maxAmount = (a: string, b: string): string => (new D(a).gte(b) ? formatAmount(a) : formatAmount(b));
export const compareAmounts = (a: string, b: string): number => new D(a).cmp(b);
