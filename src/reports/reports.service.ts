import { Injectable } from '@nestjs/common';
import { requireTenant } from '../prisma/require-tenant';
import { PrismaService } from '../prisma/prisma.service';
import { REPORT_KEYS, toUsageRow, totalsOf, UsageMetrics, UsageRow } from './usage-report';
import { UsageQuery } from './usage-query';
import { zeroAggregate } from './usage-sql';
import { aggregateUsage } from './usage.repository';

export interface UsageReport {
  object: 'usage_report';
  tenant_id: string | null;
  from: string | null;
  to: string | null;
  group_by: string[];
  data: UsageRow[];
  totals: UsageMetrics;
}

/**
 * Usage reports, aggregated in Postgres: whole hours from usage_rollups, partial hours and
 * uncharged events from usage_events (see usage-sql.ts). Time is usage_events.created_at (when
 * the answer was recorded), half-open [from, to); days are UTC dates.
 */
@Injectable()
export class ReportsService {
  constructor(private readonly prisma: PrismaService) {}

  async usage(query: UsageQuery): Promise<UsageReport> {
    if (query.tenantId !== undefined) await this.assertTenant(query.tenantId);
    let rows = await aggregateUsage(this.prisma, {
      tenantId: query.tenantId,
      range: { from: query.from, to: query.to },
      keys: query.groupBy.map((g) => REPORT_KEYS[g]),
    });
    // No group_by: always exactly one (total) row, zeros included.
    if (!query.groupBy.length && !rows.length) rows = [zeroAggregate()];
    const data = rows.map((r) => toUsageRow(r, query.groupBy));
    return {
      object: 'usage_report',
      tenant_id: query.tenantId ?? null,
      from: query.from?.toISOString() ?? null,
      to: query.to?.toISOString() ?? null,
      group_by: query.groupBy,
      data,
      totals: totalsOf(data),
    };
  }

  private async assertTenant(tenantId: string) {
    await requireTenant(this.prisma, tenantId, { param: 'tenant_id' });
  }
}
