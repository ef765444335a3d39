import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { PeriodicTask } from '../common/periodic-task';
import { Env } from '../config/env';
import { PgPool } from '../prisma/pg-pool.service';
import { overdueDeliveries } from './webhook-deliveries.repository';
import { WebhookDispatcher } from './webhook-dispatcher';

const SWEEP_BATCH = 1000;

/**
 * Every WEBHOOK_SWEEP_EVERY_MS (worker processes): pending deliveries overdue by that long and not
 * leased by a live attempt had their job lost (Redis down or flushed, a crash between commit and
 * enqueue, a job out of BullMQ attempts); they are queued again under their own job id, so one
 * still queued is left as it is.
 */
@Injectable()
export class WebhookSweeper implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(WebhookSweeper.name);
  private readonly periodic: PeriodicTask;

  constructor(
    private readonly pg: PgPool,
    private readonly dispatcher: WebhookDispatcher,
    private readonly env: Env,
  ) {
    this.periodic = new PeriodicTask(
      env.WEBHOOK_SWEEP_EVERY_MS,
      () => this.sweep(),
      (err) => this.logger.warn(`webhook sweep failed: ${(err as Error)?.message ?? err}`),
    );
  }

  onApplicationBootstrap() {
    this.periodic.start();
  }

  onModuleDestroy() {
    return this.periodic.stop();
  }

  /** One pass; returns how many deliveries were queued again. */
  async sweep(overdueMs = this.env.WEBHOOK_SWEEP_EVERY_MS): Promise<number> {
    const ids = await overdueDeliveries(this.pg, overdueMs, SWEEP_BATCH);
    if (!ids.length) return 0;
    await this.dispatcher.enqueue(ids);
    this.logger.log(`re-queued ${ids.length} webhook deliveries`);
    return ids.length;
  }
}
