import { Injectable } from '@nestjs/common';
import { emitWebhook } from '../webhooks/webhook-outbox';
import { WebhookDispatcher } from '../webhooks/webhook-dispatcher';
import { balanceLowEvent, budgetThresholdEvent } from '../webhooks/webhook-events';
import type { UnsafeSqlClient } from '../common/sql/sql-client';

/** A charge took a tenant's settled available balance (balance + credit_limit) from at or above its low_balance_threshold to below it. */
export interface LowBalanceFact {
  tenantId: string;
  balance: string;
  available: string;
  threshold: string;
  /** The usage event whose charge crossed: one crossing, one event. */
  crossingId: string;
}

/** A key's charges in a budget period reached 80% or 100% of its limit, the first time that period. */
export interface BudgetThresholdFact {
  tenantId: string;
  apiKeyId: string;
  percent: 80 | 100;
  limit: string;
  spent: string;
  periodStart: Date;
  resetsAt: Date | null;
}

/**
 * The charge transaction hands over the spend facts it found, inside that transaction: each becomes
 * a webhook event written in it (so it commits or rolls back with the charge). Once the charge has
 * committed, `committed(tx)` queues the deliveries it wrote; deliveries whose job is never queued
 * (a crash in between, Redis away) are queued by the webhook sweeper.
 */
@Injectable()
export class SpendAlerts {
  private readonly written = new WeakMap<UnsafeSqlClient, string[]>();

  constructor(private readonly dispatcher: WebhookDispatcher) {}

  async lowBalance(tx: UnsafeSqlClient, facts: LowBalanceFact[]): Promise<void> {
    for (const f of facts) {
      const data = { tenant_id: f.tenantId, balance: f.balance, available: f.available, threshold: f.threshold };
      this.keep(tx, await emitWebhook(tx, balanceLowEvent(data, f.crossingId)));
    }
  }

  async budgetThreshold(tx: UnsafeSqlClient, facts: BudgetThresholdFact[]): Promise<void> {
    for (const f of facts) {
      const event = budgetThresholdEvent({
        tenant_id: f.tenantId,
        api_key_id: f.apiKeyId,
        percent: f.percent,
        limit: f.limit,
        spent: f.spent,
        period_start: f.periodStart.toISOString(),
        resets_at: f.resetsAt?.toISOString() ?? null,
      });
      this.keep(tx, await emitWebhook(tx, event));
    }
  }

  /** After `tx` committed: queue the deliveries its events made. Never throws. */
  committed(tx: UnsafeSqlClient): Promise<void> {
    const ids = this.written.get(tx);
    if (!ids) return Promise.resolve();
    this.written.delete(tx);
    return this.dispatcher.enqueue(ids);
  }

  private keep(tx: UnsafeSqlClient, deliveryIds: string[]) {
    if (!deliveryIds.length) return;
    const ids = this.written.get(tx);
    if (ids) ids.push(...deliveryIds);
    else this.written.set(tx, [...deliveryIds]);
  }
}
