import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import { HTTP_CODE_METADATA } from '@nestjs/common/constants';
import type { FastifyRequest } from 'fastify';
import { from, Observable, throwError } from 'rxjs';
import { catchError, mergeMap } from 'rxjs/operators';
import { bearerToken } from '../auth/api-key';
import { toApiError } from '../common/openai-error.filter';
import { Env } from '../config/env';
import { adminFingerprint, describeAction } from './audit-actions';
import { AuditService } from './audit.service';

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * Records every mutating admin request (after AdminGuard let it through) in the audit log: who
 * (a fingerprint of the admin token), what (action, target, a summary without secrets), the
 * outcome (HTTP status) and when. Written before the answer is sent; a failure is recorded too.
 * Applied with @UseInterceptors(AuditInterceptor) on the admin controllers.
 */
@Injectable()
export class AuditInterceptor implements NestInterceptor {
  constructor(
    private readonly audit: AuditService,
    private readonly env: Env,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const req = context.switchToHttp().getRequest<FastifyRequest>();
    if (!MUTATING.has(req.method)) return next.handle();
    const handler = context.getHandler();
    const okStatus: number = Reflect.getMetadata(HTTP_CODE_METADATA, handler) ?? (req.method === 'POST' ? 201 : 200);
    const write = (status: number, result: unknown, error?: { status: number; code: string | null; message: string }) => {
      const token = bearerToken(req.headers.authorization) ?? '';
      const route = req.routeOptions?.url ?? req.url.split('?')[0];
      const record = describeAction(
        { method: req.method, route, params: (req.params ?? {}) as Record<string, unknown>, body: req.body, result, error },
        [token, this.env.ADMIN_TOKEN ?? ''],
      );
      return this.audit.record({
        ...record,
        actor: adminFingerprint(token),
        status,
        method: req.method,
        path: req.url.split('?')[0],
        requestId: typeof req.id === 'string' ? req.id : null,
      });
    };
    return next.handle().pipe(
      mergeMap((result) => from(write(okStatus, result).then(() => result))),
      catchError((err) => {
        const apiError = toApiError(err);
        return from(write(apiError.status, undefined, { status: apiError.status, code: apiError.code, message: apiError.message.slice(0, 300) })).pipe(
          mergeMap(() => throwError(() => err)),
        );
      }),
    );
  }
}
