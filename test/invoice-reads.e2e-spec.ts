import type { Client } from 'pg';
import { ChargerService } from '../src/metering/charger.service';
import { openDb } from './support/db';
import { insertEvent } from './support/events';
import { ensureSeedModel, http, HttpResult, SEED_MODEL, startApp, TestApp } from './support/harness';
import { waitFor } from './support/wait';

const MISSING_UUID = '00000000-0000-4000-8000-000000000000';

function expectApiError(res: HttpResult, status: number, code: string, param: string | null) {
  expect({ status: res.status, error: res.body?.error }).toMatchObject({ status, error: { code, param, type: 'invalid_request_error' } });
  expect(typeof res.body.error.message).toBe('string');
}

describe('invoice reads: GET /admin/invoices, and a tenant\'s own /v1/invoices', () => {
  let t: TestApp;
  let db: Client;
  let a: { tenantId: string; key: string; keyId: string };
  let b: { tenantId: string; key: string; keyId: string };
  const invoicesOfA: string[] = [];
  let invoiceOfB: string;

  const tenantGet = (key: string, path: string) => http(t.baseUrl, 'GET', path, { token: key });
  const createInvoice = async (tenantId: string, start: string, end: string) => {
    const res = await t.admin('POST', '/admin/invoices', { tenant_id: tenantId, period_start: start, period_end: end });
    expect(res.status).toBe(202);
    // Distinct creation times, so "newest first" has one right order.
    await new Promise((r) => setTimeout(r, 5));
    return res.body.id as string;
  };
  const waitReady = (id: string) =>
    waitFor(`invoice ${id}`, async () => (await t.admin('GET', `/admin/invoices/${id}`)).body.status === 'ready');

  beforeAll(async () => {
    t = await startApp();
    await ensureSeedModel(t);
    db = await openDb();
    a = await t.tenant('10');
    b = await t.tenant('10');
    // Seed prices: input 0.25, cached 0.025 (10%), output 2 per 1e6 tokens.
    const ids = [
      await insertEvent(db, a, SEED_MODEL, { input: 1000, cached: 200, output: 50 }, { requestedAt: '2025-03-03T10:00:00Z' }),
      await insertEvent(db, a, SEED_MODEL, { input: 10, output: 7, reasoning: 3 }, { requestedAt: '2025-04-02T10:00:00Z' }),
      await insertEvent(db, b, SEED_MODEL, { input: 5, output: 5 }, { requestedAt: '2025-03-04T10:00:00Z' }),
    ];
    await t.app.get(ChargerService).chargeEvents(ids);
    for (const month of ['2025-01', '2025-02', '2025-03', '2025-04']) {
      const next = month === '2025-04' ? '2025-05' : `2025-0${Number(month.slice(5)) + 1}`;
      invoicesOfA.push(await createInvoice(a.tenantId, `${month}-01T00:00:00Z`, `${next}-01T00:00:00Z`));
    }
    invoiceOfB = await createInvoice(b.tenantId, '2025-03-01T00:00:00Z', '2025-04-01T00:00:00Z');
    for (const id of [...invoicesOfA, invoiceOfB]) await waitReady(id);
  });

  afterAll(async () => {
    await db?.end();
    await t?.close();
  });

  it('admin: newest first, filtered by tenant_id and status, cursor-paged with no gap or repeat', async () => {
    const all = await t.admin('GET', `/admin/invoices?tenant_id=${a.tenantId}`);
    expect(all.status).toBe(200);
    expect(all.body).toMatchObject({ object: 'list', has_more: false });
    expect(all.body.data.map((i: any) => i.id)).toEqual([...invoicesOfA].reverse());
    // March: 800 * 0.25 + 200 * 0.025 + 50 * 2 = 305 -> 0.000305
    const march = all.body.data.find((i: any) => i.period_start === '2025-03-01T00:00:00.000Z');
    expect(march).toMatchObject({ tenant_id: a.tenantId, status: 'ready', total: '0.000305', charges: 1 });

    const pages: string[] = [];
    let after = '';
    for (;;) {
      const page = await t.admin('GET', `/admin/invoices?tenant_id=${a.tenantId}&limit=3${after ? `&after=${after}` : ''}`);
      expect(page.status).toBe(200);
      pages.push(...page.body.data.map((i: any) => i.id));
      if (!page.body.has_more) break;
      after = page.body.data.at(-1).id;
    }
    expect(pages).toEqual([...invoicesOfA].reverse());

    const everyone = await t.admin('GET', '/admin/invoices?status=ready&limit=100');
    const ids = everyone.body.data.map((i: any) => i.id);
    expect(ids).toEqual(expect.arrayContaining([...invoicesOfA, invoiceOfB]));
    expect(everyone.body.data.every((i: any) => i.status === 'ready')).toBe(true);
    expect((await t.admin('GET', '/admin/invoices?status=failed&tenant_id=' + a.tenantId)).body.data).toEqual([]);
  });

  it('admin: bad filters are 400s naming the field; an unknown tenant is a 404 on tenant_id', async () => {
    expectApiError(await t.admin('GET', '/admin/invoices?status=paid'), 400, 'invalid_value', 'status');
    expectApiError(await t.admin('GET', '/admin/invoices?limit=0'), 400, 'invalid_value', 'limit');
    expectApiError(await t.admin('GET', `/admin/invoices?after=${MISSING_UUID}`), 400, 'invalid_value', 'after');
    expectApiError(await t.admin('GET', '/admin/invoices?colour=red'), 400, 'unknown_parameter', 'colour');
    expectApiError(await t.admin('GET', `/admin/invoices?tenant_id=${MISSING_UUID}`), 404, 'not_found', 'tenant_id');
    expect((await http(t.baseUrl, 'GET', '/admin/invoices', { token: a.key })).status).toBe(401);
  });

  it("tenant: lists, reads and exports only its own invoices; another tenant's id is a 404", async () => {
    const list = await tenantGet(a.key, '/v1/invoices');
    expect(list.status).toBe(200);
    expect(list.body.data.map((i: any) => i.id)).toEqual([...invoicesOfA].reverse());
    expect(list.body.data.every((i: any) => i.tenant_id === a.tenantId)).toBe(true);

    const own = await tenantGet(a.key, `/v1/invoices/${invoicesOfA[3]}`);
    // April: 10 * 0.25 + 7 * 2 = 16.5 -> 0.0000165
    expect(own.body).toMatchObject({ id: invoicesOfA[3], status: 'ready', total: '0.0000165' });

    const pdf = await fetch(`${t.baseUrl}/v1/invoices/${invoicesOfA[2]}/export?format=pdf`, { headers: { authorization: `Bearer ${a.key}` } });
    expect(pdf.status).toBe(200);
    expect(pdf.headers.get('content-type')).toMatch(/^application\/pdf/);
    expect(Buffer.from(await pdf.arrayBuffer()).subarray(0, 5).toString('latin1')).toBe('%PDF-');
    const csv = await tenantGet(a.key, `/v1/invoices/${invoicesOfA[2]}/export?format=csv`);
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(csv.text).toContain('0.000305');

    expectApiError(await tenantGet(a.key, `/v1/invoices/${invoiceOfB}`), 404, 'not_found', null);
    expectApiError(await tenantGet(a.key, `/v1/invoices/${invoiceOfB}/export?format=pdf`), 404, 'not_found', null);
    expectApiError(await tenantGet(a.key, `/v1/invoices?after=${invoiceOfB}`), 400, 'invalid_value', 'after');
    expectApiError(await tenantGet(a.key, `/v1/invoices?tenant_id=${b.tenantId}`), 400, 'unknown_parameter', 'tenant_id');
    expectApiError(await tenantGet(a.key, `/v1/invoices/${invoicesOfA[0]}/export?format=xls`), 400, 'invalid_value', 'format');
    expect((await tenantGet(b.key, '/v1/invoices')).body.data.map((i: any) => i.id)).toEqual([invoiceOfB]);
    expect((await tenantGet('sk-nope', '/v1/invoices')).status).toBe(401);
  });

  it('the OpenAPI document has the new routes', async () => {
    const doc = (await http(t.baseUrl, 'GET', '/docs/openapi.json')).body;
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/admin/invoices', '/v1/invoices', '/v1/invoices/{id}', '/v1/invoices/{id}/export']));
    expect(doc.paths['/admin/invoices'].get.parameters.map((p: any) => p.name).sort()).toEqual(['after', 'limit', 'status', 'tenant_id']);
    expect(doc.paths['/v1/invoices'].get.parameters.map((p: any) => p.name).sort()).toEqual(['after', 'limit', 'status']);
  });

  it('tenant: no route to create or change an invoice', async () => {
    const post = await http(t.baseUrl, 'POST', '/v1/invoices', { token: a.key, body: { period_start: '2025-01-01T00:00:00Z', period_end: '2025-02-01T00:00:00Z' } });
    expect(post.status).toBe(404);
  });
});
