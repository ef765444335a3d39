import { Module } from '@nestjs/common';
import { AdminUsageController, TenantUsageController } from './reports.controller';
import { ReportsService } from './reports.service';

/** Usage reports: GET /admin/usage and GET /v1/usage. */
@Module({
  controllers: [AdminUsageController, TenantUsageController],
  providers: [ReportsService],
  exports: [ReportsService],
})
export class ReportsModule {}
