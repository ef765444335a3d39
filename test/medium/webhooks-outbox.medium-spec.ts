import { newUuid } from '../../src/common/ids';
import { PrismaService } from '../../src/prisma/prisma.service';
import { chargeFailedEvent } from '../../src/webhooks/webhook-events';
import { emitWebhook, emitWebhookPg } from '../../src/webhooks/webhook-outbox';
import { Medium, MediumTenant, startMedium } from '../support/medium';

/** emitWebhook writes the event and its deliveries in the caller's transaction, or not at all. */
describe('webhook outbox (medium)', () => {
  let m: Medium;
  let prisma: PrismaService;
  let tenant: MediumTenant;
  let other: MediumTenant;
  const endpoints: Record<string, string> = {};

  beforeAll(async () => {
    m = await startMedium();
    prisma = m.get(PrismaService);
    tenant = await m.tenant();
    other = await m.tenant();
    const add = async (name: string, events: string[], tenantId: string | null) => {
      endpoints[name] = newUuid();
      await m.db.query('INSERT INTO webhook_endpoints (id, url, events, tenant_id, secret) VALUES ($1, $2, $3, $4, $5)', [
        endpoints[name],
        `https://example.com/${name}`,
        events,
        tenantId,
        'whsec_dGVzdA==',
      ]);
    };
    await add('tenant', ['charge.failed'], tenant.tenantId);
    await add('global', ['invoice.ready', 'charge.failed'], null);
    await add('otherTenant', ['charge.failed'], other.tenantId);
    await add('otherType', ['invoice.ready'], tenant.tenantId);
  });

  afterAll(() => m?.close());

  const event = () =>
    chargeFailedEvent({ tenant_id: tenant.tenantId, usage_event_id: newUuid(), response_id: `resp_${newUuid().replace(/-/g, '')}`, error: 'boom' });

  // Other suites of the run may leave endpoints for all tenants: the deliveries to this suite's own endpoints.
  const ours = async (deliveryIds: string[]) => {
    const { rows } = await m.db.query('SELECT endpoint_id::text AS e FROM webhook_deliveries WHERE id = ANY($1::uuid[])', [deliveryIds]);
    return rows.map((r) => r.e as string).filter((e) => Object.values(endpoints).includes(e)).sort();
  };
  const foreignGlobals = async () =>
    (
      await m.db.query(`SELECT count(*)::int AS n FROM webhook_endpoints WHERE tenant_id IS NULL AND 'charge.failed' = ANY(events) AND id <> $1`, [
        endpoints.global,
      ])
    ).rows[0].n as number;

  const stored = async (dedupKey: string) => {
    const { rows } = await m.db.query(
      `SELECT e.id, array_remove(array_agg(d.endpoint_id::text ORDER BY d.endpoint_id), NULL) AS endpoints
         FROM webhook_events e LEFT JOIN webhook_deliveries d ON d.event_id = e.id AND d.endpoint_id = ANY($2::uuid[])
        WHERE e.dedup_key = $1 GROUP BY e.id`,
      [dedupKey, Object.values(endpoints)],
    );
    return rows as Array<{ id: string; endpoints: string[] }>;
  };

  it('writes nothing when the Prisma transaction rolls back', async () => {
    const e = event();
    await expect(
      prisma.$transaction(async (tx) => {
        expect(await emitWebhook(tx, e)).toHaveLength(2 + (await foreignGlobals()));
        throw new Error('the causing change failed');
      }),
    ).rejects.toThrow('the causing change failed');
    expect(await stored(e.dedupKey)).toEqual([]);
  });

  it('writes nothing when the pg transaction rolls back', async () => {
    const e = event();
    const foreign = await foreignGlobals();
    await m.db.query('BEGIN');
    expect(await emitWebhookPg(m.db, e)).toHaveLength(2 + foreign);
    await m.db.query('ROLLBACK');
    expect(await stored(e.dedupKey)).toEqual([]);
  });

  it('on commit, writes the event once with one delivery per subscribed endpoint of its tenant or of all tenants', async () => {
    const e = event();
    const ids = await prisma.$transaction((tx) => emitWebhook(tx, e));
    const rows = await stored(e.dedupKey);
    expect(rows).toEqual([{ id: e.id, endpoints: [endpoints.tenant, endpoints.global].sort() }]);
    expect(await ours(ids)).toEqual([endpoints.tenant, endpoints.global].sort());
    const { rows: deliveries } = await m.db.query(`SELECT id::text, status::text, attempts FROM webhook_deliveries WHERE event_id = $1 ORDER BY id`, [e.id]);
    expect(deliveries.map((d) => d.id)).toEqual([...ids].sort());
    expect(deliveries.every((d) => d.status === 'pending' && d.attempts === 0)).toBe(true);
  });

  it('a second emit of the same cause (another process, a retry) writes no second event', async () => {
    const e = event();
    const again = { ...e, id: `${e.id}x` };
    const foreign = await foreignGlobals();
    await m.db.query('BEGIN');
    expect(await emitWebhookPg(m.db, e)).toHaveLength(2 + foreign);
    await m.db.query('COMMIT');
    expect(await prisma.$transaction((tx) => emitWebhook(tx, again))).toEqual([]);
    expect((await stored(e.dedupKey)).map((r) => r.id)).toEqual([e.id]);
  });
});
