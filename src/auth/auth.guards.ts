import { CanActivate, createParamDecorator, ExecutionContext, Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { invalidApiKey } from '../common/errors';
import { Env } from '../config/env';
import { PrismaService } from '../prisma/prisma.service';
import { bearerToken, hashApiKey, secretsEqual } from './api-key';
import { KeyCacheService } from './key-cache.service';

/** Who is calling a /v1 endpoint, and the key's rate limits. */
export interface TenantAuth {
  tenantId: string;
  apiKeyId: string;
  limits?: { rpm: number | null; tpm: number | null };
}

type AuthedRequest = FastifyRequest & { auth?: TenantAuth };

/**
 * Bearer API key -> tenant, by the key's SHA-256 (unique index), through the in-process key cache;
 * revocation and suspension empty the cache everywhere, so a revoked key fails from the next request.
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(
    private readonly prisma: PrismaService,
    private readonly cache: KeyCacheService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<AuthedRequest>();
    const token = bearerToken(req.headers.authorization);
    if (!token) {
      throw invalidApiKey(
        "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
      );
    }
    const hash = hashApiKey(token);
    const cached = this.cache.get(hash);
    if (cached) {
      req.auth = cached;
      return true;
    }
    const generation = this.cache.generation;
    const key = await this.prisma.apiKey.findUnique({
      where: { hash },
      select: { id: true, tenantId: true, revokedAt: true, rpmLimit: true, tpmLimit: true, tenant: { select: { status: true } } },
    });
    if (!key || key.revokedAt || key.tenant.status !== 'active') {
      throw invalidApiKey(`Incorrect API key provided: ${redact(token)}.`);
    }
    req.auth = { tenantId: key.tenantId, apiKeyId: key.id, limits: { rpm: key.rpmLimit, tpm: key.tpmLimit } };
    this.cache.set(hash, req.auth, generation);
    return true;
  }
}

/** `Authorization: Bearer $ADMIN_TOKEN`, compared in constant time. */
@Injectable()
export class AdminGuard implements CanActivate {
  constructor(private readonly env: Env) {}

  canActivate(context: ExecutionContext): boolean {
    const req = context.switchToHttp().getRequest<FastifyRequest>();
    const token = bearerToken(req.headers.authorization);
    if (!token || !secretsEqual(token, this.env.ADMIN_TOKEN!)) {
      throw invalidApiKey('A valid admin token is required: Authorization: Bearer $ADMIN_TOKEN.');
    }
    return true;
  }
}

export const CurrentTenant = createParamDecorator((_: unknown, context: ExecutionContext): TenantAuth => {
  return context.switchToHttp().getRequest<AuthedRequest>().auth!;
});

/** "sk-tg-abc...wxyz": enough to recognise a key in an error, never enough to use it. */
function redact(token: string): string {
  return token.length <= 10 ? '****' : `${token.slice(0, 6)}****${token.slice(-4)}`;
}
