import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { AuthModule } from '../auth/auth.module';
import { AdminUsageController, TenantUsageController } from './reports.controller';
import { ReportsService } from './reports.service';

/** Usage reports: GET /admin/usage and GET /v1/usage. */
@Module({
  imports: [AuthModule, AuditModule],
  controllers: [AdminUsageController, TenantUsageController],
  providers: [ReportsService],
  exports: [ReportsService],
})
export class ReportsModule {}
