import { InjectQueue } from '@nestjs/bullmq';
import { Injectable, Logger } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { Env } from '../config/env';
import { JOBS, QUEUES, WebhookJob, webhookJobOptions } from '../queues/queues';

/**
 * Queues deliveries (after the transaction that wrote them committed). Never throws: with Redis
 * away the deliveries stay pending and the sweeper queues them later.
 */
@Injectable()
export class WebhookDispatcher {
  private readonly logger = new Logger(WebhookDispatcher.name);

  constructor(
    @InjectQueue(QUEUES.webhooks) private readonly queue: Queue<WebhookJob>,
    private readonly env: Env,
  ) {}

  async enqueue(deliveryIds: string[]): Promise<void> {
    if (!deliveryIds.length) return;
    const opts = webhookJobOptions(this.env.WEBHOOK_MAX_ATTEMPTS, this.env.WEBHOOK_RETRY_BASE_MS);
    try {
      await this.queue.addBulk(deliveryIds.map((deliveryId) => ({ name: JOBS.deliverWebhook, data: { deliveryId }, opts: { ...opts, jobId: deliveryId } })));
    } catch (err) {
      this.logger.warn(`${deliveryIds.length} webhook deliveries not queued (${(err as Error)?.message ?? err}); the sweeper will queue them`);
    }
  }
}
