import { Body, Get, HttpCode, Param, Post, Query, Res } from '@nestjs/common';
import { AdminController } from '../admin/admin-controller';
import type { FastifyReply } from 'fastify';
import { invalidValue } from '../common/errors';
import { CONTENT_TYPES, EXPORT_FORMATS, ExportFormat, invoiceCsv, invoiceJson, invoicePdf } from './invoice-export';
import { CreateInvoiceDto } from './invoice.dto';
import { invoiceNotReady, InvoicesService, presentInvoice } from './invoices.service';
import { parsePeriod } from './period';

@AdminController('admin/invoices', 'invoices')
export class InvoicesController {
  constructor(private readonly invoices: InvoicesService) {}

  /** 202 {id, status}: queued, or the existing invoice of this tenant and period. */
  @Post()
  @HttpCode(202)
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

  @Get(':id')
  async get(@Param('id') id: string) {
    return presentInvoice(await this.invoices.find(id));
  }

  /** The file (json, csv or pdf); 409 until the invoice is ready. */
  @Get(':id/export')
  async export(@Param('id') id: string, @Query('format') format: unknown, @Res({ passthrough: true }) reply: FastifyReply) {
    const fmt = (format ?? 'json') as ExportFormat;
    if (typeof fmt !== 'string' || !EXPORT_FORMATS.includes(fmt)) {
      throw invalidValue('format', `'format' must be one of: ${EXPORT_FORMATS.join(', ')}.`);
    }
    const invoice = await this.invoices.find(id);
    if (invoice.status !== 'ready') throw invoiceNotReady(invoice.id, invoice.status);
    const doc = { ...presentInvoice(invoice), tenant_name: invoice.tenant.name };
    const period = `${doc.period_start.slice(0, 10)}_${doc.period_end.slice(0, 10)}`;
    reply
      .header('content-type', CONTENT_TYPES[fmt])
      .header('content-disposition', `attachment; filename="invoice-${invoice.id}-${period}.${fmt}"`);
    if (fmt === 'pdf') return invoicePdf(doc);
    if (fmt === 'csv') return invoiceCsv(doc);
    return invoiceJson(doc);
  }
}
