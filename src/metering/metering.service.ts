import { InjectQueue } from '@nestjs/bullmq';
import { Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { TickBatch } from '../common/tick-batch';
import { Env } from '../config/env';
import { CHARGE_BATCH_MAX, ChargeBatchJob, ChargeJob, JOBS, QUEUES } from '../queues/queues';

/** The fast lane of the outbox: queue charges for usage events that Postgres already holds. */
@Injectable()
export class MeteringService implements OnModuleDestroy {
  private readonly logger = new Logger(MeteringService.name);
  private readonly batch: TickBatch<string>;

  constructor(
    @InjectQueue(QUEUES.charges) private readonly charges: Queue<ChargeJob | ChargeBatchJob>,
    env: Env,
  ) {
    this.batch = new TickBatch<string>((ids) => this.enqueueBatch(ids), CHARGE_BATCH_MAX, env.CHARGE_ENQUEUE_LINGER_MS);
  }

  /** Before the queues close: what is gathered is queued now, not after the linger. */
  onModuleDestroy() {
    this.batch.flush();
  }

  /**
   * Never throws and is never awaited on the request path: the events finished within
   * CHARGE_ENQUEUE_LINGER_MS (several outbox flushes) go in one job. If Redis is away, the relay
   * re-queues them.
   */
  enqueueCharge(usageEventId: string): void {
    this.batch.push(usageEventId);
  }

  /** One event per job, under its own id (the relay, lease settlement, a batch's failed events). */
  async enqueueMany(usageEventIds: string[]): Promise<void> {
    await this.charges.addBulk(usageEventIds.map((id) => ({ name: JOBS.charge, data: { usageEventId: id }, opts: { jobId: id } })));
  }

  private enqueueBatch(ids: string[]) {
    const added = ids.length === 1 ? this.enqueueMany(ids) : this.charges.add(JOBS.chargeBatch, { usageEventIds: ids });
    added.catch((err) => {
      this.logger.warn(`charge job for ${ids.length} event(s) not queued (${err?.message ?? err}); the relay will queue them`);
    });
  }
}
