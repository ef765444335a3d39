import { DatabaseError } from 'pg';
import type { Client } from 'pg';
import { newUuid } from '../src/common/ids';
import { ensureSeedModel, SEED_MODEL, startApp, TestApp } from './support/harness';
import { waitFor } from './support/wait';
import { openDb } from './support/db';

const RESTRICT_VIOLATION = '23001';

describe('the ledger is append-only in the database itself', () => {
  let t: TestApp;
  let db: Client;
  let tenant: { tenantId: string; key: string; keyId: string };
  let chargedEventId: string;

  beforeAll(async () => {
    // No relay during the suite: an event inserted by hand must stay uncharged until deleted.
    t = await startApp({ CHARGE_RELAY_AFTER_MS: '600000' });
    await ensureSeedModel(t);
    db = await openDb();
    tenant = await t.tenant('100');
    const answer = await t.openai(tenant.key).responses.create({ model: SEED_MODEL, input: 'Hello, ledger.' });
    const charged = await waitFor('the charge', async () => {
      const { rows } = await db.query(
        `SELECT e.id FROM usage_events e JOIN ledger_entries l ON l.usage_event_id = e.id WHERE e.response_id = $1`,
        [answer.id],
      );
      return rows[0];
    });
    chargedEventId = charged.id;
  });

  afterAll(async () => {
    await db.end();
    await t.close();
  });

  /** Runs `sql` in a transaction that is always rolled back; returns the error it raised, if any. */
  async function attempt(sql: string, params: unknown[] = []): Promise<DatabaseError | undefined> {
    await db.query('BEGIN');
    try {
      await db.query(sql, params);
      return undefined;
    } catch (err) {
      return err as DatabaseError;
    } finally {
      await db.query('ROLLBACK');
    }
  }

  const ledgerOf = async (tenantId: string) =>
    (await db.query('SELECT kind, amount::text AS amount FROM ledger_entries WHERE tenant_id = $1 ORDER BY created_at, kind', [tenantId])).rows;

  it.each([
    ['UPDATE', 'UPDATE ledger_entries SET amount = 0 WHERE tenant_id = $1'],
    ['DELETE', 'DELETE FROM ledger_entries WHERE tenant_id = $1'],
  ])('refuses %s of ledger entries', async (op, sql) => {
    const before = await ledgerOf(tenant.tenantId);
    const err = await attempt(sql, [tenant.tenantId]);
    expect(err?.code).toBe(RESTRICT_VIOLATION);
    expect(err?.message).toBe(`ledger_entries is append-only: ${op} is not allowed`);
    expect(await ledgerOf(tenant.tenantId)).toEqual(before);
  });

  it('refuses TRUNCATE of the ledger, also through a cascade from usage events', async () => {
    for (const sql of ['TRUNCATE ledger_entries', 'TRUNCATE usage_events CASCADE']) {
      const err = await attempt(sql);
      expect(err?.code).toBe(RESTRICT_VIOLATION);
      expect(err?.message).toBe('ledger_entries is append-only: TRUNCATE is not allowed');
    }
  });

  it('refuses to delete a charged usage event, and its foreign key restricts deletes', async () => {
    const err = await attempt('DELETE FROM usage_events WHERE id = $1', [chargedEventId]);
    expect(err?.code).toBe(RESTRICT_VIOLATION);
    expect(err?.message).toBe(`usage event ${chargedEventId} has a ledger charge and cannot be deleted`);
    const { rows } = await db.query(
      `SELECT confdeltype FROM pg_constraint WHERE conname = 'ledger_entries_usage_event_id_fkey'`,
    );
    expect(rows).toEqual([{ confdeltype: 'r' }]);
  });

  it('lets an uncharged usage event be updated and deleted', async () => {
    const id = newUuid();
    await db.query(
      `INSERT INTO usage_events (id, tenant_id, api_key_id, response_id, model, input_tokens, cached_tokens, output_tokens, reasoning_tokens, requested_at)
       VALUES ($1, $2, $3, $4, $5, 10, 0, 0, 0, now())`,
      [id, tenant.tenantId, tenant.keyId, `resp_${id}`, SEED_MODEL],
    );
    await db.query('UPDATE usage_events SET output_tokens = 7 WHERE id = $1', [id]);
    const { rowCount } = await db.query('DELETE FROM usage_events WHERE id = $1', [id]);
    expect(rowCount).toBe(1);
  });

  it('still charges and credits: the balance is the sum of the ledger and the rollup has the charge', async () => {
    const credit = await t.admin('POST', `/admin/tenants/${tenant.tenantId}/credits`, { amount: '2.5', reference: 'top-up-1' });
    expect(credit.status).toBe(201);
    const entries = await ledgerOf(tenant.tenantId);
    expect(entries.map((e) => e.kind).sort()).toEqual(['charge', 'credit', 'credit']);
    const { rows } = await db.query(
      `SELECT t.balance::text AS balance, (SELECT sum(amount) FROM ledger_entries WHERE tenant_id = t.id)::text AS ledger,
              (SELECT -amount FROM ledger_entries WHERE usage_event_id = $2)::text AS charge,
              (SELECT sum(cost) FROM usage_rollups WHERE tenant_id = t.id)::text AS rolled_up
         FROM tenants t WHERE t.id = $1`,
      [tenant.tenantId, chargedEventId],
    );
    expect(rows[0].balance).toBe(rows[0].ledger);
    expect(rows[0].rolled_up).toBe(rows[0].charge);
  });
});
