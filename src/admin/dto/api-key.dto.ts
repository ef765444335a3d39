import { IsOptional, IsString, MaxLength } from 'class-validator';

/** POST /admin/tenants/:id/api-keys (the body may be omitted). */
export class CreateApiKeyDto {
  @IsOptional()
  @IsString()
  @MaxLength(200)
  name?: string;
}
