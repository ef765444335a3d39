import { Controller, Get, Query, Res, UseGuards } from '@nestjs/common';
import { AdminController } from '../admin/admin-controller';
import type { FastifyReply } from 'fastify';
import { ApiKeyGuard, CurrentTenant, TenantAuth } from '../auth/auth.guards';
import { ReportsService, UsageReport } from './reports.service';
import { usageCsv } from './usage-report';
import { parseUsageQuery, UsageQuery } from './usage-query';

/** JSON, or CSV (header row, data rows only; the totals are the column sums) with format=csv. */
function answer(reply: FastifyReply, query: UsageQuery, report: UsageReport) {
  if (query.format === 'csv') {
    reply.header('content-type', 'text/csv; charset=utf-8').header('content-disposition', 'attachment; filename="usage.csv"');
    return usageCsv(report.data, query.groupBy);
  }
  return report;
}

/** GET /admin/usage?tenant_id&from&to&group_by&format: any tenant, or all of them. */
@AdminController('admin/usage', 'usage')
export class AdminUsageController {
  constructor(private readonly reports: ReportsService) {}

  @Get()
  async usage(@Query() raw: Record<string, unknown>, @Res({ passthrough: true }) reply: FastifyReply) {
    const query = parseUsageQuery(raw, true);
    return answer(reply, query, await this.reports.usage(query));
  }
}

/** GET /v1/usage?from&to&group_by&format: the calling tenant's own usage only. */
@Controller('v1/usage')
@UseGuards(ApiKeyGuard)
export class TenantUsageController {
  constructor(private readonly reports: ReportsService) {}

  @Get()
  async usage(@CurrentTenant() auth: TenantAuth, @Query() raw: Record<string, unknown>, @Res({ passthrough: true }) reply: FastifyReply) {
    const query = { ...parseUsageQuery(raw, false), tenantId: auth.tenantId };
    return answer(reply, query, await this.reports.usage(query));
  }
}
