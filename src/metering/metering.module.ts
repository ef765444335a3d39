import { DynamicModule, Global, Module } from '@nestjs/common';
import { ChargeBatcher } from './charge-batcher';
import { ChargeProcessor } from './charge.processor';
import { ChargerService } from './charger.service';
import { DeadLettersController } from './dead-letters.controller';
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
      providers: [MeteringService, ChargerService, ...workers],
      exports: [MeteringService, ChargerService],
    };
  }
}
