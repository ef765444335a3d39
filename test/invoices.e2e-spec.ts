import { getQueueToken } from '@nestjs/bullmq';
import type { Queue } from 'bullmq';
import { parse } from 'csv-parse/sync';
import { createHash } from 'node:crypto';
import type { Client } from 'pg';
import { addAmounts, compareAmounts } from '../src/billing/money';
import { insertEvent as insertUsageEvent } from './support/events';
import { lineAmountAtPrice } from '../src/invoices/invoice-lines';
import { InvoicesService } from '../src/invoices/invoices.service';
import { ChargerService } from '../src/metering/charger.service';
import { MONTHLY_INVOICES_CRON, MONTHLY_INVOICES_SCHEDULER, QUEUES } from '../src/queues/queues';
import { ensureSeedModel, http, HttpResult, SEED_MODEL, startApp, TestApp } from './support/harness';
import { seedPrice } from './support/prices';
import { waitFor } from './support/wait';
import { openDb } from './support/db';

const MISSING_UUID = '00000000-0000-4000-8000-000000000000';


function expectApiError(res: HttpResult, status: number, code: string | null, param: string | null) {
  expect({ status: res.status, error: res.body?.error }).toMatchObject({ status, error: { code, param } });
  expect(typeof res.body.error.message).toBe('string');
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
}

type Usage = [input: number, cached: number, output: number, reasoning: number];

