import { Clock } from '../../src/billing/clock';
import { Admission, ReservationsService } from '../../src/billing/reservations.service';
import { SpendAlerts } from '../../src/billing/spend-alerts';
import type { BudgetPeriod } from '../../src/billing/budget-period';
import { ChargerService } from '../../src/metering/charger.service';
import { OutboxWriter } from '../../src/metering/outbox-writer';
import { boundUsage } from '../../src/metering/usage-bounds';
import { expectMoneyInvariants } from '../support/invariants';
import { Medium, MediumTenant, newAdmission, startMedium } from '../support/medium';
import { toApiError } from '../../src/common/openai-error.filter';

const MODEL = `medium-budget-${Date.now()}`;

/** A clock the test sets; the services read budget periods from it. */
class TestClock extends Clock {
  at = new Date();
  override now() {
    return new Date(this.at);
  }
}

/** Key budgets on the real database: holds per UTC period, refusals, roll-over with the injected clock, charges into spent. */
describe('key budgets (medium)', () => {
  let m: Medium;
  let reservations: ReservationsService;
  let charger: ChargerService;
  let outbox: OutboxWriter;
  let priceId: string;
  const clock = new TestClock();

  beforeAll(async () => {
    m = await startMedium([{ provide: Clock, useValue: clock }]);
    reservations = m.get(ReservationsService);
    charger = m.get(ChargerService);
    outbox = m.get(OutboxWriter);
    priceId = await m.price(MODEL, { input_price: '1.00', output_price: '1.00', effective_from: '2020-01-01T00:00:00Z' });
  });

  afterAll(() => m?.close());

  const withBudget = async (limit: string, period: BudgetPeriod, credits = '100') => {
    const t = await m.tenant(credits);
    await m.db.query('UPDATE api_keys SET budget_limit = $2, budget_period = $3 WHERE id = $1', [t.keyId, limit, period]);
    return t;
  };

  const admission = (t: MediumTenant, amount: string, period: BudgetPeriod): Admission =>
    newAdmission(t, {
      amount,
      model: MODEL,
      priceId,
      // 1M tokens at 1.00 per 1M: the bounds cost exactly 1 per million tokens.
      maxInputTokens: 1_000_000,
      maxOutputTokens: 1_000_000,
      requestedAt: clock.now(),
      budget: { period },
    });

  const spend = async (keyId: string) =>
    (
      await m.db.query(
        `SELECT to_char(period_start AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS') AS period_start, spent::text AS spent, reserved::text AS reserved
           FROM key_spend WHERE api_key_id = $1 ORDER BY period_start`,
        [keyId],
      )
    ).rows;

  /** n micro-dollars ("0.000004"). */
  const micro = (n: number) => `0.${String(n).padStart(6, '0')}`;

  // As clients see it: the domain error through the exception filter's mapping.
  const refusal = (p: Promise<unknown>) => p.then(() => null, (err: unknown) => toApiError(err));

  it.each([
    // period, the last millisecond of a period, the first of the next, that period's start (UTC)
    ['day', '2026-12-02T23:59:59.999Z', '2026-12-03T00:00:00.000Z', '2026-12-02T00:00:00'],
    // 2026-12-06 is a Sunday: the week of Monday 2026-11-30 ends with it.
    ['week', '2026-12-06T23:59:59.999Z', '2026-12-07T00:00:00.000Z', '2026-11-30T00:00:00'],
    ['month', '2026-12-31T23:59:59.999Z', '2027-01-01T00:00:00.000Z', '2026-12-01T00:00:00'],
  ] as const)('a %s budget refuses with retry-after to the reset, and rolls over at the UTC boundary', async (period, last, next, start) => {
    const t = await withBudget('1.00', period);
    clock.at = new Date(last);
    await reservations.admit(admission(t, '0.6', period));
    const refused = await refusal(reservations.admit(admission(t, '0.6', period)));
    expect(refused).toMatchObject({ status: 429, type: 'insufficient_quota', code: 'budget_exceeded' });
    // 1 ms before the reset: rounded up to one second.
    expect(refused!.headers).toEqual({ 'x-should-retry': 'false', 'retry-after': '1' });
    // What is left (0.4) admits a request of exactly that much (<=).
    await reservations.admit(admission(t, '0.4', period));
    clock.at = new Date(next);
    await reservations.admit(admission(t, '0.6', period));
    const nextStart = next.slice(0, 19);
    expect(await spend(t.keyId)).toEqual([
      { period_start: start, spent: '0.000000000000000000', reserved: '1.000000000000000000' },
      { period_start: nextStart, spent: '0.000000000000000000', reserved: '0.600000000000000000' },
    ]);
  });

  it('a week starts on Monday: Monday to Sunday is one period', async () => {
    const t = await withBudget('1.00', 'week');
    clock.at = new Date('2026-11-30T00:00:00.000Z');
    await reservations.admit(admission(t, '1', 'week'));
    clock.at = new Date('2026-12-06T12:00:00.000Z');
    const refused = await refusal(reservations.admit(admission(t, '0.01', 'week')));
    expect(refused).toMatchObject({ code: 'budget_exceeded', headers: { 'retry-after': String(12 * 3600) } });
  });

  it('a total budget never rolls over and gives no retry-after', async () => {
    const t = await withBudget('1.00', 'total');
    clock.at = new Date('2026-12-02T10:00:00.000Z');
    await reservations.admit(admission(t, '1', 'total'));
    clock.at = new Date('2036-12-02T10:00:00.000Z');
    const refused = await refusal(reservations.admit(admission(t, '0.000000000000000001', 'total')));
    expect(refused).toMatchObject({ status: 429, code: 'budget_exceeded', headers: { 'x-should-retry': 'false' } });
    expect(refused!.headers['retry-after']).toBeUndefined();
    expect(await spend(t.keyId)).toEqual([{ period_start: '1970-01-01T00:00:00', spent: '0.000000000000000000', reserved: '1.000000000000000000' }]);
  });

  it('a refusal by the balance leaves the budget as it was (the statement undoes its budget hold)', async () => {
    const t = await withBudget('10.00', 'day', '0.5');
    clock.at = new Date('2026-12-02T10:00:00.000Z');
    const refused = await refusal(reservations.admit(admission(t, '0.6', 'day')));
    expect(refused).toMatchObject({ status: 429, code: 'insufficient_quota' });
    expect((await spend(t.keyId)).map((r) => r.reserved)).not.toContain('0.600000000000000000');
    expect((await m.db.query('SELECT reserved::text AS r FROM tenants WHERE id = $1', [t.tenantId])).rows[0].r).toBe('0.000000000000000000');
  });

  it('concurrent admissions never hold more than the budget', async () => {
    const t = await withBudget('1.00', 'day');
    clock.at = new Date('2026-12-02T10:00:00.000Z');
    const results = await Promise.allSettled(Array.from({ length: 20 }, () => reservations.admit(admission(t, '0.3', 'day'))));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(3);
    expect(await spend(t.keyId)).toEqual([{ period_start: '2026-12-02T00:00:00', spent: '0.000000000000000000', reserved: '0.900000000000000000' }]);
  });

  it('a charge moves its hold into the period spend exactly (in the period of its admission), a withdrawal gives it back, and 80% / 100% are reported once', async () => {
    const alerts = jest.spyOn(m.get(SpendAlerts), 'budgetThreshold');
    const t = await withBudget('0.000010', 'day');
    clock.at = new Date('2026-12-02T23:59:59.000Z');
    // Bounds 6 + 4 tokens at 1.00 per 1M: a hold of 0.00001 each.
    const bounds = { maxInputTokens: 6, maxOutputTokens: 4 };
    const a = { ...admission(t, '0.00001', 'day'), ...bounds };
    await reservations.admit(a);
    // The next day starts before it is charged: the charge still counts in the day it was admitted in.
    clock.at = new Date('2026-12-03T00:00:01.000Z');
    const b = { ...admission(t, '0.00001', 'day'), ...bounds };
    await reservations.admit(b);
    await reservations.withdraw(b.reservationId);
    // 5 input + 3 output tokens: 8 * 1.00 / 1e6 = 0.000008 (80% of 0.00001).
    const usage = boundUsage({ inputTokens: 5, cachedTokens: 0, outputTokens: 3, reasoningTokens: 0 }, { inputTokens: 6, outputTokens: 4 });
    await outbox.write(null, { usageEventId: a.usageEventId, ...usage });
    await charger.chargeEvents([a.usageEventId]);
    expect(await spend(t.keyId)).toEqual([
      { period_start: '2026-12-02T00:00:00', spent: '0.000008000000000000', reserved: '0.000000000000000000' },
      { period_start: '2026-12-03T00:00:00', spent: '0.000000000000000000', reserved: '0.000000000000000000' },
    ]);
    const reached = alerts.mock.calls.flatMap(([, facts]) => facts).filter((f) => f.apiKeyId === t.keyId);
    expect(reached).toEqual([
      {
        tenantId: t.tenantId,
        apiKeyId: t.keyId,
        percent: 80,
        limit: '0.00001',
        spent: '0.000008',
        periodStart: new Date('2026-12-02T00:00:00.000Z'),
        resetsAt: new Date('2026-12-03T00:00:00.000Z'),
      },
    ]);
    // Back in the first day: a hold of 2 tokens (0.000002) fits exactly; charged in full it reaches 100%, 80% is not reported again.
    clock.at = new Date('2026-12-02T23:59:59.500Z');
    const c = { ...admission(t, '0.000002', 'day'), maxInputTokens: 1, maxOutputTokens: 1 };
    await reservations.admit(c);
    await outbox.write(null, { usageEventId: c.usageEventId, ...boundUsage({ inputTokens: 1, cachedTokens: 0, outputTokens: 1, reasoningTokens: 0 }, { inputTokens: 1, outputTokens: 1 }) });
    await charger.chargeEvents([c.usageEventId]);
    const after = alerts.mock.calls.flatMap(([, facts]) => facts).filter((f) => f.apiKeyId === t.keyId);
    expect(after.map((f) => [f.percent, f.spent])).toEqual([
      [80, '0.000008'],
      [100, '0.00001'],
    ]);
    await expectMoneyInvariants(m.db, [t.tenantId], 2_000);
    alerts.mockRestore();
  });

  it('a charge taking the available balance (credit limit included) below low_balance_threshold is reported once, and a postpaid balance may go below zero', async () => {
    const alerts = jest.spyOn(m.get(SpendAlerts), 'lowBalance');
    const t = await m.tenant('0.000010');
    await m.db.query('UPDATE tenants SET low_balance_threshold = $2, credit_limit = $3 WHERE id = $1', [t.tenantId, '0.000007', '0.00001']);
    clock.at = new Date('2026-12-02T10:00:00.000Z');
    const charge = async (tokens: number) => {
      const a = { ...admission(t, micro(tokens), 'day'), budget: null, maxInputTokens: tokens, maxOutputTokens: 0 };
      await reservations.admit(a);
      await outbox.write(null, { usageEventId: a.usageEventId, ...boundUsage({ inputTokens: tokens, cachedTokens: 0, outputTokens: 0, reasoningTokens: 0 }, { inputTokens: tokens, outputTokens: 0 }) });
      await charger.chargeEvents([a.usageEventId]);
    };
    // Balance 10 -> 6 -> 3 -> -4 micro-dollars; with the limit of 10, available 20 -> 16 -> 13 -> 6: only the last crosses 7.
    await charge(4);
    await charge(3);
    await charge(7);
    const facts = alerts.mock.calls.flatMap(([, f]) => f).filter((f) => f.tenantId === t.tenantId);
    expect(facts).toEqual([{ tenantId: t.tenantId, balance: '-0.000004', available: '0.000006', threshold: '0.000007', crossingId: expect.any(String) }]);
    expect((await m.db.query('SELECT balance::text AS b FROM tenants WHERE id = $1', [t.tenantId])).rows[0].b).toBe('-0.000004000000000000');
    // 4 below zero with a limit of 10: a hold of 7 does not fit, 6 does.
    expect(await refusal(reservations.admit({ ...admission(t, micro(7), 'day'), budget: null }))).toMatchObject({ status: 429, code: 'insufficient_quota' });
    await reservations.admit({ ...admission(t, micro(6), 'day'), budget: null });
    alerts.mockRestore();
  });
});
