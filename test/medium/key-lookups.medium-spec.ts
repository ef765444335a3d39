import type { ExecutionContext } from '@nestjs/common';
import { hashApiKey } from '../../src/auth/api-key';
import { ApiKeyGuard, type TenantAuth } from '../../src/auth/auth.guards';
import { KeyCacheService } from '../../src/auth/key-cache.service';
import { KEY_LOOKUP_CONCURRENCY, KEY_LOOKUP_MAX_QUEUED, KeyLookups } from '../../src/auth/key-lookups';
import { DomainError, ErrorCode } from '../../src/common/domain-error';
import { newUuid } from '../../src/common/ids';
import { PgPool } from '../../src/prisma/pg-pool.service';
import { Medium, startMedium } from '../support/medium';

/** A key cache that never holds anything, so every request is a miss (what a flood of unknown keys is). */
class EmptyKeyCache {
  generation = 0;
  get(): null {
    return null;
  }
  set(): void {}
}

const contextFor = (token: string) => {
  const req: { headers: { authorization: string }; auth?: TenantAuth } = { headers: { authorization: `Bearer ${token}` } };
  const context = { switchToHttp: () => ({ getRequest: () => req }) } as unknown as ExecutionContext;
  return { req, context };
};

/**
 * Key-cache misses against the real database: a flood of made-up keys must not take the pool's
 * connections (admissions need them), and a burst of one key's requests asks Postgres once.
 */
describe('API key lookups (medium)', () => {
  let m: Medium;
  let guard: ApiKeyGuard;
  let cache: EmptyKeyCache;
  let pg: PgPool;
  let inFlight = 0;
  let peak = 0;
  let lookups = 0;

  beforeAll(async () => {
    m = await startMedium([ApiKeyGuard, KeyLookups, { provide: KeyCacheService, useClass: EmptyKeyCache }]);
    guard = m.get(ApiKeyGuard);
    cache = m.get(KeyCacheService) as unknown as EmptyKeyCache;
    pg = m.get(PgPool);
    const query = pg.$queryRaw.bind(pg);
    pg.$queryRaw = (async (...args: Parameters<PgPool['$queryRaw']>) => {
      lookups++;
      peak = Math.max(peak, ++inFlight);
      try {
        return await query(...args);
      } finally {
        inFlight--;
      }
    }) as PgPool['$queryRaw'];
  });

  beforeEach(() => {
    peak = 0;
    lookups = 0;
  });

  afterAll(() => m?.close());

  const check = (token: string) => {
    const { req, context } = contextFor(token);
    return guard.canActivate(context).then(
      () => req.auth!,
      (err: unknown) => err as DomainError,
    );
  };

  async function keyRow(): Promise<{ token: string; tenantId: string; keyId: string }> {
    const { tenantId } = await m.tenant();
    const token = `sk-tg-lookup-${newUuid()}`;
    const keyId = newUuid();
    await m.db.query('INSERT INTO api_keys (id, tenant_id, name, hash, prefix) VALUES ($1, $2, $3, $4, $5)', [keyId, tenantId, 'lookups', hashApiKey(token), token.slice(0, 12)]);
    return { token, tenantId, keyId };
  }

  it('200 different unknown keys at once: each refused, never more than the bound asking Postgres', async () => {
    const results = await Promise.all(Array.from({ length: 200 }, () => check(`sk-tg-made-up-${newUuid()}`)));
    for (const r of results) expect(r).toMatchObject({ code: ErrorCode.InvalidApiKey });
    expect(lookups).toBe(200);
    expect(peak).toBeLessThanOrEqual(KEY_LOOKUP_CONCURRENCY);
  });

  it("50 requests of one key not yet cached: one lookup, every request admitted as the key's tenant", async () => {
    const { token, tenantId, keyId } = await keyRow();
    const results = await Promise.all(Array.from({ length: 50 }, () => check(token)));
    for (const r of results) expect(r).toMatchObject({ tenantId, apiKeyId: keyId });
    expect(lookups).toBe(1);
  });

  it('a request after a revocation does not join a lookup started before it', async () => {
    const { token } = await keyRow();
    const before = check(token);
    cache.generation++;
    const after = check(token);
    await Promise.all([before, after]);
    expect(lookups).toBe(2);
  });

  it('past the waiting bound a request is refused with a 503 at once instead of queueing', async () => {
    const results = await Promise.all(Array.from({ length: KEY_LOOKUP_MAX_QUEUED + 5 }, () => check(`sk-tg-made-up-${newUuid()}`)));
    const busy = results.filter((r) => r instanceof DomainError && r.code === ErrorCode.ServiceUnavailable);
    const refused = results.filter((r) => r instanceof DomainError && r.code === ErrorCode.InvalidApiKey);
    expect(busy).toHaveLength(5);
    expect(refused).toHaveLength(KEY_LOOKUP_MAX_QUEUED);
    expect(peak).toBeLessThanOrEqual(KEY_LOOKUP_CONCURRENCY);
  });
});
