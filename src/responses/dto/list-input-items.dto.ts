import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Max, Min } from 'class-validator';

export class ListInputItemsQuery {
  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: 'limit must be an integer between 1 and 100' })
  @Min(1, { message: 'limit must be an integer between 1 and 100' })
  @Max(100, { message: 'limit must be an integer between 1 and 100' })
  limit?: number;

  @IsOptional()
  @IsIn(['asc', 'desc'], { message: "order must be 'asc' or 'desc'" })
  order?: 'asc' | 'desc';

  @IsOptional()
  @IsString()
  after?: string;

  @IsOptional()
  @IsString({ each: true })
  include?: string | string[];
}
