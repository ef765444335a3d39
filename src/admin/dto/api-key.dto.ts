import { ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsIn, IsInt, IsOptional, IsString, Max, MaxLength, Min, ValidateIf } from 'class-validator';
import { BUDGET_PERIODS, BudgetPeriod, DEFAULT_BUDGET_PERIOD } from '../../billing/budget-period';
import { IsDisplayName, IsIsoTimestamp, IsNonNegativeAmount, IsNotBlank } from './validators';

const MAX_LIMIT = 1_000_000_000;
const present = (_: unknown, v: unknown) => v !== null && v !== undefined;

/** Per-key rate limits (an integer, or null for no limit) and spend controls. */
export class ApiKeyLimitsDto {
  @ApiPropertyOptional({ type: Number, nullable: true, example: 600, description: 'Requests per minute (null: no limit)' })
  @ValidateIf(present)
  @IsInt({ message: 'rpm_limit must be a positive integer or null' })
  @Min(1, { message: 'rpm_limit must be a positive integer or null' })
  @Max(MAX_LIMIT)
  rpm_limit?: number | null;

  @ApiPropertyOptional({ type: Number, nullable: true, example: 100000, description: 'Tokens per minute (null: no limit)' })
  @ValidateIf(present)
  @IsInt({ message: 'tpm_limit must be a positive integer or null' })
  @Min(1, { message: 'tpm_limit must be a positive integer or null' })
  @Max(MAX_LIMIT)
  tpm_limit?: number | null;

  @ApiPropertyOptional({ type: String, nullable: true, example: '5.00', description: 'Most the key may spend per budget_period, USD (null: no budget)' })
  @ValidateIf(present)
  @IsNonNegativeAmount()
  budget_limit?: string | null;

  @ApiPropertyOptional({
    enum: BUDGET_PERIODS,
    nullable: true,
    description: `UTC calendar period of the budget (weeks start Monday); a budget without one counts per ${DEFAULT_BUDGET_PERIOD}`,
  })
  @ValidateIf(present)
  @IsIn(BUDGET_PERIODS as string[], { message: `budget_period must be one of: ${BUDGET_PERIODS.join(', ')}` })
  budget_period?: BudgetPeriod | null;

  @ApiPropertyOptional({ type: String, nullable: true, example: '2027-01-01T00:00:00Z', description: 'The key is refused from this time on (null: never)' })
  @ValidateIf(present)
  @IsIsoTimestamp()
  expires_at?: string | null;

  @ApiPropertyOptional({ type: [String], nullable: true, example: ['seed-1-6-250915'], description: 'Models the key may call (null: all)' })
  @ValidateIf(present)
  @IsArray({ message: 'allowed_models must be an array of model ids or null' })
  @ArrayMinSize(1, { message: 'allowed_models must name at least one model; send null to allow every model' })
  @ArrayMaxSize(1000)
  @IsString({ each: true, message: 'allowed_models must contain model ids (strings)' })
  @IsNotBlank({ each: true })
  @MaxLength(200, { each: true })
  allowed_models?: string[] | null;
}

/** POST /admin/tenants/:id/api-keys (the body may be omitted). */
export class CreateApiKeyDto extends ApiKeyLimitsDto {
  @ApiPropertyOptional({ example: 'ci' })
  @IsOptional()
  @IsString()
  @IsDisplayName(200)
  name?: string;
}

/** PATCH /admin/api-keys/:id: change a key's limits and spend controls (null removes one; an absent field is kept). */
export class UpdateApiKeyDto extends ApiKeyLimitsDto {}
