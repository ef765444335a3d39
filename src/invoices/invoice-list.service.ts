import { Injectable } from '@nestjs/common';
import { isUuid } from '../common/ids';
import { invalidValue } from '../common/errors';
import type { Prisma } from '../generated/prisma/client';
import { PrismaService } from '../prisma/prisma.service';
import { requireTenant } from '../prisma/require-tenant';
import { DEFAULT_INVOICE_LIMIT, InvoiceStatusName } from './invoice-list.dto';
import { presentInvoice } from './invoices.service';

export interface InvoiceListQuery {
  tenantId?: string;
  status?: InvoiceStatusName;
  limit?: string;
  after?: string;
}

/** Invoice pages, newest first (created_at, then id), cursor-paged by the last id seen. */
@Injectable()
export class InvoiceListService {
  constructor(private readonly prisma: PrismaService) {}

  async list(query: InvoiceListQuery, tenantParam: string | null = 'tenant_id') {
    const limit = query.limit !== undefined ? Number(query.limit) : DEFAULT_INVOICE_LIMIT;
    const and: Prisma.InvoiceWhereInput[] = [];
    if (query.tenantId !== undefined) {
      await requireTenant(this.prisma, query.tenantId, { param: tenantParam });
      and.push({ tenantId: query.tenantId });
    }
    if (query.status) and.push({ status: query.status });
    if (query.after !== undefined && query.after !== '') {
      // The cursor must be an invoice the caller may see: another tenant's id is unknown here.
      const cursor = isUuid(query.after)
        ? await this.prisma.invoice.findFirst({ where: { id: query.after, ...(query.tenantId ? { tenantId: query.tenantId } : {}) }, select: { id: true, createdAt: true } })
        : null;
      if (!cursor) throw invalidValue('after', `No invoice '${query.after.slice(0, 100)}'.`);
      and.push({ OR: [{ createdAt: { lt: cursor.createdAt } }, { createdAt: cursor.createdAt, id: { lt: cursor.id } }] });
    }
    const rows = await this.prisma.invoice.findMany({
      where: { AND: and },
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      take: limit + 1,
      include: { lines: { orderBy: { position: 'asc' } } },
    });
    return { object: 'list' as const, data: rows.slice(0, limit).map(presentInvoice), has_more: rows.length > limit };
  }
}
