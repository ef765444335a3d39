import { DynamicModule, Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { AuthModule } from '../auth/auth.module';
import { QueuesModule } from '../queues/queues.module';
import { WebhookDispatchModule } from '../webhooks/webhooks.module';
import { InvoiceScheduler } from './invoice-scheduler.service';
import { InvoiceProcessor } from './invoice.processor';
import { InvoiceListService } from './invoice-list.service';
import { InvoicesController } from './invoices.controller';
import { InvoicesService } from './invoices.service';
import { TenantInvoicesController } from './tenant-invoices.controller';

/** Invoices: the admin API and the tenants' read-only one everywhere; the build worker, monthly schedule and sweep where ROLE runs workers. */
@Module({})
export class InvoicesModule {
  static register(runWorkers: boolean): DynamicModule {
    return {
      module: InvoicesModule,
      imports: [QueuesModule, AuthModule, AuditModule, WebhookDispatchModule],
      controllers: [InvoicesController, TenantInvoicesController],
      providers: [InvoicesService, InvoiceListService, ...(runWorkers ? [InvoiceProcessor, InvoiceScheduler] : [])],
      exports: [InvoicesService],
    };
  }
}
