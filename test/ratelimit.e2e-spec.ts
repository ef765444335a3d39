import type Redis from 'ioredis';
import OpenAI from 'openai';
import { REDIS } from '../src/redis/redis.module';
import type { Client } from 'pg';
import { ensureSeedModel, http, SEED_MODEL, startApp, TestApp } from './support/harness';
import { openDb } from './support/db';

/** The limits count per fixed minute: start a case well inside one, so it cannot straddle two. */
async function freshWindow() {
  const intoMinute = Date.now() % 60_000;
  if (intoMinute > 45_000) await new Promise((r) => setTimeout(r, 60_000 - intoMinute + 50));
}

describe('per-key rate limits (requests and tokens per minute)', () => {
  let t: TestApp;
  let db: Client;

  beforeAll(async () => {
    t = await startApp();
    await ensureSeedModel(t);
    db = await openDb();
  }, 90_000);
  afterAll(async () => {
    await db.end();
    await t.close();
  });

  async function keyWith(limits: Record<string, unknown>) {
    const tenant = await t.tenant('10');
    const key = await t.admin('POST', `/admin/tenants/${tenant.tenantId}/api-keys`, { name: 'limited', ...limits });
    expect(key.status).toBe(201);
    return { ...tenant, key: key.body.key as string, keyId: key.body.id as string, created: key.body };
  }
  const ask = (app: TestApp, key: string, body: Record<string, unknown> = {}) =>
    http(app.baseUrl, 'POST', '/v1/responses', { token: key, body: { model: SEED_MODEL, input: 'hi', ...body } });

  it('counts requests per minute, sends the x-ratelimit headers, and refuses the one over with 429 and retry-after', async () => {
    await freshWindow();
    const k = await keyWith({ rpm_limit: 3 });
    expect(k.created).toMatchObject({ rpm_limit: 3, tpm_limit: null });
    const remaining: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await ask(t, k.key);
      expect(res.status).toBe(200);
      expect(res.headers.get('x-ratelimit-limit-requests')).toBe('3');
      expect(res.headers.get('x-ratelimit-reset-requests')).toMatch(/^(\d+m)?\d+s$/);
      remaining.push(res.headers.get('x-ratelimit-remaining-requests')!);
    }
    expect(remaining).toEqual(['2', '1', '0']);
    const over = await ask(t, k.key);
    expect(over.status).toBe(429);
    expect(over.body.error).toMatchObject({ type: 'rate_limit_exceeded', code: 'rate_limit_exceeded' });
    expect(Number(over.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(over.headers.get('x-ratelimit-remaining-requests')).toBe('0');
    const events = (await db.query('SELECT count(*)::int AS n FROM usage_events WHERE api_key_id = $1', [k.keyId])).rows[0].n;
    expect(events).toBe(3);

    const err = await new OpenAI({ apiKey: k.key, baseURL: `${t.baseUrl}/v1`, maxRetries: 0 }).responses.create({ model: SEED_MODEL, input: 'x' }).catch((e) => e);
    expect(err).toBeInstanceOf(OpenAI.RateLimitError);
    expect(err.code).toBe('rate_limit_exceeded');
  });

  it('counts requests that arrive together exactly, each key on its own (one pipeline to Redis for all of them)', async () => {
    await freshWindow();
    const keys = [await keyWith({ rpm_limit: 5 }), await keyWith({ rpm_limit: 5 })];
    const pipelines = jest.spyOn(t.app.get<Redis>(REDIS), 'pipeline');
    const answers = await Promise.all(Array.from({ length: 24 }, (_, i) => ask(t, keys[i % 2].key).then((res) => ({ key: i % 2, res }))));
    expect(pipelines).toHaveBeenCalled();
    pipelines.mockRestore();
    for (const k of [0, 1]) {
      const mine = answers.filter((a) => a.key === k);
      const ok = mine.filter((a) => a.res.status === 200);
      expect(ok).toHaveLength(5);
      expect(mine.filter((a) => a.res.status === 429)).toHaveLength(7);
      expect(ok.map((a) => a.res.headers.get('x-ratelimit-remaining-requests')).sort()).toEqual(['0', '1', '2', '3', '4']);
    }
  });

  it('counts tokens per minute as the prompt plus the most the answer can use', async () => {
    await freshWindow();
    const k = await keyWith({ tpm_limit: 200 });
    // Thinking on, so the answer's bound is max_output_tokens itself.
    const big = { max_output_tokens: 100, thinking: { type: 'enabled' } };
    const first = await ask(t, k.key, big);
    expect(first.status).toBe(200);
    expect(first.headers.get('x-ratelimit-limit-tokens')).toBe('200');
    const left = Number(first.headers.get('x-ratelimit-remaining-tokens'));
    expect(left).toBeLessThan(100);
    expect(left).toBeGreaterThan(50);
    const over = await ask(t, k.key, big);
    expect(over.status).toBe(429);
    expect(over.body.error.message).toMatch(/tokens per minute/);
    // A smaller request still fits.
    expect((await ask(t, k.key, { max_output_tokens: 20 })).status).toBe(200);
  });

  it('applies changed limits from the next request, and null removes a limit', async () => {
    await freshWindow();
    const k = await keyWith({});
    expect((await ask(t, k.key)).headers.get('x-ratelimit-limit-requests')).toBeNull();
    const patched = await t.admin('PATCH', `/admin/api-keys/${k.keyId}`, { rpm_limit: 1 });
    expect(patched.status).toBe(200);
    expect(patched.body.rpm_limit).toBe(1);
    expect((await ask(t, k.key)).status).toBe(200);
    expect((await ask(t, k.key)).status).toBe(429);
    await t.admin('PATCH', `/admin/api-keys/${k.keyId}`, { rpm_limit: null });
    expect((await ask(t, k.key)).status).toBe(200);
  });

  it('shares the counts across instances (one Redis)', async () => {
    await freshWindow();
    const other = await startApp();
    try {
      const k = await keyWith({ rpm_limit: 2 });
      expect((await ask(t, k.key)).status).toBe(200);
      expect((await ask(other, k.key)).status).toBe(200);
      expect((await ask(other, k.key)).status).toBe(429);
      expect((await ask(t, k.key)).status).toBe(429);
    } finally {
      await other.close();
    }
  });

  it.each([
    ['rpm_limit', { rpm_limit: 0 }],
    ['rpm_limit', { rpm_limit: 'many' }],
    ['tpm_limit', { tpm_limit: 1.5 }],
  ])('refuses a bad %s', async (param, body) => {
    const tenant = await t.tenant('1');
    const res = await t.admin('POST', `/admin/tenants/${tenant.tenantId}/api-keys`, body);
    expect(res.status).toBe(400);
    expect(res.body.error.param).toBe(param);
  });
});
