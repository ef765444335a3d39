import { DynamicModule, Module } from '@nestjs/common';
import { InvoiceScheduler } from './invoice-scheduler.service';
import { InvoiceProcessor } from './invoice.processor';
import { InvoicesController } from './invoices.controller';
import { InvoicesService } from './invoices.service';

/** Invoices: the admin API everywhere; the build worker, monthly schedule and sweep where ROLE runs workers. */
@Module({})
export class InvoicesModule {
  static register(runWorkers: boolean): DynamicModule {
    return {
      module: InvoicesModule,
      controllers: [InvoicesController],
      providers: [InvoicesService, ...(runWorkers ? [InvoiceProcessor, InvoiceScheduler] : [])],
      exports: [InvoicesService],
    };
  }
}
