import { ensureSeedModel, http, HttpResult, SEED_MODEL, startApp, TestApp } from './support/harness';

let t: TestApp;

beforeAll(async () => {
  t = await startApp();
  await ensureSeedModel(t);
});

afterAll(async () => {
  await t?.close();
});

function expectInvalid(res: HttpResult, param: string) {
  expect({ status: res.status, error: res.body?.error }).toMatchObject({
    status: 400,
    error: { type: 'invalid_request_error', code: 'invalid_value', param },
  });
}

/** `{"a": {"a": ... 1 ...}}` nested `levels` deep, as raw JSON text (JSON.stringify would recurse). */
const deepObject = (levels: number) => '{"a":'.repeat(levels) + '1' + '}'.repeat(levels);
const deepArray = (levels: number) => '['.repeat(levels) + ']'.repeat(levels);

describe('strings Postgres cannot store are refused before any handler runs', () => {
  const NUL = 'a\u0000b';
  const SURROGATE = 'a\ud800b';

  it.each<[string, unknown, string]>([
    ['input', { input: NUL }, 'input'],
    ['a content part', { input: [{ role: 'user', content: [{ type: 'input_text', text: SURROGATE }] }] }, 'input[0].content[0].text'],
    ['instructions', { input: 'hi', instructions: NUL }, 'instructions'],
    ['a metadata value', { input: 'hi', metadata: { note: SURROGATE } }, 'metadata.note'],
    ['a metadata key', { input: 'hi', metadata: { [NUL]: 'v' } }, `metadata.${NUL}`],
  ])('POST /v1/responses with a bad string in %s: 400 naming it, nothing reserved or charged', async (_what, fields, param) => {
    const { key } = await t.tenant('1');
    const res = await http(t.baseUrl, 'POST', '/v1/responses', { token: key, body: { model: SEED_MODEL, ...(fields as object) } });
    expectInvalid(res, param);
    const balance = await http(t.baseUrl, 'GET', '/v1/balance', { token: key });
    expect(balance.body).toMatchObject({ balance: '1', reserved: '0' });
  });

  it('POST /v1/chat/completions with a NUL in a message: 400 naming it', async () => {
    const { key } = await t.tenant('1');
    const res = await http(t.baseUrl, 'POST', '/v1/chat/completions', {
      token: key,
      body: { model: SEED_MODEL, messages: [{ role: 'system', content: 'ok' }, { role: 'user', content: NUL }] },
    });
    expectInvalid(res, 'messages[1].content');
  });

  it.each<[string, string, unknown, string]>([
    ['POST', '/admin/tenants', { name: NUL }, 'name'],
    ['POST', '/admin/tenants', { name: SURROGATE, credits: '1' }, 'name'],
    ['PUT', `/admin/models/${SEED_MODEL}`, { provider: 'simulated', input_price: '1', output_price: '1', upstream_model: NUL }, 'upstream_model'],
  ])('%s %s with a bad string: 400 naming it', async (method, path, body, param) => {
    expectInvalid(await t.admin(method, path, body), param);
  });

  it('a bad string in an API key name or a credit reference is refused too', async () => {
    const { tenantId } = await t.tenant('1');
    expectInvalid(await t.admin('POST', `/admin/tenants/${tenantId}/api-keys`, { name: SURROGATE }), 'name');
    expectInvalid(await t.admin('POST', `/admin/tenants/${tenantId}/credits`, { amount: '1', reference: NUL }), 'reference');
    const ledger = await t.admin('GET', `/admin/tenants/${tenantId}/ledger`);
    expect(ledger.body.data).toHaveLength(1);
  });
});

