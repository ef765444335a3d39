import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { isUnavailableError } from './db-errors';
import { ApiError } from './api-error';
import { DomainError, ErrorCode } from './domain-error';
import { bodyMustBeJson } from './http-habits';

interface Wire {
  status: number;
  type: string;
  code: string;
  headers?: Record<string, string>;
}

/** How each domain error code looks to clients. A new code fails to compile until it is listed. */
export const ERROR_WIRE: Record<ErrorCode, Wire> = {
  [ErrorCode.InvalidValue]: { status: 400, type: 'invalid_request_error', code: 'invalid_value' },
  [ErrorCode.UnknownParameter]: { status: 400, type: 'invalid_request_error', code: 'unknown_parameter' },
  [ErrorCode.PreviousResponseNotFound]: { status: 400, type: 'invalid_request_error', code: 'previous_response_not_found' },
  [ErrorCode.InvalidApiKey]: { status: 401, type: 'invalid_request_error', code: 'invalid_api_key' },
  [ErrorCode.NotFound]: { status: 404, type: 'invalid_request_error', code: 'not_found' },
  [ErrorCode.ModelNotFound]: { status: 404, type: 'invalid_request_error', code: 'model_not_found' },
  [ErrorCode.ModelNotPriced]: { status: 400, type: 'invalid_request_error', code: 'model_not_priced' },
  [ErrorCode.ModelNotAllowed]: { status: 403, type: 'invalid_request_error', code: 'model_not_allowed' },
  [ErrorCode.Conflict]: { status: 409, type: 'invalid_request_error', code: 'conflict' },
  [ErrorCode.InvoiceNotReady]: { status: 409, type: 'invalid_request_error', code: 'invoice_not_ready' },
  [ErrorCode.InsufficientQuota]: { status: 429, type: 'insufficient_quota', code: 'insufficient_quota', headers: { 'x-should-retry': 'false' } },
  [ErrorCode.BudgetExceeded]: { status: 429, type: 'insufficient_quota', code: 'budget_exceeded', headers: { 'x-should-retry': 'false' } },
  [ErrorCode.RateLimited]: { status: 429, type: 'rate_limit_exceeded', code: 'rate_limit_exceeded' },
  [ErrorCode.UpstreamError]: { status: 502, type: 'server_error', code: 'upstream_error' },
  [ErrorCode.ServiceUnavailable]: { status: 503, type: 'server_error', code: 'service_unavailable' },
  [ErrorCode.UpstreamTimeout]: { status: 504, type: 'server_error', code: 'upstream_timeout' },
};

export function domainErrorToApiError(err: DomainError): ApiError {
  const wire = ERROR_WIRE[err.code];
  const { rateLimit, retryAfterSeconds } = err.details;
  const headers = { ...rateLimit, ...(retryAfterSeconds !== undefined && { 'retry-after': String(retryAfterSeconds) }), ...wire.headers };
  return new ApiError(wire.status, err.message, wire.type, wire.code, err.param, headers);
}

const tooLarge = () => new ApiError(413, 'Request body is too large.', 'invalid_request_error', 'request_too_large');

/** Maps any thrown error to an ApiError in the OpenAI shape. */
export function toApiError(err: unknown, req?: { method: string; url: string }): ApiError {
  if (err instanceof DomainError) return domainErrorToApiError(err);
  if (err instanceof ApiError) return err;
  if (err instanceof HttpException) {
    const status = err.getStatus();
    if (status === 404 && req) {
      return new ApiError(404, `Invalid URL (${req.method} ${req.url.split('?')[0]})`, 'invalid_request_error', 'not_found');
    }
    if (status === 413) return tooLarge();
    const res = err.getResponse();
    const message = typeof res === 'string' ? res : String((res as { message?: unknown }).message ?? err.message);
    if (status >= 500) return new ApiError(status, message, 'server_error');
    return new ApiError(status, message, 'invalid_request_error', status === 400 ? 'invalid_value' : null);
  }
  const fastifyErr = err as { code?: string; statusCode?: number; message?: string };
  switch (fastifyErr.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return tooLarge();
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new ApiError(400, `We could not parse the JSON body of your request. (${fastifyErr.message})`, 'invalid_request_error', 'invalid_value');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return bodyMustBeJson();
    default:
      break;
  }
  if (err instanceof SyntaxError && fastifyErr.statusCode === 400) {
    return new ApiError(400, `We could not parse the JSON body of your request. (${fastifyErr.message})`, 'invalid_request_error', 'invalid_value');
  }
  if (isUnavailableError(err)) return domainErrorToApiError(new DomainError(ErrorCode.ServiceUnavailable, 'The service is temporarily unavailable (database or cache unreachable).'));
  if (typeof fastifyErr.statusCode === 'number' && fastifyErr.statusCode >= 400 && fastifyErr.statusCode < 500) {
    return new ApiError(fastifyErr.statusCode, fastifyErr.message ?? 'Bad request.', 'invalid_request_error');
  }
  return new ApiError(500, 'The server had an error while processing your request.', 'server_error');
}

@Catch()
export class OpenAiErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');

  catch(exception: unknown, host: ArgumentsHost) {
    const ctx = host.switchToHttp();
    const reply = ctx.getResponse<FastifyReply>();
    const req = ctx.getRequest<FastifyRequest>();
    const error = toApiError(exception, req);
    if (error.status >= 500) this.logger.error({ err: exception, reqId: req?.id }, error.message);
    sendApiError(reply, error);
  }
}

export function sendApiError(reply: FastifyReply, error: ApiError) {
  if (reply.sent || reply.raw.headersSent) return;
  reply.status(error.status).headers(error.headers).header('content-type', 'application/json').send(error.toBody());
}
