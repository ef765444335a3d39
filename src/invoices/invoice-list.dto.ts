import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, MaxLength } from 'class-validator';
import { IsIntString } from '../admin/dto/validators';

export const INVOICE_STATUSES = ['queued', 'running', 'ready', 'failed'] as const;
export type InvoiceStatusName = (typeof INVOICE_STATUSES)[number];
export const DEFAULT_INVOICE_LIMIT = 20;

/** GET /v1/invoices query: the calling tenant's invoices, newest first. */
export class TenantInvoicesQueryDto {
  @ApiPropertyOptional({ enum: INVOICE_STATUSES })
  @IsOptional()
  @IsIn(INVOICE_STATUSES as unknown as string[], { message: `status must be one of: ${INVOICE_STATUSES.join(', ')}` })
  status?: InvoiceStatusName;

  @ApiPropertyOptional({ description: `1..100, default ${DEFAULT_INVOICE_LIMIT}` })
  @IsOptional()
  @IsIntString(1, 100)
  limit?: string;

  @ApiPropertyOptional({ description: 'id of the last invoice of the previous page' })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  after?: string;
}

/** GET /admin/invoices query: any tenant's invoices, or one tenant's. */
export class AdminInvoicesQueryDto extends TenantInvoicesQueryDto {
  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(100)
  tenant_id?: string;
}
