import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module';
import { createApp } from './bootstrap';
import { createRootLogger, PinoNestLogger } from './common/logger';
import { assertServicesUp } from './common/preflight';
import { EnvError, generatedAdminToken, loadEnv } from './config/env';

async function main() {
  let env;
  try {
    env = loadEnv();
  } catch (err) {
    if (err instanceof EnvError) {
      console.error(err.message);
      process.exit(1);
    }
    throw err;
  }
  await assertServicesUp(env.DATABASE_URL, env.REDIS_URL);
  if (env.ROLE === 'worker') {
    // Queue workers only: no HTTP listener.
    const app = await NestFactory.createApplicationContext(AppModule.register(env), {
      logger: new PinoNestLogger(createRootLogger(env.LOG_LEVEL)),
    });
    app.enableShutdownHooks();
    console.log('Tollgate worker running (ROLE=worker)');
    return;
  }
  const app = await createApp(env);
  await app.listen({ port: env.PORT, host: env.HOST });
  const address = app.getHttpServer().address();
  const port = typeof address === 'object' && address ? address.port : env.PORT;
  const url = `http://${env.HOST === '0.0.0.0' ? '127.0.0.1' : env.HOST}:${port}`;
  console.log(`Tollgate listening on ${url} (ROLE=${env.ROLE})`);
  if (generatedAdminToken) console.log(`ADMIN_TOKEN (generated for this run; set ADMIN_TOKEN to choose one): ${env.ADMIN_TOKEN}`);
}

main().catch((err) => {
  console.error(`Tollgate failed to start: ${err?.message ?? err}`);
  process.exit(1);
});
