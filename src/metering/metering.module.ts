import { DynamicModule, Global, Module } from '@nestjs/common';
import { ChargeBatcher } from './charge-batcher';
import { ChargeProcessor } from './charge.processor';
import { ChargerService } from './charger.service';
import { DeadLettersController } from './dead-letters.controller';
import { InflightService } from './inflight.service';
import { OutboxWriter } from './outbox-writer';
import { UsageRecorder } from './usage-recorder';
import { UsageSpool } from './usage-spool';
import { Env } from '../config/env';
import { MeteringService } from './metering.service';
import { RelayService } from './relay.service';

/** Usage events -> charges. The worker side (processor, relay) runs only where ROLE runs workers. */
@Global()
@Module({})
export class MeteringModule {
  static register(runWorkers: boolean): DynamicModule {
    const workers = runWorkers ? [ChargeBatcher, ChargeProcessor, RelayService] : [];
    return {
      module: MeteringModule,
      controllers: [DeadLettersController],
      providers: [
        MeteringService,
        ChargerService,
        OutboxWriter,
        UsageRecorder,
        InflightService,
        { provide: UsageSpool, useFactory: (env: Env) => new UsageSpool(env.SPOOL_DIR), inject: [Env] },
        ...workers,
      ],
      exports: [MeteringService, ChargerService, InflightService, UsageRecorder],
    };
  }
}
