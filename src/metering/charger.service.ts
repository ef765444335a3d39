import { Injectable, Logger } from '@nestjs/common';
import { priceVersions } from '../catalog/prices.repository';
import type { PgTransaction } from '../common/sql/pg-transaction';
import { MetricsService } from '../metrics/metrics.service';
import { PgPool } from '../prisma/pg-pool.service';
import { LedgerService } from '../billing/ledger.service';
import { ReservationsService } from '../billing/reservations.service';
import { SpendAlerts } from '../billing/spend-alerts';
import { planCharges } from '../billing/charge-plan';
import { claimChargeable } from './usage-events.repository';

/** An event that cannot be charged as it stands (no price in force); retrying will not help soon. */
export class UnchargeableEventError extends Error {}

export interface ChargeOutcome {
  /** Events charged by this call. */
  charged: string[];
  /** Events that were already charged (or are being charged by another worker): nothing to do. */
  skipped: string[];
}

/**
 * Charges usage events into the ledger, exactly once: in one transaction, the events are locked,
 * re-checked uncharged and marked charged (one statement), priced, and handed to billing, which releases their
 * reservations and writes one ledger entry per event (unique usage_event_id) with the balances.
 */
@Injectable()
export class ChargerService {
  private readonly logger = new Logger(ChargerService.name);

  constructor(
    private readonly pg: PgPool,
    private readonly ledger: LedgerService,
    private readonly reservations: ReservationsService,
    private readonly metrics: MetricsService,
    private readonly alerts: SpendAlerts,
  ) {}

  async chargeEvents(ids: string[]): Promise<ChargeOutcome> {
    if (!ids.length) return { charged: [], skipped: [] };
    const { outcome, createdAt } = await this.chargeInTransaction(ids);
    const now = Date.now();
    this.metrics.charges.inc(outcome.charged.length);
    for (const at of createdAt) this.metrics.chargeLag.observe((now - at.getTime()) / 1000);
    return outcome;
  }

  private async chargeInTransaction(ids: string[]): Promise<{ outcome: ChargeOutcome; createdAt: Date[] }> {
    let committed: PgTransaction | null = null;
    const result = await this.pg.transaction(async (tx) => {
      committed = tx;
      const events = await claimChargeable(tx, ids);
      const pending = new Set(events.map((e) => e.id));
      const skipped = ids.filter((id) => !pending.has(id));
      if (!events.length) return { outcome: { charged: [], skipped }, createdAt: [] };

      // The versions fixed at admission, and the model-wide history for events written without one.
      const priceIds = [...new Set(events.flatMap((e) => (e.priceId ? [e.priceId] : [])))];
      const unfixedModels = [...new Set(events.filter((e) => !e.priceId).map((e) => e.model))];
      const versions = await priceVersions(tx, priceIds, unfixedModels);
      const { planned, unpriced, totals } = planCharges(events, versions);
      if (unpriced.length) {
        throw new UnchargeableEventError(
          `No price in force for ${unpriced.map((e) => `${e.model} at ${e.requestedAt.toISOString()} (event ${e.id})`).join(', ')}`,
        );
      }

      // The requests' reservations end with their charges; billing moves the money.
      const released = await this.reservations.takeWithin(tx, planned);
      const charged = planned.map((p) => p.event.id);
      await this.ledger.appendCharges(tx, planned, totals, released);
      return { outcome: { charged, skipped }, createdAt: events.map((e) => e.createdAt) };
    });
    if (committed) await this.alerts.committed(committed);
    return result;
  }
}
