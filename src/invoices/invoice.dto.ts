import { IsString, MaxLength } from 'class-validator';
import { IsIsoTimestamp } from '../admin/dto/validators';

/** POST /admin/invoices: the tenant and the half-open period [period_start, period_end). */
export class CreateInvoiceDto {
  @IsString()
  @MaxLength(100)
  tenant_id!: string;

  @IsIsoTimestamp()
  period_start!: string;

  @IsIsoTimestamp()
  period_end!: string;
}
