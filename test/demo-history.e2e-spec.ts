import type { Client } from 'pg';
import { writeDemoHistory, HISTORY_DAYS } from '../src/demo-history';
import { PrismaService } from '../src/prisma/prisma.service';
import { openDb } from './support/db';
import { handCharge, sumAmounts } from './support/expected-charge';
import { ensureSeedModel, SEED_MODEL, startApp, TestApp } from './support/harness';
import { expectMoneyInvariants } from './support/invariants';

const DAY_MS = 86_400_000;
const utcDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

describe("the demo's usage history: real requests, back-dated before they are charged", () => {
  let db: Client;
  let full: TestApp | undefined;

  beforeAll(async () => {
    db = await openDb();
  });

  afterAll(async () => {
    await full?.close();
    await db?.end();
  });

  it('lands on each of the previous days, and ledger, rollups and reports agree to the last digit', async () => {
    // An API-only instance, as the demo uses: nothing charges the requests while they are moved back.
    const api = await startApp({ ROLE: 'api' });
    let tenant: { tenantId: string; key: string; keyId: string };
    let made: number;
    try {
      await ensureSeedModel(api);
      tenant = await api.tenant('5');
      made = await writeDemoHistory(api.baseUrl, tenant.key, [SEED_MODEL], api.app.get(PrismaService));
    } finally {
      await api.close();
    }
    const { rows: events } = await db.query(
      `SELECT to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day, charged_at, input_tokens, cached_tokens, output_tokens, reasoning_tokens
         FROM usage_events WHERE tenant_id = $1`,
      [tenant.tenantId],
    );
    expect(events).toHaveLength(made);
    expect(events.every((e) => e.charged_at === null)).toBe(true);
    const today = Date.now() - (Date.now() % DAY_MS);
    const expectedDays = Array.from({ length: HISTORY_DAYS }, (_, i) => utcDay(today - (HISTORY_DAYS - i) * DAY_MS));
    expect([...new Set(events.map((e) => e.day))].sort()).toEqual(expectedDays);

    // The full instance's worker charges the jobs the API instance queued.
    full = await startApp();
    await expectMoneyInvariants(db, [tenant.tenantId]);
    const report = await full.admin('GET', `/admin/usage?tenant_id=${tenant.tenantId}&group_by=day`);
    expect(report.body.data.map((r: any) => r.day)).toEqual(expectedDays);
    const seedPrice = { input: '0.25', cachedInput: '0.025', output: '2' };
    for (const day of expectedDays) {
      const ofDay = events.filter((e) => e.day === day);
      const expected = sumAmounts(
        ofDay.map((e) => handCharge({ input: e.input_tokens, cached: e.cached_tokens, output: e.output_tokens, reasoning: e.reasoning_tokens }, seedPrice).total),
      );
      const row = report.body.data.find((r: any) => r.day === day);
      expect({ day, requests: row.requests, cost: sumAmounts([row.cost]) }).toEqual({ day, requests: ofDay.length, cost: expected });
    }
    const { rows: ledger } = await db.query(`SELECT coalesce(sum(-amount), 0)::text AS charged FROM ledger_entries WHERE tenant_id = $1 AND kind = 'charge'`, [tenant.tenantId]);
    expect(sumAmounts([report.body.totals.cost])).toBe(sumAmounts([ledger[0].charged]));
  }, 60_000);
});
