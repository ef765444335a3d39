import Decimal from 'decimal.js';
import type { PriceVersion } from '../catalog/catalog.service';
import { addAmounts, ChargeBreakdown, computeCharge, formatAmount } from './money';

/** A usage event waiting to be charged. */
export interface PendingEvent {
  id: string;
  tenantId: string;
  responseId: string;
  model: string;
  inputTokens: number;
  cachedTokens: number;
  outputTokens: number;
  reasoningTokens: number;
  requestedAt: Date;
  /** The price version fixed at admission; null for events written without one (priced by requestedAt). */
  priceId: string | null;
  /** The reservation the request held (its charge releases it). */
  reservationId?: string | null;
}

export interface PlannedCharge {
  event: PendingEvent;
  price: PriceVersion;
  charge: ChargeBreakdown;
  /** The tenant's balance right after this entry; filled by assignBalancesAfter. */
  balanceAfter?: string;
}

/** The model-wide version in force at `at`: latest effectiveFrom <= at. `versions` may be in any order. */
export function priceInForce(versions: PriceVersion[], model: string, at: Date): PriceVersion | null {
  let best: PriceVersion | null = null;
  for (const v of versions) {
    if (v.modelId !== model || v.tenantId !== null || v.effectiveFrom > at) continue;
    if (!best || v.effectiveFrom > best.effectiveFrom) best = v;
  }
  return best;
}

/** The version an event is charged at: the one fixed at its admission, else the one in force when it started. */
export function priceFor(versions: PriceVersion[], event: PendingEvent): PriceVersion | null {
  if (event.priceId) {
    return versions.find((v) => v.id === event.priceId && v.modelId === event.model && (v.tenantId === null || v.tenantId === event.tenantId)) ?? null;
  }
  return priceInForce(versions, event.model, event.requestedAt);
}

/**
 * Prices every event with the version fixed at its admission (see priceFor). Events whose model had
 * no price then cannot be charged (never silently at zero): they come back in `unpriced`.
 */
export function planCharges(events: PendingEvent[], versions: PriceVersion[]) {
  const planned: PlannedCharge[] = [];
  const unpriced: PendingEvent[] = [];
  const totals = new Map<string, string>();
  for (const event of events) {
    const price = priceFor(versions, event);
    if (!price) {
      unpriced.push(event);
      continue;
    }
    const charge = computeCharge(event, { input: price.input, cachedInput: price.cachedInput, output: price.output });
    planned.push({ event, price, charge });
    totals.set(event.tenantId, addAmounts(totals.get(event.tenantId) ?? '0', charge.total));
  }
  return { planned, unpriced, totals };
}

/**
 * Given a tenant's balance after all of `charges` (in ledger order), fills each entry's balance
 * right after it: the last one's is `finalBalance`, each earlier one's adds back the later charges.
 */
export function assignBalancesAfter(charges: PlannedCharge[], finalBalance: string): void {
  let after = new Decimal(finalBalance);
  for (let i = charges.length - 1; i >= 0; i--) {
    charges[i].balanceAfter = formatAmount(after);
    after = after.add(charges[i].charge.total);
  }
}
