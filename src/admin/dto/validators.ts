import { buildMessage, isISO8601, ValidateBy, ValidationOptions } from 'class-validator';
import { compareAmounts, isAmount, isPrice } from '../../billing/money';

/** A decimal string greater than zero ("5.00"), never a JSON number. */
export const IsPositiveAmount = (options?: ValidationOptions) =>
  ValidateBy(
    {
      name: 'isPositiveAmount',
      validator: {
        validate: (value: unknown) => isAmount(value) && compareAmounts(value, '0') > 0,
        defaultMessage: buildMessage((each) => `${each}$property must be a decimal string greater than 0, such as "5.00"`, options),
      },
    },
    options,
  );

/** A decimal string of zero or more ("0", "5.00"), never a JSON number. */
export const IsNonNegativeAmount = (options?: ValidationOptions) =>
  ValidateBy(
    {
      name: 'isNonNegativeAmount',
      validator: {
        validate: (value: unknown) => isAmount(value) && compareAmounts(value, '0') >= 0,
        defaultMessage: buildMessage((each) => `${each}$property must be a decimal string of 0 or more, such as "5.00"`, options),
      },
    },
    options,
  );

/** A price in USD per 1M tokens: a non-negative decimal string with at most 9 fractional digits. */
export const IsPriceString = (options?: ValidationOptions) =>
  ValidateBy(
    {
      name: 'isPriceString',
      validator: {
        validate: (value: unknown) => isPrice(value),
        defaultMessage: buildMessage(
          (each) => `${each}$property must be a non-negative decimal string (USD per 1M tokens) with at most 9 fractional digits, such as "0.25"`,
          options,
        ),
      },
    },
    options,
  );

/** True for an ISO 8601 date or date-time that JavaScript reads as a real instant. */
export const isIsoTimestamp = (value: unknown): value is string =>
  typeof value === 'string' && isISO8601(value, { strict: true }) && !Number.isNaN(Date.parse(value));

export const IsIsoTimestamp = (options?: ValidationOptions) =>
  ValidateBy(
    {
      name: 'isIsoTimestamp',
      validator: {
        validate: (value: unknown) => isIsoTimestamp(value),
        defaultMessage: buildMessage((each) => `${each}$property must be an ISO 8601 time such as "2025-01-01T00:00:00Z"`, options),
      },
    },
    options,
  );

/** An integer written in decimal digits (query strings), within [min, max]. */
export const IsIntString = (min: number, max: number, options?: ValidationOptions) =>
  ValidateBy(
    {
      name: 'isIntString',
      constraints: [min, max],
      validator: {
        validate: (value: unknown) => typeof value === 'string' && /^\d{1,10}$/.test(value) && Number(value) >= min && Number(value) <= max,
        defaultMessage: buildMessage((each) => `${each}$property must be an integer between ${min} and ${max}`, options),
      },
    },
    options,
  );

/** A string with at least one non-whitespace character. */
export const IsNotBlank = (options?: ValidationOptions) =>
  ValidateBy(
    {
      name: 'isNotBlank',
      validator: {
        validate: (value: unknown) => typeof value === 'string' && /\S/.test(value),
        defaultMessage: buildMessage((each) => `${each}$property must be a non-empty string`, options),
      },
    },
    options,
  );

/** Control characters (C0, DEL, C1), line and paragraph separators, bidirectional overrides. */
const UNPRINTABLE = /[\p{Cc}\u2028\u2029\u202A-\u202E\u2066-\u2069]/u;

/** A name people read (tenant, API key): 1..max characters, not blank, nothing unprintable. */
export const isDisplayName = (value: unknown, max: number): value is string =>
  typeof value === 'string' && value.length <= max && /\S/.test(value) && !UNPRINTABLE.test(value);

export const IsDisplayName = (max: number, options?: ValidationOptions) =>
  ValidateBy(
    {
      name: 'isDisplayName',
      constraints: [max],
      validator: {
        validate: (value: unknown) => isDisplayName(value, max),
        defaultMessage: buildMessage(
          (each) => `${each}$property must be 1 to ${max} printable characters (no control characters, line breaks or bidirectional overrides)`,
          options,
        ),
      },
    },
    options,
  );
