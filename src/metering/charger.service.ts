import { Injectable, Logger } from '@nestjs/common';
import { toPriceVersion } from '../catalog/catalog.service';
import { Prisma } from '../generated/prisma/client';
import { MetricsService } from '../metrics/metrics.service';
import { PrismaService } from '../prisma/prisma.service';
import { addAmounts } from '../billing/money';
import { assignBalancesAfter, PendingEvent, planCharges, PlannedCharge } from './charge-plan';

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
 * and re-checked uncharged, one ledger entry per event is written (unique usage_event_id), the
 * tenants' balances move by the same amounts, and the events are marked charged.
 */
@Injectable()
export class ChargerService {
  private readonly logger = new Logger(ChargerService.name);

  constructor(
    private readonly prisma: PrismaService,
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

      const models = [...new Set(events.map((e) => e.model))];
      const versions = (await tx.price.findMany({ where: { modelId: { in: models } } })).map(toPriceVersion);
      const { planned, unpriced, totals } = planCharges(events, versions);
      if (unpriced.length) {
        throw new UnchargeableEventError(
          `No price in force for ${unpriced.map((e) => `${e.model} at ${e.requestedAt.toISOString()} (event ${e.id})`).join(', ')}`,
        );
      }

      // The requests' reservations end with their charges.
      const reservationIds = events.flatMap((e) => (e.reservationId ? [e.reservationId] : []));
      const released = new Map<string, string>();
      if (reservationIds.length) {
        const rows = await tx.$queryRaw<Array<{ tenantId: string; amount: Prisma.Decimal }>>`
          DELETE FROM reservations WHERE id = ANY(${reservationIds}::uuid[]) RETURNING tenant_id AS "tenantId", amount`;
        for (const r of rows) released.set(r.tenantId, addAmounts(released.get(r.tenantId) ?? '0', r.amount.toFixed()));
      }

      const charged = planned.map((p) => p.event.id);
      await tx.$executeRaw`UPDATE usage_events SET charged_at = now() WHERE id = ANY(${charged}::uuid[])`;

      // The tenant rows last: a reservation waits on them, so they stay locked only for the balance
      // update, the ledger insert and the commit. Tenants in a fixed order, so two workers never
      // wait on each other in a cycle.
      const byTenant = new Map<string, PlannedCharge[]>();
      for (const p of planned) byTenant.set(p.event.tenantId, [...(byTenant.get(p.event.tenantId) ?? []), p]);
      for (const tenantId of [...byTenant.keys()].sort()) {
        const [{ balance }] = await tx.$queryRaw<Array<{ balance: Prisma.Decimal }>>`
          UPDATE tenants SET balance = balance - ${totals.get(tenantId)}::numeric,
                             reserved = reserved - ${released.get(tenantId) ?? '0'}::numeric
           WHERE id = ${tenantId}::uuid RETURNING balance`;
        assignBalancesAfter(byTenant.get(tenantId)!, balance.toFixed());
      }

      // One statement for the whole batch (createMany costs several times more in the client).
      const col = <T>(f: (p: PlannedCharge) => T) => planned.map(f);
      await tx.$executeRaw`
        INSERT INTO ledger_entries (id, tenant_id, kind, amount, balance_after, usage_event_id, response_id, price_id,
                                    input_cost, cached_input_cost, output_cost, reasoning_cost)
        SELECT gen_random_uuid(), tenant_id, 'charge', amount, balance_after, usage_event_id, response_id, price_id,
               input_cost, cached_input_cost, output_cost, reasoning_cost
          FROM unnest(${col((p) => p.event.tenantId)}::uuid[], ${col((p) => `-${p.charge.total}`)}::numeric[],
                      ${col((p) => p.balanceAfter!)}::numeric[], ${col((p) => p.event.id)}::uuid[],
                      ${col((p) => p.event.responseId)}::text[], ${col((p) => p.price.id)}::uuid[],
                      ${col((p) => p.charge.input)}::numeric[], ${col((p) => p.charge.cachedInput)}::numeric[],
                      ${col((p) => p.charge.output)}::numeric[], ${col((p) => p.charge.reasoning)}::numeric[])
               AS u(tenant_id, amount, balance_after, usage_event_id, response_id, price_id,
                    input_cost, cached_input_cost, output_cost, reasoning_cost)`;
      return { outcome: { charged, skipped }, createdAt: events.map((e) => e.createdAt) };
    });
  }
}
