import { Controller, Get, Param, Query, Res, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { ApiKeyGuard, CurrentTenant, TenantAuth } from '../auth/auth.guards';
import { exportInvoice, parseExportFormat } from './invoice-export-reply';
import { TenantInvoicesQueryDto } from './invoice-list.dto';
import { InvoiceListService } from './invoice-list.service';
import { InvoicesService, presentInvoice } from './invoices.service';

/** The calling tenant's own invoices, read-only: another tenant's invoice is a 404. */
@ApiTags('invoices')
@ApiBearerAuth()
@Controller('v1/invoices')
@UseGuards(ApiKeyGuard)
export class TenantInvoicesController {
  constructor(
    private readonly invoices: InvoicesService,
    private readonly listing: InvoiceListService,
  ) {}

  @Get()
  @ApiOperation({ summary: "The tenant's invoices, newest first (?status&limit&after)" })
  list(@CurrentTenant() auth: TenantAuth, @Query() query: TenantInvoicesQueryDto) {
    return this.listing.list({ tenantId: auth.tenantId, status: query.status, limit: query.limit, after: query.after }, null);
  }

  @Get(':id')
  @ApiOperation({ summary: 'One of the tenant\'s invoices with its lines' })
  async get(@CurrentTenant() auth: TenantAuth, @Param('id') id: string) {
    return presentInvoice(await this.invoices.find(id, auth.tenantId));
  }

  @Get(':id/export')
  @ApiOperation({ summary: 'One of the tenant\'s invoice files (?format=json|csv|pdf); 409 until it is ready' })
  async export(@CurrentTenant() auth: TenantAuth, @Param('id') id: string, @Query('format') format: unknown, @Res({ passthrough: true }) reply: FastifyReply) {
    const fmt = parseExportFormat(format);
    return exportInvoice(await this.invoices.find(id, auth.tenantId), fmt, reply);
  }
}
