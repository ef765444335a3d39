import { DynamicModule, Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { AuthModule } from '../auth/auth.module';
import { BillingModule } from '../billing/billing.module';
import { Env } from '../config/env';
import { QueuesModule } from '../queues/queues.module';
import { WebhookDispatchModule } from '../webhooks/webhooks.module';
import { ChargeBatcher } from './charge-batcher';
import { ChargeFailureWebhook } from './charge-failure-webhook';
import { ChargeProcessor } from './charge.processor';
import { ChargerService } from './charger.service';
import { DeadLettersController } from './dead-letters.controller';
import { InflightService } from './inflight.service';
import { MeteringService } from './metering.service';
import { OutboxWriter } from './outbox-writer';
import { RelayService } from './relay.service';
import { UsageRecorder } from './usage-recorder';
import { UsageSpool } from './usage-spool';

/** Usage events: in-flight tracking, the outbox writer and spool, charge jobs and the dead letters. */
@Module({
  imports: [QueuesModule, BillingModule, AuthModule, AuditModule],
  controllers: [DeadLettersController],
  providers: [
    MeteringService,
    ChargerService,
    OutboxWriter,
    UsageRecorder,
    InflightService,
    { provide: UsageSpool, useFactory: (env: Env) => new UsageSpool(env.SPOOL_DIR), inject: [Env] },
  ],
  exports: [MeteringService, ChargerService, InflightService, UsageRecorder],
})
export class MeteringModule {}

/** The charge worker and the relay, only where ROLE runs workers. */
@Module({})
export class MeteringWorkersModule {
  static register(runWorkers: boolean): DynamicModule {
    return {
      module: MeteringWorkersModule,
      imports: [MeteringModule, QueuesModule, BillingModule, WebhookDispatchModule],
      providers: runWorkers ? [ChargeBatcher, ChargeProcessor, ChargeFailureWebhook, RelayService] : [],
    };
  }
}
