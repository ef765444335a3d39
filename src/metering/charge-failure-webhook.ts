import { Injectable, Logger } from '@nestjs/common';
import { isUuid } from '../common/ids';
import { PgPool } from '../prisma/pg-pool.service';
import { WebhookDispatcher } from '../webhooks/webhook-dispatcher';
import { chargeFailedEvent } from '../webhooks/webhook-events';
import { emitWebhook } from '../webhooks/webhook-outbox';
import { eventChargeState } from './usage-events.repository';

/**
 * The charge.failed webhook, when a charge job lands in the dead-letter list: once per usage event
 * (its id is the event's cause), and only while the event is still uncharged.
 */
@Injectable()
export class ChargeFailureWebhook {
  private readonly logger = new Logger(ChargeFailureWebhook.name);

  constructor(
    private readonly pg: PgPool,
    private readonly dispatcher: WebhookDispatcher,
  ) {}

  async notify(usageEventId: string, error: string): Promise<void> {
    if (!isUuid(usageEventId)) return;
    const deliveries = await this.pg.transaction(async (tx) => {
      const event = await eventChargeState(tx, usageEventId);
      if (!event || event.chargedAt) return [];
      const data = { tenant_id: event.tenantId, usage_event_id: usageEventId, response_id: event.responseId, error: error.slice(0, 1000) };
      return emitWebhook(tx, chargeFailedEvent(data));
    });
    if (deliveries.length) this.logger.log(`charge.failed for usage event ${usageEventId}: ${deliveries.length} deliveries`);
    await this.dispatcher.enqueue(deliveries);
  }
}
