import { BullModule } from '@nestjs/bullmq';
import { Module } from '@nestjs/common';
import { Env } from '../config/env';
import { ShutdownDeadline } from './close-within';
import { QueueCloser } from './queue-closer';
import { QueueErrorLogger } from './queue-errors';
import { CHARGE_JOB_OPTIONS, INVOICE_JOB_OPTIONS, QUEUES, WEBHOOK_JOB_OPTIONS } from './queues';

/** ioredis options from a redis:// URL. */
export function redisConnection(url: string) {
  const u = new URL(url);
  return {
    host: u.hostname,
    port: Number(u.port || 6379),
    username: u.username ? decodeURIComponent(u.username) : undefined,
    password: u.password ? decodeURIComponent(u.password) : undefined,
    db: u.pathname.length > 1 ? Number(u.pathname.slice(1)) : 0,
    tls: u.protocol === 'rediss:' ? {} : undefined,
  };
}

/** BullMQ on the shared Redis, under QUEUE_PREFIX, with every queue registered once. */
@Module({
  imports: [
    BullModule.forRootAsync({
      inject: [Env],
      useFactory: (env: Env) => ({ connection: redisConnection(env.REDIS_URL), prefix: env.QUEUE_PREFIX }),
    }),
    BullModule.registerQueue({ name: QUEUES.charges, defaultJobOptions: CHARGE_JOB_OPTIONS }),
    BullModule.registerQueue({ name: QUEUES.invoices, defaultJobOptions: INVOICE_JOB_OPTIONS }),
    BullModule.registerQueue({ name: QUEUES.webhooks, defaultJobOptions: WEBHOOK_JOB_OPTIONS }),
  ],
  providers: [QueueErrorLogger, QueueCloser, ShutdownDeadline],
  exports: [BullModule, ShutdownDeadline],
})
export class QueuesModule {}
