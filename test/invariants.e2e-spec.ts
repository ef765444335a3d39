import type { Client } from 'pg';
import { ensureSeedModel, SEED_MODEL, startApp, TestApp } from './support/harness';
import { expectMoneyInvariants } from './support/invariants';
import { openDb } from './support/db';

/** The shared money checks pass on honest data and catch each kind of corruption. */
describe('test/support/invariants', () => {
  let t: TestApp;
  let db: Client;
  let tenantId: string;

  beforeAll(async () => {
    t = await startApp();
    await ensureSeedModel(t);
    db = await openDb();
    const tenant = await t.tenant('1');
    tenantId = tenant.tenantId;
    await t.openai(tenant.key).responses.create({ model: SEED_MODEL, input: 'count me' });
  });

  afterAll(async () => {
    await db?.end();
    await t?.close();
  });

  it('pass once the request is charged', async () => {
    await expectMoneyInvariants(db, [tenantId]);
  });

  it.each([
    ['balance_is_not_the_ledger', 'UPDATE tenants SET balance = balance + 1 WHERE id = $1', 'UPDATE tenants SET balance = balance - 1 WHERE id = $1'],
    ['reservations_held', 'UPDATE tenants SET reserved = reserved + 1 WHERE id = $1', 'UPDATE tenants SET reserved = reserved - 1 WHERE id = $1'],
    ['rollups_are_not_the_ledger', 'UPDATE usage_rollups SET cost = cost + 1 WHERE tenant_id = $1', 'UPDATE usage_rollups SET cost = cost - 1 WHERE tenant_id = $1'],
  ])('report %s', async (problem, corrupt, restore) => {
    await db.query(corrupt, [tenantId]);
    try {
      await expect(expectMoneyInvariants(db, [tenantId], 2_000)).rejects.toThrow(problem);
    } finally {
      await db.query(restore, [tenantId]);
    }
  });
});
