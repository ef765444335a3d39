/**
 * What went wrong, in the domain's words. Services throw a DomainError; the exception filter
 * alone decides what a code looks like on the wire (status, error type, OpenAI code, headers).
 */
export enum ErrorCode {
  InvalidValue = 'InvalidValue',
  UnknownParameter = 'UnknownParameter',
  NotFound = 'NotFound',
  ModelNotFound = 'ModelNotFound',
  ModelNotPriced = 'ModelNotPriced',
  ModelNotAllowed = 'ModelNotAllowed',
  PreviousResponseNotFound = 'PreviousResponseNotFound',
  InvalidApiKey = 'InvalidApiKey',
  InsufficientQuota = 'InsufficientQuota',
  BudgetExceeded = 'BudgetExceeded',
  RateLimited = 'RateLimited',
  Conflict = 'Conflict',
  InvoiceNotReady = 'InvoiceNotReady',
  ServiceUnavailable = 'ServiceUnavailable',
  UpstreamError = 'UpstreamError',
  UpstreamTimeout = 'UpstreamTimeout',
}

export interface DomainErrorDetails {
  /** The request field the error is about. */
  param?: string | null;
  /** When the caller may try again. */
  retryAfterSeconds?: number;
  /** The rate limit's state (limit, remaining, reset), reported with a refusal. */
  rateLimit?: Record<string, string>;
}

export class DomainError extends Error {
  readonly param: string | null;

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: DomainErrorDetails = {},
  ) {
    super(message);
    this.param = details.param ?? null;
  }
}
