import { Injectable, Logger } from '@nestjs/common';
import { Env } from '../config/env';
import { MetricsService } from '../metrics/metrics.service';
import { PgPool } from '../prisma/pg-pool.service';
import { retryDelayMs } from './retry-schedule';
import { postWebhook, SendResult } from './webhook-sender';
import { signWebhook } from './webhook-signing';
import { claimDelivery, ClaimedDelivery, deliveryStatus, DeliveryStatus, recordAttempt } from './webhook-deliveries.repository';

/** The attempt failed and the delivery is still pending: BullMQ retries the job after its back-off. */
export class WebhookAttemptFailed extends Error {}

export type DeliveryOutcome = 'delivered' | 'failed' | 'skipped';

/** The lease an attempt holds beyond its timeout, so a slow but live attempt is never sent twice. */
const LEASE_MARGIN_MS = 15_000;

/**
 * Sends one delivery once. The delivery row decides who may send: an attempt first claims it with
 * a conditional write (pending and not leased by a live attempt), and only a pending row becomes
 * delivered or failed, so two processes holding the same job never both send it.
 */
@Injectable()
export class WebhookDeliverer {
  private readonly logger = new Logger(WebhookDeliverer.name);

  constructor(
    private readonly pg: PgPool,
    private readonly env: Env,
    private readonly metrics: MetricsService,
  ) {}

  /** Throws WebhookAttemptFailed when this attempt failed and another one is due. */
  async attempt(deliveryId: string): Promise<DeliveryOutcome> {
    const claimed = await this.claim(deliveryId);
    if (!claimed) return this.skip(deliveryId);
    const attemptedAt = new Date();
    const headers = signWebhook(claimed.secret, claimed.event_id, claimed.body, attemptedAt);
    const sent = await postWebhook(claimed.url, claimed.body, { ...headers }, this.env.WEBHOOK_TIMEOUT_MS, this.env.WEBHOOK_ALLOW_PRIVATE === 'true');
    const ok = sent.statusCode !== null && sent.statusCode >= 200 && sent.statusCode < 300;
    // Null: the endpoint was deleted meanwhile (its deliveries with it).
    const status = (await this.record(deliveryId, claimed.attempts, attemptedAt, sent, ok)) ?? 'skipped';
    this.metrics.webhookAttempts.inc({ type: claimed.type, outcome: status === 'pending' ? 'retry' : ok ? 'delivered' : 'failed' });
    if (status === 'pending') {
      throw new WebhookAttemptFailed(`attempt ${claimed.attempts}: ${sent.statusCode ?? sent.error}`);
    }
    if (status === 'failed') this.logger.warn(`webhook delivery ${deliveryId} failed after ${claimed.attempts} attempts: ${sent.statusCode ?? sent.error}`);
    return status;
  }

  private claim(deliveryId: string): Promise<ClaimedDelivery | null> {
    return claimDelivery(this.pg, deliveryId, this.env.WEBHOOK_TIMEOUT_MS + LEASE_MARGIN_MS);
  }

  /** Not claimed: done, gone (endpoint deleted), or leased by a live attempt elsewhere (retry later). */
  private async skip(deliveryId: string): Promise<DeliveryOutcome> {
    if ((await deliveryStatus(this.pg, deliveryId)) === 'pending') throw new WebhookAttemptFailed(`delivery ${deliveryId} is being attempted elsewhere`);
    return 'skipped';
  }

  /** Records the attempt; the delivery's new state. */
  private record(deliveryId: string, attempts: number, attemptedAt: Date, sent: SendResult, ok: boolean): Promise<DeliveryStatus | null> {
    const nextAttemptAt = new Date(Date.now() + retryDelayMs(attempts, this.env.WEBHOOK_RETRY_BASE_MS));
    return recordAttempt(this.pg, { deliveryId, attemptedAt, sent, ok, maxAttempts: this.env.WEBHOOK_MAX_ATTEMPTS, nextAttemptAt });
  }
}
