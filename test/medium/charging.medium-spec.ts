import { Admission, ReservationsService } from '../../src/billing/reservations.service';
import { ChargerService } from '../../src/metering/charger.service';
import { OutboxWriter } from '../../src/metering/outbox-writer';
import { boundUsage } from '../../src/metering/usage-bounds';
import { insertEvent } from '../support/events';
import { expectMoneyInvariants } from '../support/invariants';
import { Medium, MediumTenant, newAdmission, startMedium } from '../support/medium';
import { ErrorCode } from '../../src/common/errors';

const MODEL = `medium-charge-${Date.now()}`;
// Prices per 1M tokens: input 0.25, cached input 0.025, output 2.00 (from 2020); 1.00 / 0.1 / 3.00 from 2030.
const OLD = { input_price: '0.25', cached_input_price: '0.025', output_price: '2.00', effective_from: '2020-01-01T00:00:00Z' };
const NEW = { input_price: '1.00', cached_input_price: '0.1', output_price: '3.00', effective_from: '2030-01-01T00:00:00Z' };

/** Admissions, withdrawals and charging on the real database: ReservationsService, OutboxWriter, ChargerService. */
describe('reservations and charging (medium)', () => {
  let m: Medium;
  let reservations: ReservationsService;
  let charger: ChargerService;
  let outbox: OutboxWriter;
  let oldPriceId: string;
  let newPriceId: string;

  beforeAll(async () => {
    m = await startMedium();
    reservations = m.get(ReservationsService);
    charger = m.get(ChargerService);
    outbox = m.get(OutboxWriter);
    oldPriceId = await m.price(MODEL, OLD);
    newPriceId = await m.price(MODEL, NEW);
  });

  afterAll(() => m?.close());

  const admission = (t: MediumTenant, amount: string, priceId = oldPriceId): Admission =>
    newAdmission(t, { amount, model: MODEL, priceId, maxInputTokens: 2000, maxOutputTokens: 500 });

  const tenantRow = async (tenantId: string) =>
    (await m.db.query('SELECT balance::text AS balance, reserved::text AS reserved FROM tenants WHERE id = $1', [tenantId])).rows[0];
  const charges = async (tenantId: string) =>
    (
      await m.db.query(
        `SELECT usage_event_id, amount::text AS amount, balance_after::text AS balance_after, price_id, input_cost::text AS input_cost,
                cached_input_cost::text AS cached_input_cost, output_cost::text AS output_cost, reasoning_cost::text AS reasoning_cost
           FROM ledger_entries WHERE tenant_id = $1 AND kind = 'charge' ORDER BY balance_after DESC`,
        [tenantId],
      )
    ).rows;

  it('charges a usage exactly as computed by hand, with its breakdown and balance_after', async () => {
    const t = await m.tenant('1');
    const id = await insertEvent(m.db, t, MODEL, { input: 1200, cached: 256, output: 300, reasoning: 120 }, { requestedAt: '2025-01-01T00:00:00Z' });
    await expect(charger.chargeEvents([id])).resolves.toEqual({ charged: [id], skipped: [] });
    // input (1200 - 256) * 0.25 / 1e6 = 0.000236; cached 256 * 0.025 / 1e6 = 0.0000064;
    // visible output (300 - 120) * 2 / 1e6 = 0.00036; reasoning 120 * 2 / 1e6 = 0.00024;
    // total 0.000236 + 0.0000064 + 0.00036 + 0.00024 = 0.0008424; balance 1 - 0.0008424 = 0.9991576
    expect(await charges(t.tenantId)).toEqual([
      {
        usage_event_id: id,
        amount: '-0.000842400000000000',
        balance_after: '0.999157600000000000',
        price_id: oldPriceId,
        input_cost: '0.000236000000000000',
        cached_input_cost: '0.000006400000000000',
        output_cost: '0.000360000000000000',
        reasoning_cost: '0.000240000000000000',
      },
    ]);
    expect((await tenantRow(t.tenantId)).balance).toBe('0.999157600000000000');
    await expectMoneyInvariants(m.db, [t.tenantId], 2_000);
  });

  it('keeps every digit of a charge: nothing is truncated or rounded', async () => {
    const t = await m.tenant('1');
    const id = await insertEvent(m.db, t, MODEL, { input: 1, output: 1 }, { requestedAt: '2025-01-01T00:00:00Z' });
    await charger.chargeEvents([id]);
    // 1 * 0.25 / 1e6 + 1 * 2 / 1e6 = 0.00000025 + 0.000002 = 0.00000225
    expect((await charges(t.tenantId))[0].amount).toBe('-0.000002250000000000');
  });

  it('charges a batch of one tenant in one call with each balance_after on the running sum', async () => {
    const t = await m.tenant('1');
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push(await insertEvent(m.db, t, MODEL, { input: 1000, output: 0 }, { requestedAt: '2025-01-01T00:00:00Z' }));
    await charger.chargeEvents(ids);
    // Each 1000 * 0.25 / 1e6 = 0.00025, written in event id order: 1 - 0.00025 = 0.99975, then 0.9995, then 0.99925.
    const afterByEvent = new Map((await charges(t.tenantId)).map((c) => [c.usage_event_id, c.balance_after]));
    expect([...ids].sort().map((id) => afterByEvent.get(id))).toEqual(['0.999750000000000000', '0.999500000000000000', '0.999250000000000000']);
    expect((await tenantRow(t.tenantId)).balance).toBe('0.999250000000000000');
    await expectMoneyInvariants(m.db, [t.tenantId], 2_000);
  });

  it("charges three tenants' interleaved events in one call, each tenant's balance_after on its own running sum", async () => {
    const tenants = [await m.tenant('1'), await m.tenant('2'), await m.tenant('3')];
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) ids.push(await insertEvent(m.db, tenants[i % 3], MODEL, { input: 1000 * (i + 1), output: 0 }, { requestedAt: '2025-01-01T00:00:00Z' }));
    await expect(charger.chargeEvents(ids)).resolves.toMatchObject({ charged: expect.arrayContaining(ids) });
    // Event i costs (i + 1) * 1000 * 0.25 / 1e6 = (i + 1) * 250 millionths; tenant k (opening k + 1) has events k and k + 3.
    const numeric = (millionths: number) => `${Math.floor(millionths / 1e6)}.${String(millionths % 1e6).padStart(6, '0')}000000000000`;
    for (const [k, t] of tenants.entries()) {
      const opening = (k + 1) * 1e6;
      // Within a tenant the entries go in event id order, each balance_after the balance right after it.
      const mine = [k, k + 3].map((i) => ({ id: ids[i], cost: (i + 1) * 250 })).sort((x, y) => (x.id < y.id ? -1 : 1));
      const afterByEvent = new Map((await charges(t.tenantId)).map((c) => [c.usage_event_id, c.balance_after]));
      expect(afterByEvent.get(mine[0].id)).toBe(numeric(opening - mine[0].cost));
      expect(afterByEvent.get(mine[1].id)).toBe(numeric(opening - mine[0].cost - mine[1].cost));
      expect((await tenantRow(t.tenantId)).balance).toBe(numeric(opening - mine[0].cost - mine[1].cost));
    }
    await expectMoneyInvariants(
      m.db,
      tenants.map((t) => t.tenantId),
      2_000,
    );
  });

  it('two batches over the same tenants in opposite orders both commit (no deadlock)', async () => {
    const [a, b] = [await m.tenant('1'), await m.tenant('1')];
    const forward: string[] = [];
    const backward: string[] = [];
    for (let i = 0; i < 4; i++) {
      forward.push(await insertEvent(m.db, i % 2 ? b : a, MODEL, { input: 100, output: 0 }, { requestedAt: '2025-01-01T00:00:00Z' }));
      backward.push(await insertEvent(m.db, i % 2 ? a : b, MODEL, { input: 100, output: 0 }, { requestedAt: '2025-01-01T00:00:00Z' }));
    }
    for (let round = 0; round < 5; round++) {
      const more = async (t: MediumTenant) => insertEvent(m.db, t, MODEL, { input: 100, output: 0 }, { requestedAt: '2025-01-01T00:00:00Z' });
      forward.push(await more(a), await more(b));
      backward.push(await more(b), await more(a));
    }
    const [f, r] = await Promise.all([charger.chargeEvents(forward), charger.chargeEvents(backward.reverse())]);
    expect(f.charged).toHaveLength(forward.length);
    expect(r.charged).toHaveLength(backward.length);
    // 14 events each at 100 * 0.25 / 1e6 = 0.000025.
    expect((await tenantRow(a.tenantId)).balance).toBe('0.999650000000000000');
    expect((await tenantRow(b.tenantId)).balance).toBe('0.999650000000000000');
    await expectMoneyInvariants(m.db, [a.tenantId, b.tenantId], 2_000);
  });

  it('charges an event once: a repeat, and concurrent charging of the same events, are no-ops', async () => {
    const t = await m.tenant('1');
    const ids = [];
    for (let i = 0; i < 4; i++) ids.push(await insertEvent(m.db, t, MODEL, { input: 100, output: 10 }, { requestedAt: '2025-01-01T00:00:00Z' }));
    const outcomes = await Promise.all([charger.chargeEvents(ids), charger.chargeEvents(ids), charger.chargeEvents([...ids].reverse())]);
    expect(outcomes.flatMap((o) => o.charged).sort()).toEqual([...ids].sort());
    await expect(charger.chargeEvents(ids)).resolves.toEqual({ charged: [], skipped: ids });
    // Each: 100 * 0.25 / 1e6 + 10 * 2 / 1e6 = 0.000025 + 0.00002 = 0.000045; four: 0.00018
    expect((await tenantRow(t.tenantId)).balance).toBe('0.999820000000000000');
    await expectMoneyInvariants(m.db, [t.tenantId], 2_000);
  });

  it('charges at the price version fixed at admission, not the one in force later', async () => {
    const t = await m.tenant('1');
    // Requested in 2031 (NEW in force) but admitted at OLD: 1,000,000 input tokens -> 0.25, not 1.00.
    const fixed = await insertEvent(m.db, t, MODEL, { input: 1_000_000, output: 0 }, { requestedAt: '2031-01-01T00:00:00Z', priceId: oldPriceId });
    const unfixed = await insertEvent(m.db, t, MODEL, { input: 1_000_000, output: 0 }, { requestedAt: '2031-01-01T00:00:00Z' });
    await charger.chargeEvents([fixed, unfixed]);
    const byEvent = new Map((await charges(t.tenantId)).map((c) => [c.usage_event_id, [c.amount, c.price_id]]));
    expect(byEvent.get(fixed)).toEqual(['-0.250000000000000000', oldPriceId]);
    expect(byEvent.get(unfixed)).toEqual(['-1.000000000000000000', newPriceId]);
  });

  it('leaves pending events alone and charges interrupted ones from their usage', async () => {
    const t = await m.tenant('1');
    const pending = await insertEvent(m.db, t, MODEL, { input: 10, output: 10 }, { requestedAt: '2025-01-01T00:00:00Z', state: 'pending' });
    const interrupted = await insertEvent(m.db, t, MODEL, { input: 10, output: 10 }, { requestedAt: '2025-01-01T00:00:00Z', state: 'interrupted' });
    await expect(charger.chargeEvents([pending, interrupted])).resolves.toEqual({ charged: [interrupted], skipped: [pending] });
    // 10 * 0.25 / 1e6 + 10 * 2 / 1e6 = 0.0000025 + 0.00002 = 0.0000225
    expect((await charges(t.tenantId)).map((c) => c.amount)).toEqual(['-0.000022500000000000']);
  });

  it('refuses to charge an event whose model has no price (never at zero), writing nothing', async () => {
    const t = await m.tenant('1');
    const id = await insertEvent(m.db, t, MODEL, { input: 10, output: 10 }, { requestedAt: '2019-01-01T00:00:00Z' });
    await expect(charger.chargeEvents([id])).rejects.toThrow(/No price in force/);
    expect(await charges(t.tenantId)).toEqual([]);
  });

  it('admits while the balance covers the holds, refuses with 429 insufficient_quota after, and never over-reserves', async () => {
    const t = await m.tenant('1');
    // 1 / 0.3 = 3.33: three of ten concurrent admissions fit.
    const results = await Promise.allSettled(Array.from({ length: 10 }, () => reservations.admit(admission(t, '0.3'))));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(3);
    for (const r of results.filter((x) => x.status === 'rejected')) {
      expect((r as PromiseRejectedResult).reason).toMatchObject({ code: ErrorCode.InsufficientQuota });
    }
    expect(await tenantRow(t.tenantId)).toEqual({ balance: '1.000000000000000000', reserved: '0.900000000000000000' });
    const { rows } = await m.db.query(`SELECT state, price_id, max_input_tokens, max_output_tokens FROM usage_events WHERE tenant_id = $1`, [t.tenantId]);
    expect(rows).toEqual(Array(3).fill({ state: 'pending', price_id: oldPriceId, max_input_tokens: 2000, max_output_tokens: 500 }));
  });

  it('a withdrawal removes the pending event and gives the hold back, once', async () => {
    const t = await m.tenant('1');
    const a = admission(t, '0.4');
    await reservations.admit(a);
    await reservations.withdraw(a.reservationId);
    await reservations.withdraw(a.reservationId);
    expect(await tenantRow(t.tenantId)).toEqual({ balance: '1.000000000000000000', reserved: '0.000000000000000000' });
    expect((await m.db.query('SELECT count(*)::int AS n FROM usage_events WHERE tenant_id = $1', [t.tenantId])).rows[0].n).toBe(0);
    await expectMoneyInvariants(m.db, [t.tenantId], 2_000);
  });

  it('admission -> finished usage held to its bounds -> charge: the hold ends with the charge, which never exceeds it', async () => {
    const t = await m.tenant('1');
    // Bounds 2000 in / 500 out at OLD: the hold 2000 * 0.25 / 1e6 + 500 * 2 / 1e6 = 0.0005 + 0.001 = 0.0015.
    const a = admission(t, '0.0015');
    await reservations.admit(a);
    // The provider reports far more than the bounds: billed 2000 in (100 cached) and 500 out (50 reasoning).
    const bounded = boundUsage({ inputTokens: 9000, cachedTokens: 100, outputTokens: 7000, reasoningTokens: 50 }, { inputTokens: 2000, outputTokens: 500 });
    await expect(outbox.write(null, { usageEventId: a.usageEventId, ...bounded })).resolves.toBe(true);
    await charger.chargeEvents([a.usageEventId]);
    // (2000 - 100) * 0.25 / 1e6 = 0.000475; 100 * 0.025 / 1e6 = 0.0000025; (500 - 50) * 2 / 1e6 = 0.0009;
    // 50 * 2 / 1e6 = 0.0001; total 0.0014775 <= the hold 0.0015
    expect((await charges(t.tenantId)).map((c) => c.amount)).toEqual(['-0.001477500000000000']);
    expect(await tenantRow(t.tenantId)).toEqual({ balance: '0.998522500000000000', reserved: '0.000000000000000000' });
    const { rows } = await m.db.query('SELECT overrun_input_tokens, overrun_output_tokens FROM usage_events WHERE id = $1', [a.usageEventId]);
    expect(rows[0]).toEqual({ overrun_input_tokens: 7000, overrun_output_tokens: 6500 });
    await expectMoneyInvariants(m.db, [t.tenantId], 2_000);
  });

  it('expired leases: an event with a checkpoint is interrupted (charged), one without is withdrawn', async () => {
    const t = await m.tenant('1');
    const withProgress = admission(t, '0.01');
    const without = admission(t, '0.02');
    await reservations.admit(withProgress);
    await reservations.admit(without);
    await m.db.query(
      `UPDATE usage_events SET lease_expires_at = now() - interval '1 second',
              checkpointed_at = CASE WHEN id = $1 THEN now() END, input_tokens = CASE WHEN id = $1 THEN 40 ELSE 0 END
        WHERE tenant_id = $2`,
      [withProgress.usageEventId, t.tenantId],
    );
    const interrupted = await reservations.settleExpiredLeases();
    expect(interrupted).toContain(withProgress.usageEventId);
    expect((await m.db.query('SELECT id FROM usage_events WHERE tenant_id = $1', [t.tenantId])).rows).toEqual([{ id: withProgress.usageEventId }]);
    await charger.chargeEvents(interrupted.filter((id) => id === withProgress.usageEventId));
    // 40 * 0.25 / 1e6 = 0.00001
    expect((await charges(t.tenantId)).map((c) => c.amount)).toEqual(['-0.000010000000000000']);
    expect(await tenantRow(t.tenantId)).toEqual({ balance: '0.999990000000000000', reserved: '0.000000000000000000' });
    await expectMoneyInvariants(m.db, [t.tenantId], 2_000);
  });
});
