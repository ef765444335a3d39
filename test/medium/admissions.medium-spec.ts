import { ReservationsService } from '../../src/billing/reservations.service';
import { DomainError, ErrorCode } from '../../src/common/domain-error';
import { PgPool } from '../../src/prisma/pg-pool.service';
import { openDb } from '../support/db';
import { Medium, MediumTenant, newAdmission, startMedium } from '../support/medium';

const MODEL = `medium-admissions-${Date.now()}`;
const nextTick = () => new Promise((resolve) => setImmediate(resolve));

/**
 * Admissions on the real database while a tenant's row is held by another transaction (what a
 * charge or an earlier admission does until it commits): what arrives meanwhile waits in process
 * and goes in one statement, decided exactly as if each had come alone.
 */
describe('admissions while the tenant row is locked (medium)', () => {
  let m: Medium;
  let reservations: ReservationsService;
  let priceId: string;
  let holdStatements = 0;

  beforeAll(async () => {
    m = await startMedium();
    reservations = m.get(ReservationsService);
    priceId = await m.price(MODEL, { input_price: '1.00', output_price: '1.00', effective_from: '2020-01-01T00:00:00Z' });
    const pg = m.get(PgPool);
    const rows = pg.rows.bind(pg);
    pg.rows = ((name: string, sql: Parameters<PgPool['rows']>[1]) => {
      if (name === 'hold_admissions') holdStatements++;
      return rows(name, sql);
    }) as PgPool['rows'];
  });

  beforeEach(() => {
    holdStatements = 0;
  });

  afterAll(() => m?.close());

  const admit = (t: MediumTenant, amount: string) =>
    reservations.admit(newAdmission(t, { amount, model: MODEL, priceId, maxInputTokens: 1, maxOutputTokens: 1 })).then(
      () => 'held',
      (err: unknown) => (err instanceof DomainError ? err.code : String(err)),
    );

  /** Holds `t`'s row in a transaction on a connection of its own until the returned function commits it. */
  async function lockTenant(t: MediumTenant): Promise<() => Promise<void>> {
    const locker = await openDb(m.env.DATABASE_URL);
    await locker.query('BEGIN');
    await locker.query('SELECT 1 FROM tenants WHERE id = $1 FOR UPDATE', [t.tenantId]);
    return async () => {
      await locker.query('COMMIT');
      await locker.end();
    };
  }

  /** Until the first admission's statement is waiting on the row lock in Postgres. */
  async function waitForBlockedHold() {
    for (let i = 0; i < 200; i++) {
      const { rows } = await m.db.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%key_held AS%'`);
      if (rows[0].n > 0) return;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    throw new Error('the admission statement never waited on the row lock');
  }

  const reserved = async (t: MediumTenant) => (await m.db.query('SELECT trim_scale(reserved)::text AS r FROM tenants WHERE id = $1', [t.tenantId])).rows[0].r as string;

  /**
   * One admission of `first` while `t`'s row is locked, then five of `later`, each in a turn of its
   * own, while the first statement waits; then the lock goes. The six outcomes, in order.
   */
  async function admitWhileLocked(t: MediumTenant, first: string, later: string): Promise<string[]> {
    const unlock = await lockTenant(t);
    const outcomes = [admit(t, first)];
    await waitForBlockedHold();
    for (let i = 0; i < 5; i++) {
      outcomes.push(admit(t, later));
      await nextTick();
    }
    await unlock();
    return Promise.all(outcomes);
  }

  it('admissions of later turns wait for the running statement and go together in the next one', async () => {
    const t = await m.tenant('100');
    expect(await admitWhileLocked(t, '1', '2')).toEqual(['held', 'held', 'held', 'held', 'held', 'held']);
    expect(holdStatements).toBe(2);
    expect(await reserved(t)).toBe('11');
  });

  it('at the edge of the balance, those that waited together are decided one by one, in order', async () => {
    const t = await m.tenant('1');
    const refused = ErrorCode.InsufficientQuota;
    expect(await admitWhileLocked(t, '0.3', '0.3')).toEqual(['held', 'held', 'held', refused, refused, refused]);
    expect(await reserved(t)).toBe('0.9');
  });

  it("one tenant's locked row does not hold another tenant's admission", async () => {
    const a = await m.tenant('10');
    const b = await m.tenant('10');
    const unlock = await lockTenant(a);
    const blocked = admit(a, '1');
    await waitForBlockedHold();
    expect(await admit(b, '1')).toBe('held');
    await unlock();
    expect(await blocked).toBe('held');
  });
});
