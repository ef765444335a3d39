/**
 * What a usage should cost, worked out independently of src/billing/money.ts so that a wrong
 * formula there cannot also be the expectation: integer arithmetic on token counts and prices
 * scaled to 1e-9 (a price has at most 9 fractional digits), divided by 1e6 tokens at the end.
 *   cost = ((input - cached) * input_price + cached * cached_input_price + output * output_price) / 1e6
 * Reasoning tokens are part of the output tokens (billed once). Example, checked by hand in
 * test/medium/charging.medium-spec.ts: 1,200 input (256 cached) and 300 output (120 reasoning) at
 * 0.25 / 0.025 / 2.00 cost 0.0008424.
 */
export interface HandUsage {
  input: number;
  cached: number;
  output: number;
  reasoning: number;
}

export interface HandPrice {
  input: string;
  cachedInput: string;
  output: string;
}

const PRICE_SCALE = 9;
const MILLION_DIGITS = 6;

function scaled(price: string): bigint {
  const [whole, fraction = ''] = price.split('.');
  if (fraction.length > PRICE_SCALE) throw new Error(`price ${price} has more than ${PRICE_SCALE} fractional digits`);
  return BigInt(whole + fraction.padEnd(PRICE_SCALE, '0'));
}

/** n * 10^-(PRICE_SCALE + MILLION_DIGITS) as a plain decimal string without trailing zeros. */
function unscale(n: bigint): string {
  const digits = PRICE_SCALE + MILLION_DIGITS;
  const negative = n < 0n;
  const s = (negative ? -n : n).toString().padStart(digits + 1, '0');
  const whole = s.slice(0, -digits);
  const fraction = s.slice(-digits).replace(/0+$/, '');
  return `${negative ? '-' : ''}${whole}${fraction ? `.${fraction}` : ''}`;
}

export interface HandCharge {
  total: string;
  input: string;
  cachedInput: string;
  output: string;
  reasoning: string;
}

export function handCharge(u: HandUsage, price: HandPrice): HandCharge {
  const parts = {
    input: BigInt(u.input - u.cached) * scaled(price.input),
    cachedInput: BigInt(u.cached) * scaled(price.cachedInput),
    output: BigInt(u.output - u.reasoning) * scaled(price.output),
    reasoning: BigInt(u.reasoning) * scaled(price.output),
  };
  return {
    total: unscale(parts.input + parts.cachedInput + parts.output + parts.reasoning),
    input: unscale(parts.input),
    cachedInput: unscale(parts.cachedInput),
    output: unscale(parts.output),
    reasoning: unscale(parts.reasoning),
  };
}

/** The sum of decimal strings, exactly (same scale as handCharge's results). */
export function sumAmounts(values: string[]): string {
  return unscale(values.reduce((acc, v) => acc + units(v), 0n));
}

/** A decimal string as an integer count of 1e-15 (the scale of handCharge's results). */
export function units(v: string): bigint {
  const negative = v.startsWith('-');
  const [whole, fraction = ''] = (negative ? v.slice(1) : v).split('.');
  const digits = PRICE_SCALE + MILLION_DIGITS;
  if (fraction.replace(/0+$/, '').length > digits) throw new Error(`${v} has more than ${digits} fractional digits`);
  const n = BigInt(whole + fraction.slice(0, digits).padEnd(digits, '0'));
  return negative ? -n : n;
}
