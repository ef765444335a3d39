import { Processor, WorkerHost } from '@nestjs/bullmq';
import { BeforeApplicationShutdown } from '@nestjs/common';
import type { Job } from 'bullmq';
import { ChargeJob, QUEUES } from '../queues/queues';
import { ChargeBatcher } from './charge-batcher';

/** Jobs run concurrently so the batcher can gather them into one transaction. */
export const CHARGE_CONCURRENCY = 256;

@Processor(QUEUES.charges, { concurrency: CHARGE_CONCURRENCY })
export class ChargeProcessor extends WorkerHost implements BeforeApplicationShutdown {
  constructor(private readonly batcher: ChargeBatcher) {
    super();
  }

  /** Graceful shutdown: take no new job, let the running ones (and their batch) finish. */
  async beforeApplicationShutdown() {
    await this.worker.close();
  }

  /** Rethrows on failure, so BullMQ retries; a charged event makes a repeated job a no-op. */
  process(job: Job<ChargeJob>): Promise<void> {
    return this.batcher.charge(job.data.usageEventId);
  }
}
