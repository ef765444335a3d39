import { DomainError, ErrorCode } from './domain-error';

export { DomainError, ErrorCode } from './domain-error';

export const invalidValue = (param: string | null, message: string) => new DomainError(ErrorCode.InvalidValue, message, { param });

export const unknownParameter = (param: string, shownAs = param) =>
  new DomainError(ErrorCode.UnknownParameter, `Unknown parameter: '${shownAs}'.`, { param });

export const notFound = (message: string, param: string | null = null) => new DomainError(ErrorCode.NotFound, message, { param });

export const invalidApiKey = (message = 'Incorrect API key provided.') => new DomainError(ErrorCode.InvalidApiKey, message);

export const serviceUnavailable = (message: string) => new DomainError(ErrorCode.ServiceUnavailable, message);
