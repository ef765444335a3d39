import { IsOptional, IsString, MaxLength, MinLength } from 'class-validator';
import { IsIsoTimestamp, IsPriceString } from './validators';

/** PUT /admin/models/:model: the provider routing and a new price version. */
export class PutModelDto {
  /** "simulated" or a configured provider name (checked by the service). */
  @IsString()
  @MinLength(1)
  @MaxLength(128)
  provider!: string;

  /** The model's name at the provider; omitted or null = the same as the model id. */
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  upstream_model?: string | null;

  @IsPriceString()
  input_price!: string;

  /** Defaults to 10% of input_price. */
  @IsOptional()
  @IsPriceString()
  cached_input_price?: string;

  @IsPriceString()
  output_price!: string;

  /** Defaults to now. */
  @IsOptional()
  @IsIsoTimestamp()
  effective_from?: string;
}
