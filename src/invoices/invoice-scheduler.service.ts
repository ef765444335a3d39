import { InjectQueue } from '@nestjs/bullmq';
import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import type { Queue } from 'bullmq';
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
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<unknown> | null = null;

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
    this.timer = setInterval(() => void this.tick(), SWEEP_EVERY_MS);
    this.timer.unref();
  }

  async onModuleDestroy() {
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }

  private async tick() {
    if (this.running) return;
    this.running = this.invoices.sweep().catch((err) => this.logger.warn(`invoice sweep failed: ${err?.message ?? err}`));
    await this.running;
    this.running = null;
  }
}