describe('invoices: POST /admin/invoices, the build job, exports, the monthly job', () => {
  let t: TestApp;
  let db: Client;
  const MODEL_A = `sim-inv-a-${Date.now()}`;
  const MODEL_B = `sim-inv-b-${Date.now()}`;
  // MODEL_A changes price on 2025-01-15: invoices show one set of lines per price version.
  const A1 = { input: '0.25', cachedInput: '0.025', output: '2' };
  const A2 = { input: '0.3', cachedInput: '0.07', output: '2.400000001' };
  const B = { input: '1.1', cachedInput: '0.11', output: '4.4' };

  beforeAll(async () => {
    t = await startApp();
    await ensureSeedModel(t);
    const put = (model: string, p: typeof A1, from: string) =>
      seedPrice(t.env.DATABASE_URL, model, { input_price: p.input, cached_input_price: p.cachedInput, output_price: p.output, effective_from: from }, t);
    await put(MODEL_A, A1, '2024-01-01T00:00:00Z');
    await put(MODEL_A, A2, '2025-01-15T00:00:00Z');
    await put(MODEL_B, B, '2024-01-01T00:00:00Z');
    db = await openDb();
  });

  afterAll(async () => {
    await db?.end();
    await t?.close();
  });

  const insertEvent = (tenant: { tenantId: string; keyId: string }, model: string, [input, cached, output, reasoning]: Usage, createdAt: string) =>
    insertUsageEvent(db, tenant, model, { input, cached, output, reasoning }, { requestedAt: createdAt });

  /** The ledger's own sum of the tenant's charges whose usage events were created in [from, to). */
  async function ledgerCharges(tenantId: string, from: string, to: string) {
    const { rows } = await db.query(
      `SELECT coalesce(sum(-l.amount), 0)::text AS total, count(*)::int AS n FROM ledger_entries l JOIN usage_events e ON e.id = l.usage_event_id
        WHERE l.kind = 'charge' AND e.tenant_id = $1 AND e.created_at >= $2::timestamptz AND e.created_at < $3::timestamptz`,
      [tenantId, from, to],
    );
    return { total: addAmounts(rows[0].total), charges: rows[0].n as number };
  }

  const createInvoice = (tenantId: string, start: string, end: string) =>
    t.admin('POST', '/admin/invoices', { tenant_id: tenantId, period_start: start, period_end: end });

  const waitReady = (id: string) =>
    waitFor(`invoice ${id}`, async () => {
      const res = await t.admin('GET', `/admin/invoices/${id}`);
      if (res.body.status === 'failed') throw new Error(`invoice failed: ${res.body.error}`);
      return res.body.status === 'ready' && res.body;
    });

  /** Every invariant an invoice keeps, against the ledger. */
  async function expectReconciles(invoice: any, tenantId: string, from: string, to: string) {
    const ledger = await ledgerCharges(tenantId, from, to);
    expect(invoice.total).toBe(ledger.total);
    expect(invoice.charges).toBe(ledger.charges);
    expect(addAmounts('0', ...invoice.lines.map((l: any) => l.amount))).toBe(invoice.total);
    for (const l of invoice.lines) {
      expect(typeof l.amount).toBe('string');
      expect(typeof l.unit_price).toBe('string');
      expect(Number.isSafeInteger(l.quantity)).toBe(true);
      expect(l.amount).toBe(lineAmountAtPrice(BigInt(l.quantity), l.unit_price));
    }
    // Displayed: the rounded lines plus the rounding line make the rounded total.
    const shown = addAmounts('0', ...invoice.lines.map((l: any) => l.amount_rounded), invoice.rounding_adjustment);
    expect(compareAmounts(shown, invoice.total_rounded)).toBe(0);
  }

  describe('a month of usage with a price change', () => {
    let tenant: { tenantId: string; key: string; keyId: string };
    const events: Array<[string, string, Usage]> = [
      ['2024-12-31T23:59:59.999Z', MODEL_A, [1000, 0, 10, 0]], // before the period
      ['2025-01-01T00:00:00.000Z', MODEL_A, [100, 20, 30, 10]],
      ['2025-01-10T12:29:59.999Z', MODEL_B, [777, 77, 55, 0]],
      ['2025-01-10T12:30:00.000Z', MODEL_A, [50, 0, 5, 5]],
      ['2025-01-14T23:59:59.999Z', MODEL_A, [3, 1, 4, 1]], // last at the old price
      ['2025-01-15T00:00:00.000Z', MODEL_A, [5, 9 - 4, 2, 0]], // first at the new price
      ['2025-01-20T06:15:00.000Z', MODEL_B, [123456, 100000, 6543, 2100]],
      ['2025-01-31T23:59:59.999Z', MODEL_A, [999, 0, 999, 333]],
      ['2025-02-01T00:00:00.000Z', MODEL_B, [1, 0, 1, 0]], // after the period
    ];

    beforeAll(async () => {
      tenant = await t.tenant('1000');
      const ids = [];
      for (const [at, model, u] of events) ids.push(await insertEvent(tenant, model, u, at));
      await t.app.get(ChargerService).chargeEvents(ids);
    });

    it('202 queued, then ready: total == the ledger charges of the period exactly; lines per (model, kind, price version) add up to it', async () => {
      const res = await createInvoice(tenant.tenantId, '2025-01-01T00:00:00Z', '2025-02-01T00:00:00Z');
      expect(res.status).toBe(202);
      expect(res.body).toMatchObject({ id: expect.any(String), status: 'queued' });
      const invoice = await waitReady(res.body.id);
      expect(invoice).toMatchObject({
        id: res.body.id,
        tenant_id: tenant.tenantId,
        period_start: '2025-01-01T00:00:00.000Z',
        period_end: '2025-02-01T00:00:00.000Z',
        status: 'ready',
      });
      await expectReconciles(invoice, tenant.tenantId, '2025-01-01T00:00:00Z', '2025-02-01T00:00:00Z');

      // The total, worked out by hand (per event: (input - cached) * input + cached * cached + output * output, / 1e6):
      //   A1 [100, 20, 30, 10]:  80 * 0.25 + 20 * 0.025 + 30 * 2          =    80.5
      //   B  [777, 77, 55, 0]:   700 * 1.1 + 77 * 0.11 + 55 * 4.4         =  1020.47
      //   A1 [50, 0, 5, 5]:      50 * 0.25 + 5 * 2                        =    22.5
      //   A1 [3, 1, 4, 1]:       2 * 0.25 + 1 * 0.025 + 4 * 2             =     8.525
      //   A2 [5, 5, 2, 0]:       5 * 0.07 + 2 * 2.400000001               =     5.150000002
      //   B  [123456, 100000, 6543, 2100]: 23456 * 1.1 + 100000 * 0.11 + 6543 * 4.4 = 65590.8
      //   A2 [999, 0, 999, 333]: 999 * 0.3 + 999 * 2.400000001            =  2697.300000999
      //   sum 69425.245001001 / 1e6 = 0.069425245001001
      const inPeriod = events.filter(([at]) => at >= '2025-01-01' && at < '2025-02-01');
      const total = '0.069425245001001';
      expect(invoice.total).toBe(total);
      expect(invoice.charges).toBe(inPeriod.length);
      const summary = invoice.lines.map((l: any) => `${l.model} ${l.kind} ${l.quantity} @${l.unit_price}`);
      expect(summary).toEqual([
        `${MODEL_A} input ${100 - 20 + 50 + 3 - 1} @0.25`,
        `${MODEL_A} cached_input ${20 + 1} @0.025`,
        `${MODEL_A} output ${30 - 10 + 0 + 3} @2`,
        `${MODEL_A} reasoning ${10 + 5 + 1} @2`,
        `${MODEL_A} input ${5 - 5 + 999} @0.3`,
        `${MODEL_A} cached_input 5 @0.07`,
        `${MODEL_A} output ${2 + 999 - 333} @2.400000001`,
        `${MODEL_A} reasoning 333 @2.400000001`,
        `${MODEL_B} input ${777 - 77 + 123456 - 100000} @1.1`,
        `${MODEL_B} cached_input ${77 + 100000} @0.11`,
        `${MODEL_B} output ${55 + 6543 - 2100} @4.4`,
        `${MODEL_B} reasoning 2100 @4.4`,
      ]);
      expect(invoice.total_rounded).toMatch(/^\d+\.\d{2}$/);
    });

    it('a period with partial hours at its edges reconciles too', async () => {
      const from = '2025-01-10T12:30:00.000Z';
      const to = '2025-01-20T06:15:00.001Z';
      const res = await createInvoice(tenant.tenantId, from, to);
      expect(res.status).toBe(202);
      const invoice = await waitReady(res.body.id);
      await expectReconciles(invoice, tenant.tenantId, from, to);
      expect(invoice.charges).toBe(4);
    });

    it('the same tenant and period give back the same invoice', async () => {
      const first = await createInvoice(tenant.tenantId, '2025-01-01T00:00:00Z', '2025-02-01T00:00:00Z');
      const again = await Promise.all([
        createInvoice(tenant.tenantId, '2025-01-01T00:00:00Z', '2025-02-01T00:00:00Z'),
        createInvoice(tenant.tenantId, '2025-01-01T00:00:00.000+00:00', '2025-02-01T00:00:00Z'),
      ]);
      for (const r of again) {
        expect(r.status).toBe(202);
        expect(r.body.id).toBe(first.body.id);
        expect(r.body.status).toBe('ready');
      }
      const { rows } = await db.query(
        `SELECT count(*)::int AS n FROM invoices WHERE tenant_id = $1 AND period_start = '2025-01-01T00:00:00Z' AND period_end = '2025-02-01T00:00:00Z'`,
        [tenant.tenantId],
      );
      expect(rows[0].n).toBe(1);
    });

    it('exports CSV, JSON and PDF with matching content types', async () => {
      const { body: created } = await createInvoice(tenant.tenantId, '2025-01-01T00:00:00Z', '2025-02-01T00:00:00Z');
      const invoice = await waitReady(created.id);

      const csv = await t.admin('GET', `/admin/invoices/${invoice.id}/export?format=csv`);
      expect(csv.status).toBe(200);
      expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
      expect(csv.headers.get('content-disposition')).toMatch(/attachment; filename="invoice-.*\.csv"/);
      const rows = parse(csv.text, { columns: true }) as Array<Record<string, string>>;
      const lines = rows.filter((r) => r.kind !== 'total' && r.kind !== 'rounding');
      expect(lines.map((r) => [r.model, r.kind, Number(r.quantity), r.unit_price, r.amount])).toEqual(
        invoice.lines.map((l: any) => [l.model, l.kind, l.quantity, l.unit_price, l.amount]),
      );
      const totalRow = rows.find((r) => r.kind === 'total')!;
      expect(totalRow.amount).toBe(invoice.total);
      expect(addAmounts('0', ...rows.filter((r) => r.kind !== 'total').map((r) => r.amount))).toBe(invoice.total);
      expect(compareAmounts(addAmounts('0', ...rows.filter((r) => r.kind !== 'total').map((r) => r.amount_rounded)), totalRow.amount_rounded)).toBe(0);

      const json = await t.admin('GET', `/admin/invoices/${invoice.id}/export?format=json`);
      expect(json.status).toBe(200);
      expect(json.headers.get('content-type')).toMatch(/^application\/json/);
      expect(json.body).toMatchObject({ ...invoice, tenant_name: expect.any(String) });

      const res = await fetch(`${t.baseUrl}/admin/invoices/${invoice.id}/export?format=pdf`, { headers: { authorization: `Bearer ${t.env.ADMIN_TOKEN}` } });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('application/pdf');
      const pdf = Buffer.from(await res.arrayBuffer());
      expect(pdf.subarray(0, 5).toString('latin1')).toBe('%PDF-');
      expect(pdf.length).toBeGreaterThan(1000);
      expect(pdf.subarray(-6).toString('latin1')).toMatch(/%%EOF/);

      expectApiError(await t.admin('GET', `/admin/invoices/${invoice.id}/export?format=xml`), 400, 'invalid_value', 'format');
    });
  });

  it('invoices live traffic (SDK requests) to the ledger exactly, and an empty period to zero', async () => {
    const tenant = await t.tenant('20');
    const sdk = t.openai(tenant.key);
    await sdk.responses.create({ model: SEED_MODEL, input: 'bill me' });
    await sdk.responses.create({ model: MODEL_B, input: 'bill me more', thinking: { type: 'enabled' } } as any);
    await waitFor('charges', async () => (await db.query('SELECT count(*)::int AS n FROM usage_events WHERE tenant_id = $1 AND charged_at IS NULL', [tenant.tenantId])).rows[0].n === 0);
    const from = new Date(Date.now() - 3_600_000).toISOString();
    const to = new Date(Date.now() + 1000).toISOString();
    const { body } = await createInvoice(tenant.tenantId, from, to);
    const invoice = await waitReady(body.id);
    await expectReconciles(invoice, tenant.tenantId, from, to);
    expect(invoice.charges).toBe(2);
    expect(invoice.lines.some((l: any) => l.model === MODEL_B && l.kind === 'reasoning')).toBe(true);

    const empty = await createInvoice(tenant.tenantId, '2020-01-01T00:00:00Z', '2020-02-01T00:00:00Z');
    const zero = await waitReady(empty.body.id);
    expect(zero).toMatchObject({ total: '0', lines: [], total_rounded: '0.00', charges: 0 });
  });

  it('waits while usage of the period is uncharged: queued, and its export is 409', async () => {
    const tenant = await t.tenant('5');
    const unpriced = `sim-inv-unpriced-${Date.now()}`;
    await t.admin('PUT', `/admin/models/${unpriced}`, { provider: 'simulated', input_price: '1', output_price: '1', effective_from: '2099-01-01T00:00:00Z' });
    const eventId = await insertEvent(tenant, unpriced, [10, 0, 10, 0], '2025-06-10T00:00:00Z');
    const res = await createInvoice(tenant.tenantId, '2025-06-01T00:00:00Z', '2025-07-01T00:00:00Z');
    expect(res.status).toBe(202);
    const waiting = await waitFor('the first attempt', async () => {
      const r = await t.admin('GET', `/admin/invoices/${res.body.id}`);
      return r.body.error && r.body;
    });
    expect(waiting).toMatchObject({ status: 'queued', lines: [], total: null });
    expect(waiting.error).toMatch(/uncharged/);
    expectApiError(await t.admin('GET', `/admin/invoices/${res.body.id}/export?format=pdf`), 409, 'invoice_not_ready', null);

    // The job gives up (here: at once); once the cause is fixed (a price in force, the event
    // charged), asking again rebuilds the same invoice.
    await t.app.get(InvoicesService).markFailed({ invoiceId: res.body.id, generation: 1 }, 'gave up (test)');
    expect((await t.admin('GET', `/admin/invoices/${res.body.id}`)).body).toMatchObject({ status: 'failed', error: 'gave up (test)' });
    await seedPrice(t.env.DATABASE_URL, unpriced, { input_price: '1', output_price: '1', effective_from: '2025-01-01T00:00:00Z' }, t);
    await t.app.get(ChargerService).chargeEvents([eventId]);
    const again = await createInvoice(tenant.tenantId, '2025-06-01T00:00:00Z', '2025-07-01T00:00:00Z');
    expect(again.status).toBe(202);
    expect(again.body).toMatchObject({ id: res.body.id, status: 'queued' });
    const ready = await waitReady(res.body.id);
    expect(ready).toMatchObject({ total: '0.00002', charges: 1, error: null });
    await expectReconciles(ready, tenant.tenantId, '2025-06-01T00:00:00Z', '2025-07-01T00:00:00Z');
  });

  describe('the monthly job', () => {
    it('is registered as a repeatable job on the 1st (UTC)', async () => {
      const queue = t.app.get<Queue>(getQueueToken(QUEUES.invoices));
      const scheduler = await waitFor('the job scheduler', () => queue.getJobScheduler(MONTHLY_INVOICES_SCHEDULER).then((s) => s ?? null));
      expect(scheduler).toMatchObject({ pattern: MONTHLY_INVOICES_CRON, tz: 'UTC' });
      expect(MONTHLY_INVOICES_CRON).toMatch(/^\d+ \d+ 1 \* \*$/);
    });

    it('issues last month\'s invoice for every active tenant, idempotently', async () => {
      const a = await t.tenant('100');
      const b = await t.tenant('100');
      const suspended = await t.tenant('100');
      await t.admin('PATCH', `/admin/tenants/${suspended.tenantId}`, { status: 'suspended' });
      // They "existed" in March 2024; all other tenants of this run were created later.
      await db.query(`UPDATE tenants SET created_at = '2024-02-15T00:00:00Z' WHERE id = ANY($1::uuid[])`, [[a.tenantId, b.tenantId, suspended.tenantId]]);
      const ids = [
        await insertEvent(a, MODEL_B, [100, 10, 10, 1], '2024-03-01T00:00:00Z'),
        await insertEvent(a, MODEL_B, [200, 0, 20, 0], '2024-03-31T23:59:59.999Z'),
        await insertEvent(a, MODEL_B, [300, 0, 30, 0], '2024-04-01T00:00:00Z'), // April: not in March's invoice
        await insertEvent(b, MODEL_A, [5, 0, 5, 0], '2024-03-15T12:00:00Z'),
      ];
      await t.app.get(ChargerService).chargeEvents(ids);

      const service = t.app.get(InvoicesService);
      const first = await service.issueMonthlyInvoices(new Date('2024-04-01T00:05:00Z'));
      expect(first).toMatchObject({ period_start: '2024-03-01T00:00:00.000Z', period_end: '2024-04-01T00:00:00.000Z' });
      expect(first.invoices.map((i) => i.tenant_id).sort()).toEqual([a.tenantId, b.tenantId].sort());
      expect(first.invoices.every((i) => i.created)).toBe(true);
      const again = await Promise.all([service.issueMonthlyInvoices(new Date('2024-04-01T00:05:00Z')), service.issueMonthlyInvoices(new Date('2024-04-30T23:00:00Z'))]);
      for (const run of again) {
        expect(run.invoices.map((i) => i.id).sort()).toEqual(first.invoices.map((i) => i.id).sort());
        expect(run.invoices.some((i) => i.created)).toBe(false);
      }
      for (const inv of first.invoices) {
        const ready = await waitReady(inv.id);
        await expectReconciles(ready, inv.tenant_id, '2024-03-01T00:00:00Z', '2024-04-01T00:00:00Z');
      }
      const ofA = first.invoices.find((i) => i.tenant_id === a.tenantId)!;
      expect((await t.admin('GET', `/admin/invoices/${ofA.id}`)).body.charges).toBe(2);
      // An admin asking for the same tenant and period gets the monthly invoice.
      const admin = await createInvoice(a.tenantId, '2024-03-01T00:00:00Z', '2024-04-01T00:00:00Z');
      expect(admin.body.id).toBe(ofA.id);
      const { rows } = await db.query(`SELECT count(*)::int AS n FROM invoices WHERE tenant_id = ANY($1::uuid[])`, [[a.tenantId, b.tenantId, suspended.tenantId]]);
      expect(rows[0].n).toBe(2);
    });
  });

  describe('bad input', () => {
    let tenantId: string;
    beforeAll(async () => {
      tenantId = (await t.tenant('1')).tenantId;
    });

    it.each([
      [{ period_start: '2025-02-01T00:00:00Z', period_end: '2025-01-01T00:00:00Z' }, 400, 'invalid_value', 'period_end'],
      [{ period_start: '2025-02-01T00:00:00Z', period_end: '2025-02-01T00:00:00Z' }, 400, 'invalid_value', 'period_end'],
      [{ period_start: 'last month', period_end: '2025-01-01T00:00:00Z' }, 400, 'invalid_value', 'period_start'],
      [{ period_start: '2025-01-01T00:00:00Z', period_end: 20250201 }, 400, 'invalid_value', 'period_end'],
      [{ period_start: '2025-01-01T00:00:00Z' }, 400, 'invalid_value', 'period_end'],
      [{ period_start: '2025-01-01T00:00:00Z', period_end: '2025-02-01T00:00:00Z', extra: 1 }, 400, 'unknown_parameter', 'extra'],
    ])('%j -> %i %s (param %s)', async (body, status, code, param) => {
      expectApiError(await t.admin('POST', '/admin/invoices', { tenant_id: tenantId, ...body }), status, code, param);
    });

    it('unknown tenant, unknown invoice: 404', async () => {
      const period = { period_start: '2025-01-01T00:00:00Z', period_end: '2025-02-01T00:00:00Z' };
      expectApiError(await t.admin('POST', '/admin/invoices', { tenant_id: MISSING_UUID, ...period }), 404, 'not_found', 'tenant_id');
      expectApiError(await t.admin('POST', '/admin/invoices', { tenant_id: 'nope', ...period }), 404, 'not_found', 'tenant_id');
      expectApiError(await t.admin('GET', `/admin/invoices/${MISSING_UUID}`), 404, 'not_found', null);
      expectApiError(await t.admin('GET', '/admin/invoices/not-an-id'), 404, 'not_found', null);
      expectApiError(await t.admin('GET', `/admin/invoices/${MISSING_UUID}/export?format=csv`), 404, 'not_found', null);
      expectApiError(await http(t.baseUrl, 'POST', '/admin/invoices', { body: { tenant_id: tenantId, ...period } }), 401, 'invalid_api_key', null);
    });
  });

  describe('the audit log', () => {
    const fingerprint = () => `admin:${createHash('sha256').update(t.env.ADMIN_TOKEN!).digest('hex').slice(0, 8)}`;
    const audit = (query = '') => t.admin('GET', `/admin/audit${query}`);

    it('records every admin action with who, what and when, and never a secret', async () => {
      // Everything after the newest entry so far is this test's.
      const marker = (await audit('?limit=1')).body.data[0]?.id;
      const tenant = await t.admin('POST', '/admin/tenants', { name: 'audited', credits: '3' });
      const key = await t.admin('POST', `/admin/tenants/${tenant.body.id}/api-keys`, { name: 'audited-key' });
      await t.admin('POST', `/admin/tenants/${tenant.body.id}/credits`, { amount: '2', reference: 'audit-ref' });
      await t.admin('PATCH', `/admin/tenants/${tenant.body.id}`, { status: 'suspended' });
      await t.admin('DELETE', `/admin/api-keys/${key.body.id}`);
      await t.admin('PUT', `/admin/models/${MODEL_A}`, { provider: 'simulated', input_price: '0.3', cached_input_price: '0.07', output_price: '2.400000001', effective_from: '2025-01-15T00:00:00Z' });
      await createInvoice(tenant.body.id, '2023-01-01T00:00:00Z', '2023-02-01T00:00:00Z');
      const refused = await t.admin('PATCH', `/admin/tenants/${tenant.body.id}`, { status: 'deleted' });
      expect(refused.status).toBe(400);

      const res = await audit('?limit=1000');
      expect(res.status).toBe(200);
      const upTo = res.body.data.findIndex((e: any) => e.id === marker);
      const mine = res.body.data.slice(0, upTo < 0 ? undefined : upTo);
      const actions = mine.map((e: any) => `${e.action} ${e.status}`).reverse();
      expect(actions).toEqual([
        'tenant.create 201',
        'api_key.create 201',
        'tenant.credit 201',
        'tenant.update 200',
        'api_key.revoke 200',
        'model.put 200',
        'invoice.create 202',
        'tenant.update 400',
      ]);
      for (const e of mine) {
        expect(e.actor).toBe(fingerprint());
        expect(e.created_at).toMatch(/^\d{4}-\d{2}-\d{2}T/);
        expect(e.id).toEqual(expect.any(String));
      }
      const byAction = (a: string) => mine.find((e: any) => e.action === a);
      expect(byAction('tenant.create').summary).toMatchObject({ name: 'audited', credits: '3' });
      expect(byAction('api_key.create')).toMatchObject({ target_type: 'api_key', summary: { tenant_id: tenant.body.id, name: 'audited-key', prefix: key.body.prefix } });
      expect(byAction('tenant.credit').summary).toMatchObject({ amount: '2', reference: 'audit-ref' });
      expect(byAction('invoice.create').summary).toMatchObject({ tenant_id: tenant.body.id, period_start: '2023-01-01T00:00:00Z', status: 'queued' });
      expect(mine.find((e: any) => e.status === 400).summary.error).toMatchObject({ status: 400, code: 'invalid_value' });

      // No secrets: neither the API key nor the admin token, anywhere in the log.
      const everything = JSON.stringify(res.body);
      expect(everything).not.toContain(key.body.key);
      expect(everything).not.toContain(t.env.ADMIN_TOKEN!);
      const { rows } = await db.query(`SELECT count(*)::int AS n FROM audit_log WHERE summary::text LIKE '%' || $1 || '%' OR summary::text LIKE '%' || $2 || '%'`, [
        key.body.key,
        t.env.ADMIN_TOKEN,
      ]);
      expect(rows[0].n).toBe(0);
      // Reads are not actions (a refused attempt to read is: it is a failed authentication).
      expect(res.body.data.some((e: any) => e.method === 'GET' && e.action !== 'admin.auth_failed')).toBe(false);
    });

    it('filters by action and pages newest first with after', async () => {
      for (let i = 0; i < 3; i++) await t.admin('POST', '/admin/tenants', { name: `paged-${i}` });
      const first = await audit('?action=tenant.create&limit=2');
      expect(first.body.data).toHaveLength(2);
      expect(first.body.has_more).toBe(true);
      expect(first.body.data.every((e: any) => e.action === 'tenant.create')).toBe(true);
      expect(first.body.data.map((e: any) => e.summary.name)).toEqual(['paged-2', 'paged-1']);
      const next = await audit(`?action=tenant.create&limit=2&after=${first.body.data[1].id}`);
      expect(next.body.data[0].summary.name).toBe('paged-0');
      expect(new Set([...first.body.data, ...next.body.data].map((e: any) => e.id)).size).toBe(4);
    });

    it('refuses bad paging parameters', async () => {
      expectApiError(await audit('?limit=0'), 400, 'invalid_value', 'limit');
      expectApiError(await audit('?limit=abc'), 400, 'invalid_value', 'limit');
      expectApiError(await audit(`?after=${MISSING_UUID}`), 400, 'invalid_value', 'after');
      expectApiError(await http(t.baseUrl, 'GET', '/admin/audit'), 401, 'invalid_api_key', null);
    });
  });
});
