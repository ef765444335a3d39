import { Injectable, Logger } from '@nestjs/common';
import { toPriceVersion } from '../catalog/catalog.service';
import { MetricsService } from '../metrics/metrics.service';
import { PrismaService } from '../prisma/prisma.service';
import { LedgerService } from '../billing/ledger.service';
import { ReservationsService } from '../billing/reservations.service';
import { PendingEvent, planCharges } from '../billing/charge-plan';

/** An event that cannot be charged as it stands (no price in force); retrying will not help soon. */
export class UnchargeableEventError extends Error {}

export interface ChargeOutcome {
  /** Events charged by this call. */
  charged: string[];
  /** Events that were already charged (or are being charged by another worker): nothing to do. */
  skipped: string[];
}

/**
 * Charges usage events into the ledger, exactly once: in one transaction, the events are locked
 * and re-checked uncharged, priced, marked charged, and handed to billing, which releases their
 * reservations and writes one ledger entry per event (unique usage_event_id) with the balances.
 */
@Injectable()
export class ChargerService {
  private readonly logger = new Logger(ChargerService.name);

  constructor(
    private readonly prisma: PrismaService,
    private readonly ledger: LedgerService,
    private readonly reservations: ReservationsService,
    private readonly metrics: MetricsService,
  ) {}

  async chargeEvents(ids: string[]): Promise<ChargeOutcome> {
    if (!ids.length) return { charged: [], skipped: [] };
    const { outcome, createdAt } = await this.chargeInTransaction(ids);
    const now = Date.now();
    this.metrics.charges.inc(outcome.charged.length);
    for (const at of createdAt) this.metrics.chargeLag.observe((now - at.getTime()) / 1000);
    return outcome;
  }

  private chargeInTransaction(ids: string[]): Promise<{ outcome: ChargeOutcome; createdAt: Date[] }> {
    return this.prisma.$transaction(async (tx) => {
      // SKIP LOCKED: an event another worker holds is that worker's to charge (if it rolls back,
      // the relay queues the event again).
      const events = await tx.$queryRaw<Array<PendingEvent & { reservationId: string | null; createdAt: Date }>>`
        SELECT id, tenant_id AS "tenantId", response_id AS "responseId", model,
               input_tokens AS "inputTokens", cached_tokens AS "cachedTokens",
               output_tokens AS "outputTokens", reasoning_tokens AS "reasoningTokens",
               requested_at AS "requestedAt", price_id AS "priceId", reservation_id AS "reservationId",
               created_at AS "createdAt"
          FROM usage_events
         WHERE id = ANY(${ids}::uuid[]) AND charged_at IS NULL AND state <> 'pending'
         ORDER BY id
           FOR UPDATE SKIP LOCKED`;
      const pending = new Set(events.map((e) => e.id));
      const skipped = ids.filter((id) => !pending.has(id));
      if (!events.length) return { outcome: { charged: [], skipped }, createdAt: [] };

      // The versions fixed at admission, and the model-wide history for events written without one.
      const priceIds = [...new Set(events.flatMap((e) => (e.priceId ? [e.priceId] : [])))];
      const unfixedModels = [...new Set(events.filter((e) => !e.priceId).map((e) => e.model))];
      const versions = (
        await tx.price.findMany({ where: { OR: [{ id: { in: priceIds } }, { modelId: { in: unfixedModels }, tenantId: null }] } })
      ).map(toPriceVersion);
      const { planned, unpriced, totals } = planCharges(events, versions);
      if (unpriced.length) {
        throw new UnchargeableEventError(
          `No price in force for ${unpriced.map((e) => `${e.model} at ${e.requestedAt.toISOString()} (event ${e.id})`).join(', ')}`,
        );
      }

      // The requests' reservations end with their charges; billing moves the money.
      const released = await this.reservations.takeWithin(tx, planned);
      const charged = planned.map((p) => p.event.id);
      await tx.$executeRaw`UPDATE usage_events SET charged_at = now() WHERE id = ANY(${charged}::uuid[])`;
      await this.ledger.appendCharges(tx, planned, totals, released);
      return { outcome: { charged, skipped }, createdAt: events.map((e) => e.createdAt) };
    });
  }
}
