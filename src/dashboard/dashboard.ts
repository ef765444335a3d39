import fastifyStatic from '@fastify/static';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ApiError } from '../common/api-error';

export const DASHBOARD_PATH = '/dashboard';

/** web/dist, the Vite build of web/ (the same two levels up from src/dashboard and dist/dashboard). */
export const DASHBOARD_DIR = resolve(__dirname, '../../web/dist');

// Everything is served from this origin: no CDN, no inline scripts; uPlot sets inline styles.
const CSP = "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

const notBuilt = new ApiError(503, 'The dashboard is not built: run `npm run build` (it builds web/ into web/dist).', 'server_error', 'dashboard_not_built');

/**
 * The dashboard (a single-page app) at /dashboard: hashed assets under /dashboard/assets/ cached
 * for good, and index.html, never cached, for /dashboard and every client route below it.
 */
export function setupDashboard(app: NestFastifyApplication, root = DASHBOARD_DIR) {
  app.getHttpAdapter().getInstance().register(async (scope) => {
    await scope.register(fastifyStatic, { root, serve: false });
    scope.addHook('onSend', async (_req, reply, payload) => {
      reply.header('content-security-policy', CSP).header('x-content-type-options', 'nosniff').header('referrer-policy', 'no-referrer');
      return payload;
    });
    const index = async (_req: unknown, reply: any) => {
      if (!existsSync(join(root, 'index.html'))) return reply.status(notBuilt.status).send(notBuilt.toBody());
      return reply.header('cache-control', 'no-cache').sendFile('index.html', { cacheControl: false });
    };
    scope.get(DASHBOARD_PATH, index);
    scope.get(`${DASHBOARD_PATH}/*`, async (req, reply) => {
      const rest = (req.params as { '*': string })['*'];
      if (rest.startsWith('assets/')) return reply.sendFile(rest, { maxAge: '365d', immutable: true });
      return index(req, reply);
    });
  });
}
