import { compareAmounts } from '../../src/billing/money';
import { InvoicesService } from '../../src/invoices/invoices.service';
import { ChargerService } from '../../src/metering/charger.service';
import { ReportsService } from '../../src/reports/reports.service';
import type { GroupBy } from '../../src/reports/usage-query';
import { insertEvent } from '../support/events';
import { expectMoneyInvariants } from '../support/invariants';
import { Medium, MediumTenant, startMedium } from '../support/medium';

const MODEL = `medium-report-${Date.now()}`;
const PRICE = { input_price: '0.25', cached_input_price: '0.025', output_price: '2.00', effective_from: '2020-01-01T00:00:00Z' };
// Added after the traffic was charged: reports and invoices must keep showing what was charged.
const LATER_PRICE = { input_price: '1.00', cached_input_price: '0.1', output_price: '3.00', effective_from: '2025-06-01T00:00:00Z' };

/** ReportsService and InvoicesService on the real database: both always equal the ledger. */
describe('reports and invoices (medium)', () => {
  let m: Medium;
  let reports: ReportsService;
  let invoices: InvoicesService;
  let tenant: MediumTenant;

  beforeAll(async () => {
    m = await startMedium();
    reports = m.get(ReportsService);
    invoices = m.get(InvoicesService);
    await m.price(MODEL, PRICE);
    tenant = await m.tenant('1');
    const events = [
      // (1200 - 256) * 0.25 / 1e6 + 256 * 0.025 / 1e6 + (300 - 120) * 2 / 1e6 + 120 * 2 / 1e6
      //   = 0.000236 + 0.0000064 + 0.00036 + 0.00024 = 0.0008424
      await insertEvent(m.db, tenant, MODEL, { input: 1200, cached: 256, output: 300, reasoning: 120 }, { requestedAt: '2025-03-01T10:15:00Z' }),
      // 1000 * 0.25 / 1e6 = 0.00025
      await insertEvent(m.db, tenant, MODEL, { input: 1000, output: 0 }, { requestedAt: '2025-03-01T11:30:00Z' }),
      // 2000 * 0.25 / 1e6 + 500 * 2 / 1e6 = 0.0005 + 0.001 = 0.0015
      await insertEvent(m.db, tenant, MODEL, { input: 2000, output: 500 }, { requestedAt: '2025-03-02T00:00:00Z' }),
    ];
    await m.get(ChargerService).chargeEvents(events);
  });

  afterAll(() => m?.close());

  /** The ledger's own sum of the tenant's charges for usage created in [from, to). */
  async function ledgerCharges(from: string, to: string) {
    const { rows } = await m.db.query(
      `SELECT coalesce(sum(-l.amount), 0)::text AS total FROM ledger_entries l JOIN usage_events e ON e.id = l.usage_event_id
        WHERE l.kind = 'charge' AND e.tenant_id = $1 AND e.created_at >= $2::timestamptz AND e.created_at < $3::timestamptz`,
      [tenant.tenantId, from, to],
    );
    return rows[0].total as string;
  }

  const report = (from: string, to: string, groupBy: GroupBy[] = []) =>
    reports.usage({ tenantId: tenant.tenantId, from: new Date(from), to: new Date(to), groupBy, format: 'json' });

  // Whole month (rollups only); from inside an hour (raw events, then rollups); to inside an hour.
  const RANGES: Array<[string, string, string]> = [
    ['2025-03-01T00:00:00Z', '2025-04-01T00:00:00Z', '0.0025924'], // 0.0008424 + 0.00025 + 0.0015
    ['2025-03-01T10:20:00Z', '2025-03-02T00:00:00Z', '0.00025'], // only the 11:30 event
    ['2025-03-01T10:00:00Z', '2025-03-01T11:45:00Z', '0.0010924'], // 0.0008424 + 0.00025
  ];

  /** invoicePeriod: a period not invoiced before, so the invoice is built now. */
  function expectReportsEqualTheLedger(invoicePeriod: [string, string, string, number]) {
    it.each(RANGES)('the report for [%s, %s) costs %s, the ledger sum', async (from, to, cost) => {
      const r = await report(from, to);
      expect(r.totals.cost).toBe(cost);
      expect(compareAmounts(r.totals.cost, await ledgerCharges(from, to))).toBe(0);
    });

    it('grouped by day and model, the rows add up to the ledger', async () => {
      const r = await report(RANGES[0][0], RANGES[0][1], ['day', 'model']);
      expect(r.data.map((row) => [row.day, row.model, row.requests, row.cost])).toEqual([
        ['2025-03-01', MODEL, 2, '0.0010924'],
        ['2025-03-02', MODEL, 1, '0.0015'],
      ]);
    });

    it(`an invoice for [${invoicePeriod[0]}, ${invoicePeriod[1]}) totals the ledger, ${invoicePeriod[2]}, and its lines add up to it`, async () => {
      const [start, end, total, charges] = invoicePeriod;
      const { invoice } = await invoices.request(tenant.tenantId, { start: new Date(start), end: new Date(end) });
      const current = await m.db.query('SELECT generation, status FROM invoices WHERE id = $1', [invoice.id]);
      expect(current.rows[0].status).toBe('queued');
      await invoices.build({ invoiceId: invoice.id, generation: current.rows[0].generation });
      const built = await invoices.find(invoice.id);
      expect(built.status).toBe('ready');
      expect(built.total?.toFixed()).toBe(total);
      expect(compareAmounts(total, await ledgerCharges(start, end))).toBe(0);
      expect(built.charges).toBe(charges);
      const lines = await m.db.query('SELECT coalesce(sum(amount), 0)::text AS sum FROM invoice_lines WHERE invoice_id = $1', [invoice.id]);
      expect(compareAmounts(lines.rows[0].sum, total)).toBe(0);
    });
  }

  describe('at the price the traffic was charged at', () => {
    expectReportsEqualTheLedger(['2025-03-01T00:00:00Z', '2025-04-01T00:00:00Z', '0.0025924', 3]);
    it('the money invariants hold', () => expectMoneyInvariants(m.db, [tenant.tenantId], 2_000));
  });

  describe('after a new price version is added', () => {
    beforeAll(() => m.price(MODEL, LATER_PRICE));
    // 0.0008424 + 0.00025: the 2025-03-02T00:00 event is outside the period.
    expectReportsEqualTheLedger(['2025-03-01T00:00:00Z', '2025-03-02T00:00:00Z', '0.0010924', 2]);
  });
});
