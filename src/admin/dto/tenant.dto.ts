import { IsIn, IsOptional, IsString, MaxLength } from 'class-validator';
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

/** PATCH /admin/tenants/:id */
export class UpdateTenantDto {
  @IsIn(TENANT_STATUSES as string[], { message: `status must be one of: ${TENANT_STATUSES.join(', ')}` })
  status!: TenantStatus;
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
