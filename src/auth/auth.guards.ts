import { CanActivate, createParamDecorator, ExecutionContext, Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { BudgetPeriod } from '../billing/budget-period';
import { formatAmount } from '../billing/money';
import { DomainError, ErrorCode, invalidApiKey } from '../common/errors';
import { Env } from '../config/env';
import { bearerToken, hashApiKey, secretsEqual } from './api-key';
import { KeyCacheService } from './key-cache.service';
import { KeyLookups } from './key-lookups';

/** Who is calling a /v1 endpoint, and the key's rate limits, budget, expiry and allowed models. */
export interface TenantAuth {
  tenantId: string;
  apiKeyId: string;
  limits?: { rpm: number | null; tpm: number | null };
  budget?: { limit: string; period: BudgetPeriod } | null;
  /** Epoch milliseconds from which the key is refused (null: never). */
  expiresAt?: number | null;
  /** The models the key may call (null: all). */
  allowedModels?: readonly string[] | null;
}

type AuthedRequest = FastifyRequest & { auth?: TenantAuth };

/**
 * Bearer API key -> tenant, by the key's SHA-256 (unique index), through the in-process key cache
 * (misses looked up through KeyLookups: bounded, one lookup per key);
 * revocation and suspension empty the cache everywhere, so a revoked key fails from the next request.
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(
    private readonly lookups: KeyLookups,
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
      if (isExpired(cached)) throw expired(token);
      req.auth = cached;
      return true;
    }
    const generation = this.cache.generation;
    const key = await this.lookups.byHash(hash, generation);
    if (!key || key.revokedAt || key.tenantStatus !== 'active') {
      throw invalidApiKey(`Incorrect API key provided: ${redact(token)}.`);
    }
    const auth: TenantAuth = {
      tenantId: key.tenantId,
      apiKeyId: key.id,
      limits: { rpm: key.rpmLimit, tpm: key.tpmLimit },
      budget: key.budgetLimit !== null && key.budgetPeriod !== null ? { limit: formatAmount(key.budgetLimit), period: key.budgetPeriod } : null,
      expiresAt: key.expiresAt ? key.expiresAt.getTime() : null,
      allowedModels: Array.isArray(key.allowedModels) ? (key.allowedModels as string[]) : null,
    };
    // An expired key is cached too: it stays refused without a lookup until the cache entry goes.
    this.cache.set(hash, auth, generation);
    if (isExpired(auth)) throw expired(token);
    req.auth = auth;
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

const isExpired = (auth: TenantAuth) => auth.expiresAt != null && auth.expiresAt <= Date.now();
const expired = (token: string) => invalidApiKey(`The API key ${redact(token)} has expired.`);

export const modelNotAllowed = (model: string) =>
  new DomainError(ErrorCode.ModelNotAllowed, `This API key is not allowed to use the model '${model}'.`, { param: 'model' });

/** True when the key may call `model` (no allow-list, or the model is on it). */
export const modelAllowed = (auth: TenantAuth, model: string) => !auth.allowedModels || auth.allowedModels.includes(model);

/** "sk-tg-abc...wxyz": enough to recognise a key in an error, never enough to use it. */
function redact(token: string): string {
  return token.length <= 10 ? '****' : `${token.slice(0, 6)}****${token.slice(-4)}`;
}
