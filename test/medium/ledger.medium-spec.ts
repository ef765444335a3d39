import { LedgerService } from '../../src/billing/ledger.service';
import { newUuid } from '../../src/common/ids';
import { balanceAfterMismatches, balanceLedgerMismatches } from '../support/invariants';
import { Medium, startMedium } from '../support/medium';
import { ErrorCode } from '../../src/common/errors';

/** LedgerService on the real database: credits, adjustments, references, balance_after, pages. */
describe('LedgerService (medium)', () => {
  let m: Medium;
  let ledger: LedgerService;

  beforeAll(async () => {
    m = await startMedium();
    ledger = m.get(LedgerService);
  });

  afterAll(() => m?.close());

  const entries = async (tenantId: string) =>
    (
      await m.db.query(
        `SELECT kind, amount::text AS amount, balance_after::text AS balance_after, reference FROM ledger_entries
          WHERE tenant_id = $1 ORDER BY created_at, id`,
        [tenantId],
      )
    ).rows;

  it('moves the balance and writes each entry with the running sum as balance_after', async () => {
    const { tenantId } = await m.tenant();
    // 0 + 5.00 = 5; 5 + 0.000000000000000001 = 5.000000000000000001; - 2.5 = 2.500000000000000001
    await expect(ledger.credit(tenantId, '5.00')).resolves.toMatchObject({ balance: '5', created: true });
    await expect(ledger.credit(tenantId, '0.000000000000000001')).resolves.toMatchObject({ balance: '5.000000000000000001' });
    await expect(ledger.credit(tenantId, '-2.5', null, 'adjustment')).resolves.toMatchObject({ balance: '2.500000000000000001' });
    const rows = await entries(tenantId);
    expect(rows.map((r) => [r.kind, r.balance_after])).toEqual([
      ['credit', '5.000000000000000000'],
      ['credit', '5.000000000000000001'],
      ['adjustment', '2.500000000000000001'],
    ]);
    await expect(ledger.balance(tenantId)).resolves.toBe('2.500000000000000001');
    expect(await balanceLedgerMismatches(m.db, [tenantId])).toEqual([]);
    expect(await balanceAfterMismatches(m.db, [tenantId])).toEqual([]);
  });

  it('a repeated reference writes nothing and answers with the first entry, also when requests race', async () => {
    const { tenantId } = await m.tenant();
    const first = await ledger.credit(tenantId, '3', 'payment-1');
    const again = await ledger.credit(tenantId, '3', 'payment-1');
    expect(again).toEqual({ balance: '3', entryId: first.entryId, created: false });
    const raced = await Promise.all(Array.from({ length: 8 }, () => ledger.credit(tenantId, '1', 'payment-2')));
    expect(raced.filter((r) => r.created)).toHaveLength(1);
    expect(new Set(raced.map((r) => r.entryId)).size).toBe(1);
    await expect(ledger.balance(tenantId)).resolves.toBe('4');
    expect((await entries(tenantId)).map((r) => r.reference)).toEqual(['payment-1', 'payment-2']);
  });

  it('concurrent credits keep balance = ledger and an unbroken balance_after chain', async () => {
    const { tenantId } = await m.tenant();
    await Promise.all(Array.from({ length: 20 }, (_, i) => ledger.credit(tenantId, `0.${String(i + 1).padStart(2, '0')}`)));
    // 0.01 + 0.02 + ... + 0.20 = 0.01 * (20 * 21 / 2) = 2.1
    await expect(ledger.balance(tenantId)).resolves.toBe('2.1');
    expect(await balanceLedgerMismatches(m.db, [tenantId])).toEqual([]);
    expect(await balanceAfterMismatches(m.db, [tenantId])).toEqual([]);
  });

  it('the chain check catches a balance_after that is the balance before the entry', async () => {
    const { tenantId } = await m.tenant('1');
    // The ledger is append-only: write the bad entry as a buggy writer would (balance 1 -> 3, balance_after 1).
    await m.db.query(`INSERT INTO ledger_entries (id, tenant_id, kind, amount, balance_after) VALUES (gen_random_uuid(), $1, 'adjustment', 2, 1)`, [tenantId]);
    await m.db.query('UPDATE tenants SET balance = balance + 2 WHERE id = $1', [tenantId]);
    expect(await balanceLedgerMismatches(m.db, [tenantId])).toEqual([]);
    expect(await balanceAfterMismatches(m.db, [tenantId])).toEqual([{ id: tenantId, unmatched: expect.arrayContaining([]) }]);
  });

  it.each(['0', '-1', '0.000', '1e3', 'abc', '', '0.0000000000000000001'])('refuses a credit of %j with param amount, writing nothing', async (amount) => {
    const { tenantId } = await m.tenant();
    await expect(ledger.credit(tenantId, amount)).rejects.toMatchObject({ code: ErrorCode.InvalidValue, param: 'amount' });
    expect(await entries(tenantId)).toEqual([]);
  });

  it('an adjustment may be negative but not zero', async () => {
    const { tenantId } = await m.tenant();
    await expect(ledger.credit(tenantId, '-1', null, 'adjustment')).resolves.toMatchObject({ balance: '-1' });
    await expect(ledger.credit(tenantId, '0', null, 'adjustment')).rejects.toMatchObject({ code: ErrorCode.InvalidValue, param: 'amount' });
  });

  it('a credit past the largest balance the ledger holds is a 400 on amount, and nothing moves', async () => {
    const { tenantId } = await m.tenant();
    await ledger.credit(tenantId, '99999999999999999999');
    await expect(ledger.credit(tenantId, '1')).rejects.toMatchObject({ code: ErrorCode.InvalidValue, param: 'amount' });
    await expect(ledger.balance(tenantId)).resolves.toBe('99999999999999999999');
    expect(await entries(tenantId)).toHaveLength(1);
  });

  it('an unknown or malformed tenant is a 404', async () => {
    for (const id of [newUuid(), 'nope']) {
      await expect(ledger.credit(id, '1')).rejects.toMatchObject({ code: ErrorCode.NotFound });
      await expect(ledger.balance(id)).rejects.toMatchObject({ code: ErrorCode.NotFound });
      await expect(ledger.listLedger(id)).rejects.toMatchObject({ code: ErrorCode.NotFound });
    }
  });

  it('pages the ledger oldest first with has_more, and validates limit and the cursor', async () => {
    const { tenantId } = await m.tenant();
    for (const amount of ['1', '2', '3', '4', '5']) await ledger.credit(tenantId, amount);
    const first = await ledger.listLedger(tenantId, { limit: 2 });
    expect(first.data.map((e) => e.amount.toFixed())).toEqual(['1', '2']);
    expect(first.hasMore).toBe(true);
    const rest = await ledger.listLedger(tenantId, { limit: 10, after: first.data[1].id });
    expect(rest.data.map((e) => e.amount.toFixed())).toEqual(['3', '4', '5']);
    expect(rest.hasMore).toBe(false);
    for (const limit of [0, 1001, 1.5]) await expect(ledger.listLedger(tenantId, { limit })).rejects.toMatchObject({ code: ErrorCode.InvalidValue, param: 'limit' });
    for (const after of ['nope', newUuid()]) await expect(ledger.listLedger(tenantId, { after })).rejects.toMatchObject({ code: ErrorCode.InvalidValue, param: 'after' });
  });
});
