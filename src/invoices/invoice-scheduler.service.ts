import { InjectQueue } from '@nestjs/bullmq';
import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { PeriodicTask } from '../common/periodic-task';
import { JOBS, MONTHLY_INVOICES_CRON, MONTHLY_INVOICES_SCHEDULER, QUEUES } from '../queues/queues';
import { InvoicesService } from './invoices.service';

const SWEEP_EVERY_MS = 30_000;

/**
 * Worker side: registers the repeatable monthly job (a BullMQ job scheduler: idempotent, one per
 * queue prefix however many workers start) and runs the invoice sweep.
 */
@Injectable()
export class InvoiceScheduler implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(InvoiceScheduler.name);
  private readonly sweep = new PeriodicTask(
    SWEEP_EVERY_MS,
    () => this.invoices.sweep(),
    (err) => this.logger.warn(`invoice sweep failed: ${(err as Error)?.message ?? err}`),
  );

  constructor(
    @InjectQueue(QUEUES.invoices) private readonly queue: Queue,
    private readonly invoices: InvoicesService,
  ) {}

  async onApplicationBootstrap() {
    this.queue
      .upsertJobScheduler(
        MONTHLY_INVOICES_SCHEDULER,
        { pattern: MONTHLY_INVOICES_CRON, tz: 'UTC' },
        { name: JOBS.issueMonthlyInvoices, data: {}, opts: { attempts: 5, backoff: { type: 'exponential', delay: 5000 } } },
      )
      .catch((err) => this.logger.warn(`monthly invoice schedule not registered: ${err?.message ?? err}`));
    this.sweep.start();
  }

  onModuleDestroy() {
    return this.sweep.stop();
  }
}
