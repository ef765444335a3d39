import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { LogController } from 'fastify';
import { AppModule } from './app.module';
import { newId } from './common/ids';
import { createRootLogger, PinoNestLogger } from './common/logger';
import { OpenAiErrorFilter } from './common/openai-error.filter';
import { apiValidationPipe } from './common/validation';
import { Env } from './config/env';

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
    routerOptions: { maxParamLength: 512 },
  });
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.register(env), adapter, {
    logger: new PinoNestLogger(logger),
  });
  // Every answer, errors and 404s included, carries its request id.
  app.getHttpAdapter().getInstance().addHook('onRequest', (req, reply, done) => {
    reply.header('x-request-id', req.id);
    done();
  });
  app.useGlobalFilters(new OpenAiErrorFilter());
  app.useGlobalPipes(apiValidationPipe());
  app.enableShutdownHooks();
  return app;
}
