import { DynamicModule, Module } from '@nestjs/common';
import { AdminModule } from './admin/admin.module';
import { AuditModule } from './audit/audit.module';
import { BillingModule } from './billing/billing.module';
import { CatalogModule } from './catalog/catalog.module';
import { ChatModule } from './chat/chat.module';
import { ConfigModule } from './config/config.module';
import { Env } from './config/env';
import { HealthModule } from './health/health.module';
import { InvoicesModule } from './invoices/invoices.module';
import { MeteringWorkersModule } from './metering/metering.module';
import { MetricsModule } from './metrics/metrics.module';
import { PrismaModule } from './prisma/prisma.module';
import { QueuesModule } from './queues/queues.module';
import { RedisModule } from './redis/redis.module';
import { ReportsModule } from './reports/reports.module';
import { ResponsesModule } from './responses/responses.module';
import { WebhooksModule } from './webhooks/webhooks.module';

@Module({})
export class AppModule {
  /**
   * The whole service for one validated environment (tests pass their own). Only config, prisma,
   * redis and metrics are global; every other module imports what it uses.
   */
  static register(env: Env): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(env),
        MetricsModule,
        PrismaModule,
        RedisModule,
        QueuesModule,
        MeteringWorkersModule.register(env.ROLE !== 'api'),
        HealthModule,
        ResponsesModule,
        ChatModule,
        AdminModule,
        AuditModule,
        CatalogModule,
        BillingModule,
        ReportsModule,
        InvoicesModule.register(env.ROLE !== 'api'),
        WebhooksModule.register(env.ROLE !== 'api'),
      ],
    };
  }
}
