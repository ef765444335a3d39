import { OnWorkerEvent, Processor, WorkerHost } from '@nestjs/bullmq';
import { BeforeApplicationShutdown, Logger } from '@nestjs/common';
import type { Job } from 'bullmq';
import { closeWithin, ShutdownDeadline } from '../queues/close-within';
import { InvoiceJob, JOBS, QUEUES } from '../queues/queues';
import { InvoicesService } from './invoices.service';

/** Builds invoices and runs the monthly issuing job. */
@Processor(QUEUES.invoices, { concurrency: 2, lockDuration: 60_000 })
export class InvoiceProcessor extends WorkerHost implements BeforeApplicationShutdown {
  private readonly logger = new Logger(InvoiceProcessor.name);

  constructor(
    private readonly invoices: InvoicesService,
    private readonly deadline: ShutdownDeadline,
  ) {
    super();
  }

  async process(job: Job): Promise<unknown> {
    switch (job.name) {
      case JOBS.buildInvoice:
        return this.invoices.build(job.data as InvoiceJob);
      case JOBS.issueMonthlyInvoices: {
        // The month before the run's scheduled time (a late run still invoices the right month).
        const at = new Date(job.timestamp + (job.opts.delay ?? 0));
        const result = await this.invoices.issueMonthlyInvoices(at);
        return { period_start: result.period_start, invoices: result.invoices.length };
      }
      default:
        throw new Error(`unknown invoice job '${job.name}'`);
    }
  }

  @OnWorkerEvent('failed')
  async onFailed(job: Job | undefined, err: Error) {
    if (!job) return;
    const final = job.attemptsMade >= (job.opts.attempts ?? 1);
    this.logger.warn(`${job.name} ${job.id} failed${final ? ' for good' : ', will retry'}: ${err.message}`);
    if (final && job.name === JOBS.buildInvoice) {
      await this.invoices.markFailed(job.data as InvoiceJob, err.message).catch((e) => this.logger.warn(`mark failed: ${e?.message ?? e}`));
    }
  }

  @OnWorkerEvent('error')
  onError(err: Error) {
    this.logger.warn(`invoice worker: ${err.message}`);
  }

  async beforeApplicationShutdown() {
    await closeWithin('invoice worker', this.worker, this.deadline.remaining());
  }
}