describe('a NUL in a path parameter or a query string is a 400 naming it', () => {
  it.each<[string, string, string]>([
    ['GET', '/v1/responses/%00', 'id'],
    ['GET', '/v1/responses/resp_%00x/input_items', 'id'],
    ['DELETE', '/v1/responses/%00', 'id'],
    ['GET', '/v1/responses/resp_x/input_items?after=%00', 'after'],
    ['GET', '/v1/usage?from=%00', 'from'],
  ])('%s %s (tenant key): 400 param %s', async (method, path, param) => {
    const { key } = await t.tenant('1');
    expectInvalid(await http(t.baseUrl, method, path, { token: key }), param);
  });

  it.each<[string, string, string]>([
    ['GET', '/admin/audit?action=a%00b', 'action'],
    ['GET', '/admin/usage?group_by=model&tenant_id=%00', 'tenant_id'],
    ['GET', '/admin/invoices/%00', 'id'],
    ['GET', '/admin/models/%00/prices', 'model'],
    ['GET', '/admin/tenants/%00/ledger?after=x', 'id'],
    ['POST', '/admin/queues/charges/failed/%00/retry', 'id'],
  ])('%s %s (admin): 400 param %s', async (method, path, param) => {
    expectInvalid(await t.admin(method, path), param);
  });
});

describe('deeply nested JSON is a 400, never a stack overflow', () => {
  it('refuses 65 levels and accepts 64 (the body itself is the first)', async () => {
    const { key } = await t.tenant('1');
    // The body is level 1, metadata level 2, then `levels - 2` nested objects.
    const at = (levels: number) => `{"model":"${SEED_MODEL}","input":"hi","metadata":{"x":${deepObject(levels - 2).replace('1', '"v"')}}}`;
    const refused = await http(t.baseUrl, 'POST', '/v1/responses', { token: key, rawBody: at(65) });
    expect(refused.status).toBe(400);
    expect(refused.body.error).toMatchObject({ type: 'invalid_request_error', code: 'invalid_value' });
    expect(refused.body.error.param).toMatch(/^metadata\.x(\.a)+$/);
    const within = await http(t.baseUrl, 'POST', '/v1/responses', { token: key, rawBody: at(64) });
    // Within the depth limit the DTO speaks: metadata values must be strings.
    expectInvalid(within, 'metadata');
  });

  it.each([
    ['/v1/responses', (d: string) => `{"model":"${SEED_MODEL}","input":${d}}`],
    ['/v1/chat/completions', (d: string) => `{"model":"${SEED_MODEL}","messages":${d}}`],
  ])('POST %s with 100,000 levels: 400', async (path, body) => {
    const { key } = await t.tenant('1');
    for (const deep of [deepArray(100_000), deepObject(100_000)]) {
      const res = await http(t.baseUrl, 'POST', path, { token: key, rawBody: body(deep) });
      expect({ status: res.status, code: res.body?.error?.code }).toEqual({ status: 400, code: 'invalid_value' });
    }
    const balance = await http(t.baseUrl, 'GET', '/v1/balance', { token: key });
    expect(balance.body).toMatchObject({ balance: '1', reserved: '0' });
  });

  it('POST /admin/tenants with 100,000 levels: 400', async () => {
    const deep = await http(t.baseUrl, 'POST', '/admin/tenants', { token: t.env.ADMIN_TOKEN, rawBody: `{"name":${deepObject(100_000)}}` });
    expect({ status: deep.status, code: deep.body?.error?.code }).toEqual({ status: 400, code: 'invalid_value' });
  });
});

describe('errors Fastify and Node answer before routing have the OpenAI shape too', () => {
  const expectShape = (res: HttpResult, status: number) => {
    expect(res.status).toBe(status);
    expect(Object.keys(res.body?.error ?? {}).sort()).toEqual(['code', 'message', 'param', 'type']);
    expect(res.body.error.type).toBe('invalid_request_error');
  };

  it('a path parameter over the router limit: 414', async () => {
    expectShape(await t.admin('GET', `/admin/tenants/${'x'.repeat(600)}`), 414);
  });

  it('a malformed percent-encoding in the path: 400', async () => {
    expectShape(await t.admin('GET', '/admin/tenants/%zz'), 400);
  });

  it('headers over the size limit (a 20 KB query string): 431', async () => {
    expectShape(await t.admin('GET', `/admin/usage?tenant_id=${'x'.repeat(20_000)}`), 431);
  });
});

