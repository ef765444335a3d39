import { InjectQueue } from '@nestjs/bullmq';
import { Injectable, Logger } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { ChargeJob, JOBS, QUEUES } from '../queues/queues';

/** The fast lane of the outbox: queue a charge for a usage event that Postgres already holds. */
@Injectable()
export class MeteringService {
  private readonly logger = new Logger(MeteringService.name);

  constructor(@InjectQueue(QUEUES.charges) private readonly charges: Queue<ChargeJob>) {}

  /** Never throws and is never awaited on the request path: if Redis is away, the relay re-queues. */
  enqueueCharge(usageEventId: string): void {
    this.charges.add(JOBS.charge, { usageEventId }, { jobId: usageEventId }).catch((err) => {
      this.logger.warn(`charge job for ${usageEventId} not queued (${err?.message ?? err}); the relay will queue it`);
    });
  }

  async enqueueMany(usageEventIds: string[]): Promise<void> {
    await this.charges.addBulk(usageEventIds.map((id) => ({ name: JOBS.charge, data: { usageEventId: id }, opts: { jobId: id } })));
  }
}
