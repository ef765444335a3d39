import { Body, Get, HttpCode, Param, Post, Query, Res } from '@nestjs/common';
import { ApiOperation } from '@nestjs/swagger';
import { AdminController } from '../admin/admin-controller';
import type { FastifyReply } from 'fastify';
import { exportInvoice, parseExportFormat } from './invoice-export-reply';
import { AdminInvoicesQueryDto } from './invoice-list.dto';
import { InvoiceListService } from './invoice-list.service';
import { CreateInvoiceDto } from './invoice.dto';
import { InvoicesService, presentInvoice } from './invoices.service';
import { parsePeriod } from './period';

@AdminController('admin/invoices', 'invoices')
export class InvoicesController {
  constructor(
    private readonly invoices: InvoicesService,
    private readonly listing: InvoiceListService,
  ) {}

  /** 202 {id, status}: queued, or the existing invoice of this tenant and period. */
  @Post()
  @HttpCode(202)
  @ApiOperation({ summary: "Queue a tenant's invoice for a period (or get the existing one)" })
  async create(@Body() dto: CreateInvoiceDto) {
    const period = parsePeriod(dto.period_start, dto.period_end);
    const { invoice, created } = await this.invoices.request(dto.tenant_id, period, 'admin');
    return {
      id: invoice.id,
      object: 'invoice' as const,
      status: invoice.status,
      tenant_id: invoice.tenantId,
      period_start: invoice.periodStart.toISOString(),
      period_end: invoice.periodEnd.toISOString(),
      created,
    };
  }

  @Get()
  @ApiOperation({ summary: 'List invoices, newest first (?tenant_id&status&limit&after)' })
  list(@Query() query: AdminInvoicesQueryDto) {
    return this.listing.list({ tenantId: query.tenant_id, status: query.status, limit: query.limit, after: query.after });
  }

  @Get(':id')
  @ApiOperation({ summary: 'One invoice with its lines' })
  async get(@Param('id') id: string) {
    return presentInvoice(await this.invoices.find(id));
  }

  @Get(':id/export')
  @ApiOperation({ summary: 'The invoice file (?format=json|csv|pdf); 409 until it is ready' })
  async export(@Param('id') id: string, @Query('format') format: unknown, @Res({ passthrough: true }) reply: FastifyReply) {
    const fmt = parseExportFormat(format);
    return exportInvoice(await this.invoices.find(id), fmt, reply);
  }
}