describe('names and ids use a safe character set', () => {
  const prices = { provider: 'simulated', input_price: '1', output_price: '1' };

  it.each(['=cmd', '+1', '-x', '@SUM(A1)', '.hidden', '_x', ':x', '/x'])('PUT /admin/models/%s: 400 param model', async (id) => {
    expectInvalid(await t.admin('PUT', `/admin/models/${encodeURIComponent(id)}`, prices), 'model');
  });

  it('a model id starting with a letter or digit is accepted', async () => {
    expect((await t.admin('PUT', '/admin/models/9b-model', prices)).status).toBe(200);
  });

  it.each(['tab\there', 'bell\u0007', 'line\nbreak', 'del\u007f', 'c1\u0085', 'rtl\u202Eoverride', 'sep\u2028'])('tenant name %j: 400 param name', async (name) => {
    expectInvalid(await t.admin('POST', '/admin/tenants', { name }), 'name');
  });

  it('tenant names may use any printable unicode', async () => {
    const res = await t.admin('POST', '/admin/tenants', { name: 'Café Zürich 東京 👩‍💻 (EU) & Co.' });
    expect(res.status).toBe(201);
  });

  it.each(['ci\u0000', 'ci\r\n', 'x'.repeat(201)])('API key name %j: 400 param name', async (name) => {
    const { tenantId } = await t.tenant('1');
    expectInvalid(await t.admin('POST', `/admin/tenants/${tenantId}/api-keys`, { name }), 'name');
  });
});

describe('opening credits of zero', () => {
  it.each(['0', '0.00'])('POST /admin/tenants with credits %s: 201, balance 0, no ledger entry', async (credits) => {
    const res = await t.admin('POST', '/admin/tenants', { name: 'zero', credits });
    expect(res.status).toBe(201);
    expect(res.body.balance).toBe('0');
    const ledger = await t.admin('GET', `/admin/tenants/${res.body.id}/ledger`);
    expect(ledger.body.data).toEqual([]);
  });

  it('negative opening credits are still refused', async () => {
    expectInvalid(await t.admin('POST', '/admin/tenants', { name: 'neg', credits: '-1' }), 'credits');
  });
});

describe('audit of failed admin authentication and dead-letter replays', () => {
  const audit = async (action: string) => (await t.admin('GET', `/admin/audit?action=${encodeURIComponent(action)}&limit=1000`)).body.data as any[];

  it('records a 401 on an admin route with the actor as a fingerprint or anonymous, never the token', async () => {
    const wrong = `wrong-token-${Math.random().toString(36).slice(2)}`;
    expect((await http(t.baseUrl, 'POST', '/admin/tenants', { token: wrong, body: { name: 'x' } })).status).toBe(401);
    expect((await http(t.baseUrl, 'GET', '/admin/usage')).status).toBe(401);
    expect((await http(t.baseUrl, 'GET', '/admin/queues/board/', { token: wrong })).status).toBe(401);
    const entries = await audit('admin.auth_failed');
    const byPath = (method: string, path: string) => entries.find((e) => e.method === method && e.path === path);
    expect(byPath('POST', '/admin/tenants')).toMatchObject({ status: 401, actor: expect.stringMatching(/^token:[0-9a-f]{8}$/) });
    expect(byPath('GET', '/admin/usage')).toMatchObject({ status: 401, actor: 'anonymous' });
    expect(byPath('GET', '/admin/queues/board/')).toMatchObject({ status: 401 });
    expect(JSON.stringify(entries)).not.toContain(wrong);
  });

  it('records dead-letter replays, one and all', async () => {
    const missing = (await t.admin('POST', '/admin/queues/charges/failed/no-such-job/retry')).status;
    expect(missing).toBe(404);
    const all = await t.admin('POST', '/admin/queues/charges/failed/retry');
    expect(all.status).toBe(200);
    expect((await audit('charge.retry'))[0]).toMatchObject({ status: 404, target_id: 'no-such-job', actor: expect.stringMatching(/^admin:/) });
    expect((await audit('charge.retry_all'))[0]).toMatchObject({ status: 200, summary: { retried: all.body.retried } });
  });
});
