import type { Client } from 'pg';
import { Webhook } from 'standardwebhooks';
import { openDb } from './support/db';
import { http } from './support/harness';
import { ensureBuilt, isolatedServices, Service, spawnService, stopService } from './support/processes';
import { waitFor } from './support/wait';
import { WebhookReceiver } from './support/webhook-receiver';

/** Two API processes and two workers on one database and one Redis: every event is delivered exactly once. */
describe('webhooks scale-out: two API processes and two workers', () => {
  const services = isolatedServices('webhooks');
  const running: Service[] = [];
  let db: Client;
  // Every third request fails, so deliveries are retried (by whichever worker takes the job).
  const receiver = new WebhookReceiver((n) => (n % 3 === 0 ? 503 : 200));

  beforeAll(async () => {
    ensureBuilt();
    services.migrate();
    await receiver.start();
    const env = {
      DATABASE_URL: services.databaseUrl,
      QUEUE_PREFIX: services.queuePrefix,
      WEBHOOK_ALLOW_PRIVATE: 'true',
      WEBHOOK_RETRY_BASE_MS: '100',
      WEBHOOK_SWEEP_EVERY_MS: '200',
      INVOICE_SWEEP_EVERY_MS: '500',
    };
    running.push(spawnService({ ...env, ROLE: 'api' }), spawnService({ ...env, ROLE: 'api' }), spawnService({ ...env, ROLE: 'worker' }), spawnService({ ...env, ROLE: 'worker' }));
    db = await openDb(services.databaseUrl);
  }, 120_000);

  afterAll(async () => {
    await Promise.all(running.map(stopService));
    await receiver.stop();
    await db?.end();
    await services.drop();
  }, 60_000);

  it('delivers each invoice.ready exactly once, to each endpoint', async () => {
    const apis = await Promise.all([running[0].url, running[1].url]);
    const admin = (i: number, method: string, path: string, body?: unknown) => http(apis[i % 2], method, path, { token: process.env.ADMIN_TOKEN, body });
    const hooks = [
      (await admin(0, 'POST', '/admin/webhooks', { url: receiver.url, events: ['invoice.ready'] })).body,
      (await admin(1, 'POST', '/admin/webhooks', { url: `${receiver.url}?second`, events: ['invoice.ready', 'charge.failed'] })).body,
    ];
    expect(hooks.map((h) => h.secret)).toEqual([expect.stringMatching(/^whsec_/), expect.stringMatching(/^whsec_/)]);
    const N = 24;
    const tenants: string[] = [];
    for (let i = 0; i < N; i++) tenants.push((await admin(i, 'POST', '/admin/tenants', { name: `wh-scale-${i}` })).body.id);
    // Each invoice asked for twice, once through each API: still one invoice, one event.
    const period = { period_start: '2025-05-01T00:00:00Z', period_end: '2025-06-01T00:00:00Z' };
    const asked = await Promise.all(tenants.flatMap((tenant_id, i) => [admin(i, 'POST', '/admin/invoices', { tenant_id, ...period }), admin(i + 1, 'POST', '/admin/invoices', { tenant_id, ...period })]));
    expect(asked.every((r) => r.status === 202)).toBe(true);
    const invoiceIds = new Set(asked.map((r) => r.body.id));
    expect(invoiceIds.size).toBe(N);

    await waitFor('every delivery', () => receiver.accepted.length >= 2 * N, 60_000, 100);
    // Let any duplicate that was going to happen arrive.
    await new Promise((r) => setTimeout(r, 1500));

    const accepted = receiver.accepted;
    expect(accepted).toHaveLength(2 * N);
    const perEndpoint = new Map<string, Set<string>>();
    for (const got of accepted) {
      const hook = hooks[got.path.endsWith('?second') ? 1 : 0];
      const payload = new Webhook(hook.secret).verify(got.body, {
        'webhook-id': String(got.headers['webhook-id']),
        'webhook-timestamp': String(got.headers['webhook-timestamp']),
        'webhook-signature': String(got.headers['webhook-signature']),
      }) as any;
      expect(payload.type).toBe('invoice.ready');
      const seen = perEndpoint.get(hook.id) ?? new Set<string>();
      expect(seen.has(payload.data.invoice_id)).toBe(false);
      seen.add(payload.data.invoice_id);
      perEndpoint.set(hook.id, seen);
    }
    for (const hook of hooks) expect(perEndpoint.get(hook.id)).toEqual(invoiceIds);

    const { rows } = await db.query(`SELECT status::text, count(*)::int AS n, sum(attempts)::int AS attempts FROM webhook_deliveries GROUP BY status`);
    expect(rows).toEqual([{ status: 'delivered', n: 2 * N, attempts: receiver.received.length }]);
    const events = await db.query(`SELECT count(*)::int AS n, count(DISTINCT dedup_key)::int AS causes FROM webhook_events`);
    expect(events.rows[0]).toEqual({ n: N, causes: N });
    const attempts = await db.query(`SELECT count(*)::int AS n FROM webhook_attempts`);
    expect(attempts.rows[0].n).toBe(receiver.received.length);
  }, 90_000);
});
