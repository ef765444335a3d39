import { InjectQueue } from '@nestjs/bullmq';
import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { PeriodicTask } from '../common/periodic-task';
import { Env } from '../config/env';
import { JOBS, MONTHLY_INVOICES_CRON, MONTHLY_INVOICES_SCHEDULER, QUEUES } from '../queues/queues';
import { withTimeout } from '../redis/with-timeout';
import { InvoicesService } from './invoices.service';

/**
 * Worker side: registers the repeatable monthly job (a BullMQ job scheduler: idempotent, one per
 * queue prefix however many workers start) and runs the invoice sweep, which also registers the
 * schedule again if Redis lost it (flushed, or restarted empty).
 */
@Injectable()
export class InvoiceScheduler implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(InvoiceScheduler.name);
  private readonly sweep: PeriodicTask;

  constructor(
    @InjectQueue(QUEUES.invoices) private readonly queue: Queue,
    private readonly invoices: InvoicesService,
    private readonly env: Env,
  ) {
    this.sweep = new PeriodicTask(
      env.INVOICE_SWEEP_EVERY_MS,
      () => Promise.all([this.ensureSchedule(), this.invoices.sweep()]),
      (err) => this.logger.warn(`invoice sweep failed: ${(err as Error)?.message ?? err}`),
    );
  }

  async onApplicationBootstrap() {
    this.register().catch((err) => this.logger.warn(`monthly invoice schedule not registered: ${err?.message ?? err}`));
    this.sweep.start();
  }

  onModuleDestroy() {
    return this.sweep.stop();
  }

  private async ensureSchedule() {
    const timeoutMs = this.env.REDIS_COMMAND_TIMEOUT_MS * 4;
    if (await withTimeout(this.queue.getJobScheduler(MONTHLY_INVOICES_SCHEDULER), timeoutMs, 'monthly schedule')) return;
    await withTimeout(this.register(), timeoutMs, 'monthly schedule');
    this.logger.warn('the monthly invoice schedule was missing from Redis; registered it again');
  }

  private register() {
    return this.queue.upsertJobScheduler(
      MONTHLY_INVOICES_SCHEDULER,
      { pattern: MONTHLY_INVOICES_CRON, tz: 'UTC' },
      { name: JOBS.issueMonthlyInvoices, data: {}, opts: { attempts: 5, backoff: { type: 'exponential', delay: 5000 } } },
    );
  }
}
