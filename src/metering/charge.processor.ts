import { OnWorkerEvent, Processor, WorkerHost } from '@nestjs/bullmq';
import { BeforeApplicationShutdown, Logger } from '@nestjs/common';
import type { Job } from 'bullmq';
import { closeWithin, ShutdownDeadline } from '../queues/close-within';
import { ChargeBatchJob, ChargeJob, JOBS, QUEUES } from '../queues/queues';
import { ChargeBatcher } from './charge-batcher';
import { ChargeFailureWebhook } from './charge-failure-webhook';
import { MeteringService } from './metering.service';

/** Jobs run concurrently so the batcher can gather them into one transaction. */
export const CHARGE_CONCURRENCY = 256;

const describe = (job: Job<ChargeJob | ChargeBatchJob> | undefined) =>
  job && 'usageEventIds' in job.data ? `a batch of ${job.data.usageEventIds.length} events` : `${(job?.data as ChargeJob | undefined)?.usageEventId}`;

// A worker that dies mid-job loses its lock after lockDuration; the job is then run again.
@Processor(QUEUES.charges, { concurrency: CHARGE_CONCURRENCY, lockDuration: 10_000, stalledInterval: 5_000, maxStalledCount: 100 })
export class ChargeProcessor extends WorkerHost implements BeforeApplicationShutdown {
  private readonly logger = new Logger(ChargeProcessor.name);

  constructor(
    private readonly batcher: ChargeBatcher,
    private readonly failures: ChargeFailureWebhook,
    private readonly metering: MeteringService,
    private readonly deadline: ShutdownDeadline,
  ) {
    super();
  }

  @OnWorkerEvent('failed')
  async onFailed(job: Job<ChargeJob | ChargeBatchJob> | undefined, err: Error) {
    const final = job && job.attemptsMade >= (job.opts.attempts ?? 1);
    this.logger.warn(`charge of ${describe(job)} failed${final ? ' for good (dead letter)' : ', will retry'}: ${err.message}`);
    if (!final) return;
    const ids = 'usageEventIds' in job.data ? job.data.usageEventIds : [job.data.usageEventId];
    for (const id of ids) {
      await this.failures.notify(id, err.message).catch((e) => this.logger.warn(`charge.failed webhook not written: ${(e as Error)?.message ?? e}`));
    }
  }

  /** Connection trouble and lost jobs (Redis flushed): logged; the relay re-queues what matters. */
  @OnWorkerEvent('error')
  onError(err: Error) {
    this.logger.warn(`charge worker: ${err.message}`);
  }

  /** Graceful shutdown: take no new job, let the running ones (and their batch) finish. */
  async beforeApplicationShutdown() {
    await closeWithin('charge worker', this.worker, this.deadline.remaining());
  }

  /** Rethrows on failure, so BullMQ retries; a charged event makes a repeated job a no-op. */
  process(job: Job<ChargeJob | ChargeBatchJob>): Promise<void> {
    if (job.name === JOBS.chargeBatch) return this.chargeBatch((job.data as ChargeBatchJob).usageEventIds);
    return this.batcher.charge((job.data as ChargeJob).usageEventId);
  }

  /**
   * The batch's events go to the batcher with every other job's, so a worker that is behind
   * charges many jobs in one transaction. An event it could not charge (its transaction failed,
   * then it failed alone) becomes its own job, which retries and dead-letters without the others;
   * only if that job cannot be queued does the batch job fail (and is retried).
   */
  private async chargeBatch(ids: string[]): Promise<void> {
    const settled = await Promise.allSettled(ids.map((id) => this.batcher.charge(id)));
    const failed = ids.filter((_, i) => settled[i].status === 'rejected');
    if (!failed.length) return;
    this.logger.warn(`${failed.length} of a batch of ${ids.length} events not charged; each queued as its own job`);
    await this.metering.enqueueMany(failed);
  }
}
