import { applyDecorators } from '@nestjs/common';
import { IsInt, IsNumber, IsOptional, Max, Min } from 'class-validator';

/** A finite number in [min, max], optional; one message for every way it can be wrong. */
export const IsOptionalNumberIn = (name: string, min: number, max: number) => {
  const message = `${name} must be a number between ${min} and ${max}`;
  return applyDecorators(IsOptional(), IsNumber({ allowNaN: false, allowInfinity: false }, { message }), Min(min, { message }), Max(max, { message }));
};

/** An optional token count: an integer from 1 to 1,000,000. */
export const IsOptionalTokenLimit = (name: string) =>
  applyDecorators(
    IsOptional(),
    IsInt({ message: `${name} must be an integer` }),
    Min(1, { message: `${name} must be at least 1` }),
    Max(1_000_000, { message: `${name} must be at most 1000000` }),
  );
