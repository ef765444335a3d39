import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { LogController } from 'fastify';
import { AppModule } from './app.module';
import { auditFailedAdminAuth } from './audit/admin-auth-audit';
import { clientErrorHandler, frameworkErrorHandler } from './common/framework-errors';
import { enableCorsFor, corsOrigins, ignoreContentTypeOfEmptyBodies, refuseNonJsonBodies } from './common/http-habits';
import { newId } from './common/ids';
import { safeJsonBodyParser } from './common/json-body';
import { refuseUnstorableUrlInput } from './common/url-input';
import { createRootLogger, PinoNestLogger } from './common/logger';
import { OpenAiErrorFilter } from './common/openai-error.filter';
import { apiValidationPipe } from './common/validation';
import { Env } from './config/env';
import { setupDashboard } from './dashboard/dashboard';
import { setupOpenApi } from './docs/openapi';
import { setupQueueBoard } from './queues/queue-board';
import { MetricsService } from './metrics/metrics.service';

/** Builds the HTTP application (not yet listening) for a validated environment. */
export async function createApp(env: Env): Promise<NestFastifyApplication> {
  const logger = createRootLogger(env.LOG_LEVEL);
  const adapter = new FastifyAdapter({
    loggerInstance: logger,
    // Per-request log lines only at debug: at info they would dominate the hot path's cost.
    logController: new LogController({ disableRequestLogging: env.LOG_LEVEL !== 'debug' && env.LOG_LEVEL !== 'trace' }),
    bodyLimit: env.BODY_LIMIT_BYTES,
    genReqId: () => newId('req'),
    requestIdHeader: false,
    trustProxy: true,
    routerOptions: { maxParamLength: 512, ignoreTrailingSlash: true },
    frameworkErrors: frameworkErrorHandler,
    clientErrorHandler,
  });
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.register(env), adapter, {
    logger: new PinoNestLogger(logger),
  });
  const fastify = app.getHttpAdapter().getInstance();
  // Bodies Postgres could not store, or nested too deeply, are a 400 before any guard or handler.
  app.useBodyParser('application/json', { bodyLimit: env.BODY_LIMIT_BYTES }, safeJsonBodyParser(fastify));
  refuseUnstorableUrlInput(fastify);
  // Every answer, errors and 404s included, carries its request id.
  fastify.addHook('onRequest', (req, reply, done) => {
    reply.header('x-request-id', req.id);
    done();
  });
  enableCorsFor(app, corsOrigins(env.CORS_ORIGINS));
  ignoreContentTypeOfEmptyBodies(fastify);
  refuseNonJsonBodies(fastify);
  const metrics = app.get(MetricsService);
  fastify.addHook('onResponse', (req, reply, done) => {
    const labels = { route: req.routeOptions.url ?? 'unmatched', method: req.method, status: String(reply.statusCode) };
    metrics.httpRequests.inc(labels);
    metrics.httpDuration.observe(labels, reply.elapsedTime / 1000);
    done();
  });
  auditFailedAdminAuth(app);
  setupOpenApi(app);
  setupQueueBoard(app);
  setupDashboard(app);
  app.useGlobalFilters(new OpenAiErrorFilter());
  app.useGlobalPipes(apiValidationPipe());
  app.enableShutdownHooks();
  return app;
}
