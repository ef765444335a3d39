import { ensureSeedModel, http, SEED_MODEL, startApp, TestApp } from './support/harness';

describe('operations: /metrics', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startApp();
    await ensureSeedModel(t);
  });
  afterAll(() => t.close());

  const metric = (text: string, name: string, labels = '') => {
    const line = text.split('\n').find((l) => l.startsWith(name) && l.includes(labels) && !l.startsWith('#'));
    return line ? Number(line.split(' ').pop()) : undefined;
  };

  it('serves request counts and latency by route and status, charges, refusals and queue depth', async () => {
    const rich = await t.tenant('5');
    const poor = await t.tenant('0.000001');
    const sdk = t.openai(rich.key);
    for (let i = 0; i < 3; i++) await sdk.responses.create({ model: SEED_MODEL, input: `metrics ${i}` });
    await http(t.baseUrl, 'POST', '/v1/responses', { token: rich.key, body: { model: SEED_MODEL, input: 'x', temperature: 9 } });
    await http(t.baseUrl, 'POST', '/v1/responses', { token: poor.key, body: { model: SEED_MODEL, input: 'x'.repeat(2000) } });

    let text = '';
    for (let i = 0; i < 100; i++) {
      const res = await http(t.baseUrl, 'GET', '/metrics');
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
      text = res.text;
      if ((metric(text, 'tollgate_charges_total') ?? 0) >= 3) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(metric(text, 'tollgate_http_requests_total', 'route="/v1/responses",method="POST",status="200"')).toBeGreaterThanOrEqual(3);
    expect(metric(text, 'tollgate_http_requests_total', 'route="/v1/responses",method="POST",status="400"')).toBeGreaterThanOrEqual(1);
    expect(metric(text, 'tollgate_http_requests_total', 'status="429"')).toBeGreaterThanOrEqual(1);
    expect(metric(text, 'tollgate_http_request_duration_seconds_count', 'route="/v1/responses",method="POST",status="200"')).toBeGreaterThanOrEqual(3);
    expect(metric(text, 'tollgate_charges_total')).toBeGreaterThanOrEqual(3);
    expect(metric(text, 'tollgate_charge_lag_seconds_count')).toBeGreaterThanOrEqual(3);
    expect(metric(text, 'tollgate_reservation_refusals_total')).toBeGreaterThanOrEqual(1);
    expect(metric(text, 'tollgate_provider_duration_seconds_count', 'provider="simulated"')).toBeGreaterThanOrEqual(3);
    expect(metric(text, 'tollgate_queue_jobs', 'state="failed"')).toBeGreaterThanOrEqual(0);
    expect(text).toContain('tollgate_process_resident_memory_bytes');
  });
});

describe('operations: OpenAPI docs', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp();
  });
  afterAll(() => t.close());

  it('serves an OpenAPI document covering every endpoint, and Swagger UI at /docs', async () => {
    const doc = await http(t.baseUrl, 'GET', '/docs/openapi.json');
    expect(doc.status).toBe(200);
    expect(doc.body.openapi).toMatch(/^3\./);
    const paths = Object.keys(doc.body.paths);
    for (const path of ['/v1/responses', '/v1/responses/{id}', '/v1/responses/{id}/input_items', '/v1/chat/completions', '/v1/models', '/v1/balance', '/admin/tenants', '/admin/models/{model}', '/health', '/ready', '/metrics']) {
      expect(paths).toContain(path);
    }
    expect(doc.body.paths['/v1/responses'].post.summary).toMatch(/Create a response/);
    const ui = await http(t.baseUrl, 'GET', '/docs');
    expect(ui.status).toBe(200);
    expect(ui.text).toContain('swagger');
  });
});

describe('operations: Bull Board', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp();
  });
  afterAll(() => t.close());

  it('serves the queue board behind the admin token (bearer or Basic password)', async () => {
    const anonymous = await http(t.baseUrl, 'GET', '/admin/queues/board');
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toMatch(/^Basic/);
    expect(anonymous.body.error.code).toBe('invalid_api_key');
    const wrong = await http(t.baseUrl, 'GET', '/admin/queues/board', { headers: { authorization: `Basic ${Buffer.from('admin:nope').toString('base64')}` } });
    expect(wrong.status).toBe(401);

    const page = await http(t.baseUrl, 'GET', '/admin/queues/board', { token: t.env.ADMIN_TOKEN });
    expect(page.status).toBe(200);
    expect(page.text).toMatch(/<html/i);
    const basic = `Basic ${Buffer.from(`admin:${t.env.ADMIN_TOKEN}`).toString('base64')}`;
    const queues = await http(t.baseUrl, 'GET', '/admin/queues/board/api/queues', { headers: { authorization: basic } });
    expect(queues.status).toBe(200);
    expect(queues.body.queues.map((q: any) => q.name).sort()).toEqual(['charges', 'invoices', 'webhooks']);
  });
});
