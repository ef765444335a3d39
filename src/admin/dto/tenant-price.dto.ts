import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional } from 'class-validator';
import { IsIsoTimestamp, IsPriceString } from './validators';

/** PUT /admin/tenants/:id/prices/:model: a tenant's own (negotiated) price version for a model. */
export class PutTenantPriceDto {
  @ApiProperty({ example: '0.20', description: 'USD per 1M uncached input tokens' })
  @IsPriceString()
  input_price!: string;

  @ApiPropertyOptional({ example: '0.02', description: 'USD per 1M cached input tokens; defaults to 10% of input_price' })
  @IsOptional()
  @IsPriceString()
  cached_input_price?: string;

  @ApiProperty({ example: '1.60', description: 'USD per 1M output tokens (reasoning included)' })
  @IsPriceString()
  output_price!: string;

  @ApiPropertyOptional({ example: '2027-01-01T00:00:00Z', description: 'When the version takes effect; now or later (default: now)' })
  @IsOptional()
  @IsIsoTimestamp()
  effective_from?: string;
}
