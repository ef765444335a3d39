import { createHash } from 'node:crypto';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { bearerToken } from '../auth/api-key';
import { AuditService } from './audit.service';

export const AUTH_FAILED_ACTION = 'admin.auth_failed';

/**
 * Who tried: "anonymous" without credentials, else "token:" + the first 8 hex digits of the
 * SHA-256 of what was presented (the bearer token, or the whole header for another scheme), so
 * repeated attempts with the same credential can be told apart without ever storing it.
 */
export function presentedCredentialFingerprint(authorization: string | undefined): string {
  if (!authorization) return 'anonymous';
  const credential = bearerToken(authorization) ?? authorization;
  return `token:${createHash('sha256').update(credential).digest('hex').slice(0, 8)}`;
}

/**
 * Records every 401 under /admin (AdminGuard's and the queue board's) in the audit log before the
 * answer goes out. The guard refuses before the AuditInterceptor runs, so it is recorded here.
 */
export function auditFailedAdminAuth(app: NestFastifyApplication) {
  const audit = app.get(AuditService);
  app
    .getHttpAdapter()
    .getInstance()
    .addHook('onSend', async (req, reply) => {
      if (reply.statusCode !== 401) return;
      const path = req.url.split('?')[0];
      if (path !== '/admin' && !path.startsWith('/admin/')) return;
      const authorization = req.headers.authorization;
      await audit.record({
        actor: presentedCredentialFingerprint(authorization),
        action: AUTH_FAILED_ACTION,
        targetType: null,
        targetId: null,
        summary: {
          route: req.routeOptions?.url ?? null,
          reason: authorization ? 'invalid_credentials' : 'missing_credentials',
          scheme: authorization ? (/^\s*(\S+)/.exec(authorization)?.[1] ?? '').slice(0, 20).toLowerCase() : null,
        },
        status: 401,
        method: req.method,
        path,
        requestId: typeof req.id === 'string' ? req.id : null,
      });
    });
}
