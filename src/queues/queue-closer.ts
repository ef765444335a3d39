import { InjectQueue } from '@nestjs/bullmq';
import { BeforeApplicationShutdown, Injectable } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { closeWithin, ShutdownDeadline } from './close-within';
import { QUEUES } from './queues';

/** Closes the queues (producers) within the shutdown grace, before the framework's own close waits on them. */
@Injectable()
export class QueueCloser implements BeforeApplicationShutdown {
  constructor(
    @InjectQueue(QUEUES.charges) private readonly charges: Queue,
    @InjectQueue(QUEUES.invoices) private readonly invoices: Queue,
    @InjectQueue(QUEUES.webhooks) private readonly webhooks: Queue,
    private readonly deadline: ShutdownDeadline,
  ) {}

  async beforeApplicationShutdown() {
    await Promise.all([this.charges, this.invoices, this.webhooks].map((q) => closeWithin(`${q.name} queue`, q, this.deadline.remaining())));
  }
}
