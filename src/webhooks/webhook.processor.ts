import { OnWorkerEvent, Processor, WorkerHost } from '@nestjs/bullmq';
import { BeforeApplicationShutdown, Logger } from '@nestjs/common';
import type { Job } from 'bullmq';
import { closeWithin, ShutdownDeadline } from '../queues/close-within';
import { QUEUES, WebhookJob } from '../queues/queues';
import { WebhookAttemptFailed, WebhookDeliverer } from './webhook-deliverer';

// A worker that dies mid-attempt loses its job lock; BullMQ's stalled check runs the job again,
// and the delivery's lease (timeout + margin) keeps that second run from sending while the first is alive.
@Processor(QUEUES.webhooks, { concurrency: 32, lockDuration: 30_000, stalledInterval: 15_000, maxStalledCount: 10 })
export class WebhookProcessor extends WorkerHost implements BeforeApplicationShutdown {
  private readonly logger = new Logger(WebhookProcessor.name);

  constructor(
    private readonly deliverer: WebhookDeliverer,
    private readonly deadline: ShutdownDeadline,
  ) {
    super();
  }

  /** Rethrows a failed attempt, so BullMQ retries it with its exponential back-off. */
  process(job: Job<WebhookJob>) {
    return this.deliverer.attempt(job.data.deliveryId);
  }

  @OnWorkerEvent('failed')
  onFailed(job: Job<WebhookJob> | undefined, err: Error) {
    if (!(err instanceof WebhookAttemptFailed)) this.logger.warn(`webhook delivery ${job?.data.deliveryId}: ${err.message}`);
  }

  @OnWorkerEvent('error')
  onError(err: Error) {
    this.logger.warn(`webhook worker: ${err.message}`);
  }

  async beforeApplicationShutdown() {
    await closeWithin('webhook worker', this.worker, this.deadline.remaining());
  }
}
