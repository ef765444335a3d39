import { Type } from 'class-transformer';
import { IsBoolean, IsIn, IsInt, IsOptional, Min, ValidateNested } from 'class-validator';

/** BytePlus ModelArk `caching`. */
export class CachingDto {
  @IsOptional()
  @IsIn(['enabled', 'disabled'], { message: "caching.type must be one of 'enabled', 'disabled'" })
  type?: 'enabled' | 'disabled';

  @IsOptional()
  @IsBoolean({ message: 'caching.prefix must be a boolean' })
  prefix?: boolean;
}

/** BytePlus ModelArk `thinking`. */
export class ThinkingDto {
  @IsIn(['enabled', 'disabled', 'auto'], { message: "thinking.type must be one of 'enabled', 'disabled', 'auto'" })
  type!: 'enabled' | 'disabled' | 'auto';
}

/** The vendor fields, when a client nests them in a literal `extra_body` object. */
export class ExtraBodyDto {
  @IsOptional()
  @ValidateNested()
  @Type(() => CachingDto)
  caching?: CachingDto;

  @IsOptional()
  @ValidateNested()
  @Type(() => ThinkingDto)
  thinking?: ThinkingDto;

  @IsOptional()
  @IsInt({ message: 'expire_at must be an integer (Unix seconds)' })
  @Min(0)
  expire_at?: number;
}
