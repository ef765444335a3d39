import Decimal from 'decimal.js';
import { addAmounts, compareAmounts, formatAmount } from '../billing/money';

/** Exact decimals for the invoice math (as money.ts: never a JS float). */
const D = Decimal.clone({ precision: 80, rounding: Decimal.ROUND_HALF_UP, toExpNeg: -100, toExpPos: 100 });

export type LineKind = 'input' | 'cached_input' | 'output' | 'reasoning';

/** The charges of one (model, price version), summed: tokens as integers (text), costs as exact decimals. */
export interface ChargeGroup {
  model: string;
  priceId: string | null;
  requests: string;
  inputTokens: string;
  cachedTokens: string;
  outputTokens: string;
  reasoningTokens: string;
  /** Sum of -amount of the charges. */
  cost: string;
  inputCost: string;
  cachedInputCost: string;
  outputCost: string;
  reasoningCost: string;
}

export interface PriceInfo {
  id: string;
  effectiveFrom: Date;
  /** USD per 1M tokens, exact decimal strings. */
  input: string;
  cachedInput: string;
  output: string;
}

export interface InvoiceLineDraft {
  model: string;
  kind: LineKind;
  priceId: string | null;
  priceEffectiveFrom: Date | null;
  /** Tokens (an integer). */
  quantity: bigint;
  /** USD per 1M tokens; null when the charges name no known price version. */
  unitPrice: string | null;
  /** Exact: the sum of the matching breakdown column of the charges. */
  amount: string;
}

export interface BuiltInvoice {
  lines: InvoiceLineDraft[];
  /** Exact sum of the charges (-amount). Equals the sum of the line amounts (checked). */
  total: string;
  charges: number;
  /** Lines whose amount differs from quantity x unit_price / 1e6 (never expected; logged). */
  priceMismatches: InvoiceLineDraft[];
}

export class InvoiceMismatchError extends Error {}

/**
 * Charge groups -> invoice lines: one line per (model, kind, price version), kinds `input`
 * (uncached input tokens), `cached_input`, `output` (visible output: output minus reasoning) and
 * `reasoning`. A line's amount is the sum of its breakdown column, so the lines add up to the
 * charges' total exactly (each charge's breakdown adds up to its amount, see money.ts); that is
 * checked, and a mismatch throws. Lines with no tokens and no amount are left out. Order: model,
 * then price version (oldest first), then kind.
 */
export function buildInvoiceLines(groups: ChargeGroup[], prices: Map<string, PriceInfo>): BuiltInvoice {
  const lines: InvoiceLineDraft[] = [];
  let total = '0';
  let charges = 0;
  const sorted = [...groups].sort((a, b) => {
    if (a.model !== b.model) return a.model < b.model ? -1 : 1;
    const fa = versionTime(a.priceId, prices);
    const fb = versionTime(b.priceId, prices);
    if (fa !== fb) return fa - fb;
    return String(a.priceId).localeCompare(String(b.priceId));
  });
  for (const g of sorted) {
    const price = g.priceId ? prices.get(g.priceId) : undefined;
    const input = BigInt(g.inputTokens);
    const cached = BigInt(g.cachedTokens);
    const output = BigInt(g.outputTokens);
    const reasoning = BigInt(g.reasoningTokens);
    const parts: Array<[LineKind, bigint, string | undefined, string]> = [
      ['input', input - cached, price?.input, g.inputCost],
      ['cached_input', cached, price?.cachedInput, g.cachedInputCost],
      ['output', output - reasoning, price?.output, g.outputCost],
      ['reasoning', reasoning, price?.output, g.reasoningCost],
    ];
    for (const [kind, quantity, unitPrice, amount] of parts) {
      if (quantity === 0n && compareAmounts(amount, '0') === 0) continue;
      lines.push({
        model: g.model,
        kind,
        priceId: price ? price.id : null,
        priceEffectiveFrom: price ? price.effectiveFrom : null,
        quantity,
        unitPrice: unitPrice !== undefined ? formatAmount(unitPrice) : null,
        amount: formatAmount(amount),
      });
    }
    total = addAmounts(total, g.cost);
    charges += Number(g.requests);
  }
  const linesSum = lines.reduce((acc, l) => addAmounts(acc, l.amount), '0');
  if (compareAmounts(linesSum, total) !== 0) {
    throw new InvoiceMismatchError(`invoice lines add up to ${linesSum} but the charges total ${total}`);
  }
  const priceMismatches = lines.filter((l) => l.unitPrice !== null && compareAmounts(lineAmountAtPrice(l.quantity, l.unitPrice), l.amount) !== 0);
  return { lines, total, charges, priceMismatches };
}

/** When a group's price version took effect (unknown versions sort last). */
const versionTime = (priceId: string | null, prices: Map<string, PriceInfo>): number =>
  (priceId ? prices.get(priceId)?.effectiveFrom.getTime() : undefined) ?? Number.MAX_SAFE_INTEGER;

/** quantity x unit_price / 1e6, exactly. */
export const lineAmountAtPrice = (quantity: bigint, unitPrice: string): string =>
  formatAmount(new D(quantity.toString()).mul(unitPrice).div(1_000_000));

/** Rounds to cents, half up (0.005 -> 0.01), always two decimals ("0.10"). */
export const roundToCents = (amount: string): string => new D(amount).toDecimalPlaces(2, Decimal.ROUND_HALF_UP).toFixed(2);

export interface DisplayRounding {
  /** Each line's amount rounded to cents. */
  lineAmounts: string[];
  /** The exact total rounded to cents: what the tenant owes. */
  totalRounded: string;
  /** totalRounded - sum(lineAmounts): shown as a "rounding" line so displayed lines add up. */
  adjustment: string;
}

/**
 * The display rule: amounts are stored and returned exact; for display (PDF, the `*_rounded`
 * fields), each line is rounded to cents half up, the total is the exact total rounded to cents
 * half up, and the difference between that and the sum of the rounded lines is a rounding line.
 */
export function displayRounding(lineAmounts: string[], total: string): DisplayRounding {
  const rounded = lineAmounts.map(roundToCents);
  const totalRounded = roundToCents(total);
  const sum = rounded.reduce((acc, a) => acc.add(a), new D(0));
  return { lineAmounts: rounded, totalRounded, adjustment: new D(totalRounded).sub(sum).toFixed(2) };
}
