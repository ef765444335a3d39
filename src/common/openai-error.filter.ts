import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { isUnavailableError } from './db-errors';
import { ApiError } from './errors';
import { bodyMustBeJson } from './http-habits';

const tooLarge = () => new ApiError(413, 'Request body is too large.', 'invalid_request_error', 'request_too_large');

/** Maps any thrown error to an ApiError in the OpenAI shape. */
export function toApiError(err: unknown, req?: { method: string; url: string }): ApiError {
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
  if (isUnavailableError(err)) return new ApiError(503, 'The service is temporarily unavailable (database or cache unreachable).', 'server_error', 'service_unavailable');
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
