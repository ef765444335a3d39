import { InjectQueue } from '@nestjs/bullmq';
import { Injectable, Logger } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { QUEUES } from './queues';

/** Logs the queues' connection errors (Redis away) at most every 10 s each, instead of raw stack traces. */
@Injectable()
export class QueueErrorLogger {
  private readonly logger = new Logger('Queues');

  constructor(@InjectQueue(QUEUES.charges) charges: Queue, @InjectQueue(QUEUES.invoices) invoices: Queue) {
    for (const queue of [charges, invoices]) {
      let last = 0;
      queue.on('error', (err) => {
        if (Date.now() - last < 10_000) return;
        last = Date.now();
        this.logger.warn(`${queue.name} queue: ${err.message}`);
      });
    }
  }
}
