import { ensureSeedModel, http, SEED_MODEL, startApp, TestApp } from './support/harness';
import { PrivateRedis, startPrivateRedis } from './support/private-redis';

/**
 * Two instances on one database. The second listens for invalidations on a Redis of its own, so
 * the first one's broadcast is lost for real: only Postgres can tell it.
 */
describe('revocation and suspension reach every process within a second, even when the broadcast is lost', () => {
  let redis: PrivateRedis;
  let first: TestApp;
  let second: TestApp;

  beforeAll(async () => {
    redis = await startPrivateRedis();
    first = await startApp();
    second = await startApp({ REDIS_URL: redis.url, ROLE: 'api' });
    await ensureSeedModel(first);
  }, 60_000);
  afterAll(async () => {
    await second?.close();
    await first?.close();
    await redis?.kill();
  });

  const ask = (t: TestApp, key: string) => http(t.baseUrl, 'POST', '/v1/responses', { token: key, body: { model: SEED_MODEL, input: 'hi' } });

  /** Asks `t` with `key` until it is refused; returns how long that took, or fails after 3 s. */
  async function msUntilRefused(t: TestApp, key: string, since: number) {
    for (;;) {
      const res = await ask(t, key);
      if (res.status === 401) return Date.now() - since;
      expect(res.status).toBe(200);
      if (Date.now() - since > 3000) throw new Error(`key still accepted ${Date.now() - since} ms after the change`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  it('refuses a key revoked through another instance within 1 s', async () => {
    const k = await first.tenant('10');
    // Twice: the first call fills the second instance's key cache, the second is served from it.
    expect((await ask(second, k.key)).status).toBe(200);
    expect((await ask(second, k.key)).status).toBe(200);
    const since = Date.now();
    expect((await first.admin('DELETE', `/admin/api-keys/${k.keyId}`)).status).toBe(200);
    expect(await msUntilRefused(second, k.key, since)).toBeLessThan(1000);
  });

  it('refuses the keys of a tenant suspended through another instance within 1 s', async () => {
    const k = await first.tenant('10');
    expect((await ask(second, k.key)).status).toBe(200);
    expect((await ask(second, k.key)).status).toBe(200);
    const since = Date.now();
    expect((await first.admin('PATCH', `/admin/tenants/${k.tenantId}`, { status: 'suspended' })).status).toBe(200);
    expect(await msUntilRefused(second, k.key, since)).toBeLessThan(1000);
  });

  it('an expiry set through another instance refuses the key within 1 s', async () => {
    const k = await first.tenant('10');
    expect((await ask(second, k.key)).status).toBe(200);
    expect((await ask(second, k.key)).status).toBe(200);
    const since = Date.now();
    expect((await first.admin('PATCH', `/admin/api-keys/${k.keyId}`, { expires_at: new Date(since - 1000).toISOString() })).status).toBe(200);
    expect(await msUntilRefused(second, k.key, since)).toBeLessThan(1000);
  });

  it('an allow-list set through another instance refuses other models within 1 s', async () => {
    const other = `revocation-other-${Date.now()}`;
    expect((await first.admin('PUT', `/admin/models/${other}`, { provider: 'simulated', input_price: '0.1', output_price: '0.1' })).status).toBe(200);
    const k = await first.tenant('10');
    expect((await ask(second, k.key)).status).toBe(200);
    expect((await ask(second, k.key)).status).toBe(200);
    const since = Date.now();
    expect((await first.admin('PATCH', `/admin/api-keys/${k.keyId}`, { allowed_models: [other] })).status).toBe(200);
    for (;;) {
      const res = await ask(second, k.key);
      if (res.status === 403) {
        expect(res.body.error).toMatchObject({ code: 'model_not_allowed', param: 'model' });
        break;
      }
      expect(res.status).toBe(200);
      expect(Date.now() - since).toBeLessThan(1000);
      await new Promise((r) => setTimeout(r, 50));
    }
  });
});
