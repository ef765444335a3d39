import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyCorsOptions } from '@fastify/cors';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiError } from './api-error';

const hasBody = (req: FastifyRequest) =>
  req.headers['transfer-encoding'] !== undefined || (req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0');

/**
 * Postman and axios-style clients send `Content-Type: application/json` on a GET or DELETE with
 * no body; served as if the header were absent (an empty body is not JSON to parse).
 */
export function ignoreContentTypeOfEmptyBodies(fastify: FastifyInstance) {
  fastify.addHook('onRequest', (req, _reply, done) => {
    if ((req.method === 'GET' || req.method === 'DELETE' || req.method === 'HEAD') && !hasBody(req)) delete req.headers['content-type'];
    done();
  });
}

export const bodyMustBeJson = () =>
  new ApiError(415, 'The request body must be JSON, sent with Content-Type: application/json.', 'invalid_request_error', 'unsupported_media_type');

const isJson = (contentType: string | undefined) => contentType?.split(';')[0].trim().toLowerCase() === 'application/json';

/**
 * A /v1/* body that is not JSON (form-encoded, text/plain, multipart...) is refused before any
 * parser turns it into something the validation would misread.
 */
export function refuseNonJsonBodies(fastify: FastifyInstance) {
  fastify.addHook('onRequest', (req, reply, done) => {
    if (!req.url.startsWith('/v1/') || !hasBody(req) || isJson(req.headers['content-type'])) return done();
    const error = bodyMustBeJson();
    reply.status(error.status).header('content-type', 'application/json').send(error.toBody());
  });
}

/** The allowed origins of a CORS_ORIGINS value. */
export const corsOrigins = (value: string | undefined) => (value ?? '').split(',').map((o) => o.trim()).filter(Boolean);

/** CORS on /v1/* for the listed origins only; nothing when none is listed. */
export function enableCorsFor(app: NestFastifyApplication, origins: string[]) {
  if (!origins.length) return;
  const onV1: FastifyCorsOptions = {
    origin: origins,
    methods: ['GET', 'POST', 'DELETE', 'OPTIONS'],
    exposedHeaders: ['x-request-id', 'retry-after', 'x-should-retry', 'x-tollgate-cost', ...['requests', 'tokens'].flatMap((k) => ['limit', 'remaining', 'reset'].map((w) => `x-ratelimit-${w}-${k}`))],
    maxAge: 600,
  };
  app.enableCors({ delegator: (req, cb) => cb(null, req.url.startsWith('/v1/') ? onV1 : { origin: false }) });
}
