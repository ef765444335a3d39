import { OnWorkerEvent, Processor, WorkerHost } from '@nestjs/bullmq';
import { BeforeApplicationShutdown, Logger } from '@nestjs/common';
import type { Job } from 'bullmq';
import { Env } from '../config/env';
import { closeWithin } from '../queues/close-within';
import { ChargeJob, QUEUES } from '../queues/queues';
import { ChargeBatcher } from './charge-batcher';
import { ChargeFailureWebhook } from './charge-failure-webhook';

/** Jobs run concurrently so the batcher can gather them into one transaction. */
export const CHARGE_CONCURRENCY = 256;

// A worker that dies mid-job loses its lock after lockDuration; the job is then run again.
@Processor(QUEUES.charges, { concurrency: CHARGE_CONCURRENCY, lockDuration: 10_000, stalledInterval: 5_000, maxStalledCount: 100 })
export class ChargeProcessor extends WorkerHost implements BeforeApplicationShutdown {
  private readonly logger = new Logger(ChargeProcessor.name);

  constructor(
    private readonly batcher: ChargeBatcher,
    private readonly failures: ChargeFailureWebhook,
    private readonly env: Env,
  ) {
    super();
  }

  @OnWorkerEvent('failed')
  async onFailed(job: Job<ChargeJob> | undefined, err: Error) {
    const final = job && job.attemptsMade >= (job.opts.attempts ?? 1);
    this.logger.warn(`charge of ${job?.data.usageEventId} failed${final ? ' for good (dead letter)' : ', will retry'}: ${err.message}`);
    if (final) {
      await this.failures.notify(job.data.usageEventId, err.message).catch((e) => this.logger.warn(`charge.failed webhook not written: ${(e as Error)?.message ?? e}`));
    }
  }

  /** Connection trouble and lost jobs (Redis flushed): logged; the relay re-queues what matters. */
  @OnWorkerEvent('error')
  onError(err: Error) {
    this.logger.warn(`charge worker: ${err.message}`);
  }

  /** Graceful shutdown: take no new job, let the running ones (and their batch) finish. */
  async beforeApplicationShutdown() {
    await closeWithin('charge worker', this.worker, this.env.SHUTDOWN_GRACE_MS);
  }

  /** Rethrows on failure, so BullMQ retries; a charged event makes a repeated job a no-op. */
  process(job: Job<ChargeJob>): Promise<void> {
    return this.batcher.charge(job.data.usageEventId);
  }
}
