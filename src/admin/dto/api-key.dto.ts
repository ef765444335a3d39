import { IsInt, IsOptional, IsString, Max, Min, ValidateIf } from 'class-validator';
import { IsDisplayName } from './validators';

const MAX_LIMIT = 1_000_000_000;

/** Per-key rate limits: an integer, or null for no limit. */
export class ApiKeyLimitsDto {
  @ValidateIf((_, v) => v !== null && v !== undefined)
  @IsInt({ message: 'rpm_limit must be a positive integer or null' })
  @Min(1, { message: 'rpm_limit must be a positive integer or null' })
  @Max(MAX_LIMIT)
  rpm_limit?: number | null;

  @ValidateIf((_, v) => v !== null && v !== undefined)
  @IsInt({ message: 'tpm_limit must be a positive integer or null' })
  @Min(1, { message: 'tpm_limit must be a positive integer or null' })
  @Max(MAX_LIMIT)
  tpm_limit?: number | null;
}

/** POST /admin/tenants/:id/api-keys (the body may be omitted). */
export class CreateApiKeyDto extends ApiKeyLimitsDto {
  @IsOptional()
  @IsString()
  @IsDisplayName(200)
  name?: string;
}

/** PATCH /admin/api-keys/:id: change a key's limits (null removes one; an absent field is kept). */
export class UpdateApiKeyDto extends ApiKeyLimitsDto {}
