import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, MaxLength, ValidateIf } from 'class-validator';
import type { TenantStatus } from '../../generated/prisma/client';
import { IsDisplayName, IsIntString, IsIsoTimestamp, IsNonNegativeAmount, IsPositiveAmount } from './validators';

export const TENANT_STATUSES: readonly TenantStatus[] = ['active', 'suspended'];

/** POST /admin/tenants */
export class CreateTenantDto {
  @IsString()
  @IsDisplayName(200)
  name!: string;

  /** Opening credits, written as a ledger `credit` entry (none for zero). */
  @IsOptional()
  @IsNonNegativeAmount()
  credits?: string;
}

/** PATCH /admin/tenants/:id: each field optional; an absent one is kept. */
export class UpdateTenantDto {
  @ApiPropertyOptional({ enum: TENANT_STATUSES })
  @IsOptional()
  @IsIn(TENANT_STATUSES as string[], { message: `status must be one of: ${TENANT_STATUSES.join(', ')}` })
  status?: TenantStatus;

  @ApiPropertyOptional({ example: '100.00', description: 'How far below zero the balance may go, USD ("0": prepaid)' })
  @IsOptional()
  @IsNonNegativeAmount()
  credit_limit?: string;

  @ApiPropertyOptional({ type: String, nullable: true, example: '5.00', description: 'A charge taking the balance below this is a low-balance event (null: none)' })
  @ValidateIf((_, v) => v !== null && v !== undefined)
  @IsNonNegativeAmount()
  low_balance_threshold?: string | null;
}

/** POST /admin/tenants/:id/credits */
export class CreditDto {
  @IsPositiveAmount()
  amount!: string;

  /** Idempotency key: a repeated reference for the same tenant is a no-op. */
  @IsOptional()
  @IsString()
  @IsDisplayName(200)
  reference?: string;
}

/** GET /admin/tenants/:id/ledger query. Query values arrive as strings. */
export class LedgerQueryDto {
  @IsOptional()
  @IsIsoTimestamp()
  from?: string;

  @IsOptional()
  @IsIsoTimestamp()
  to?: string;

  @IsOptional()
  @IsIntString(1, 1000)
  limit?: string;

  @IsOptional()
  @IsString()
  @MaxLength(100)
  after?: string;
}
