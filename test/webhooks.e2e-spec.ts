import { getQueueToken } from '@nestjs/bullmq';
import type { Queue } from 'bullmq';
import type { Client } from 'pg';
import { Webhook } from 'standardwebhooks';
import { ChargerService } from '../src/metering/charger.service';
import { JOBS, QUEUES } from '../src/queues/queues';
import { WebhookAttemptFailed, WebhookDeliverer } from '../src/webhooks/webhook-deliverer';
import { openDb } from './support/db';
import { insertEvent } from './support/events';
import { ensureSeedModel, SEED_MODEL, startApp, TestApp } from './support/harness';
import { waitFor } from './support/wait';
import { ReceivedWebhook, WebhookReceiver } from './support/webhook-receiver';

const BASE_MS = 150;
const FAST_WEBHOOKS = { WEBHOOK_ALLOW_PRIVATE: 'true', WEBHOOK_RETRY_BASE_MS: String(BASE_MS), WEBHOOK_SWEEP_EVERY_MS: '300', WEBHOOK_TIMEOUT_MS: '2000' };
const MARCH = { period_start: '2025-03-01T00:00:00Z', period_end: '2025-04-01T00:00:00Z' };

describe('webhooks', () => {
  let t: TestApp;
  /** The same database and queues with WEBHOOK_ALLOW_PRIVATE unset, and no workers. */
  let strict: TestApp;
  let db: Client;
  const receivers: WebhookReceiver[] = [];

  beforeAll(async () => {
    t = await startApp(FAST_WEBHOOKS);
    strict = await startApp({ ROLE: 'api' });
    await ensureSeedModel(t);
    db = await openDb();
  });

  afterAll(async () => {
    await Promise.all(receivers.map((r) => r.stop()));
    await db.end();
    await strict.close();
    await t.close();
  });

  const receiver = async (answer?: ConstructorParameters<typeof WebhookReceiver>[0]) => {
    const r = await new WebhookReceiver(answer).start();
    receivers.push(r);
    return r;
  };

  async function endpoint(url: string, events: string[], tenantId?: string) {
    const res = await t.admin('POST', '/admin/webhooks', { url, events, ...(tenantId ? { tenant_id: tenantId } : {}) });
    expect(res.status).toBe(201);
    return res.body as { id: string; url: string; events: string[]; tenant_id: string | null; secret: string };
  }

  /** A tenant with one charged usage event in March 2025: (1000 × 0.25 + 200 × 2) / 1e6 = 0.00065. */
  async function tenantWithMarchUsage() {
    const tenant = await t.tenant('1');
    const id = await insertEvent(db, tenant, SEED_MODEL, { input: 1000, output: 200 }, { requestedAt: '2025-03-10T12:00:00Z' });
    await t.app.get(ChargerService).chargeEvents([id]);
    return tenant;
  }

  async function readyInvoice(tenantId: string, period = MARCH) {
    const created = await t.admin('POST', '/admin/invoices', { tenant_id: tenantId, ...period });
    expect(created.status).toBe(202);
    return waitFor('the invoice', async () => {
      const inv = await t.admin('GET', `/admin/invoices/${created.body.id}`);
      return inv.body.status === 'ready' && inv.body;
    });
  }

  const verify = (secret: string, r: ReceivedWebhook) =>
    new Webhook(secret).verify(r.body, {
      'webhook-id': String(r.headers['webhook-id']),
      'webhook-timestamp': String(r.headers['webhook-timestamp']),
      'webhook-signature': String(r.headers['webhook-signature']),
    });

  const deliveries = async (endpointId: string, query = '') => {
    const res = await t.admin('GET', `/admin/webhooks/${endpointId}/deliveries${query}`);
    expect(res.status).toBe(200);
    return res.body as { data: any[]; has_more: boolean };
  };

  describe('creating an endpoint', () => {
    const bad = async (body: unknown, param: string, message?: RegExp, app = t) => {
      const res = await app.admin('POST', '/admin/webhooks', body);
      expect(res.status).toBe(400);
      expect(res.body.error).toMatchObject({ type: 'invalid_request_error', param });
      if (message) expect(res.body.error.message).toMatch(message);
    };

    it('refuses a bad URL, an unknown or missing event type and an unknown tenant, naming the field', async () => {
      await bad({ url: 'ftp://example.com/x', events: ['invoice.ready'] }, 'url', /http or https/);
      await bad({ url: 'not a url', events: ['invoice.ready'] }, 'url');
      await bad({ url: 'https://u:p@example.com/', events: ['invoice.ready'] }, 'url', /credentials/);
      await bad({ events: ['invoice.ready'] }, 'url');
      await bad({ url: 'https://example.com/x', events: ['invoice.ready', 'invoice.paid'] }, 'events[1]', /Unknown event type 'invoice.paid'/);
      await bad({ url: 'https://example.com/x', events: [] }, 'events');
      await bad({ url: 'https://example.com/x', events: 'invoice.ready' }, 'events');
      await bad({ url: 'https://example.com/x', events: ['invoice.ready'], tenant_id: '00000000-0000-4000-8000-000000000000' }, 'tenant_id', /No tenant/);
      await bad({ url: 'https://example.com/x', events: ['invoice.ready'], secret: 'whsec_mine' }, 'secret');
    });

    it('refuses private, loopback and link-local destinations unless WEBHOOK_ALLOW_PRIVATE=true', async () => {
      for (const url of ['http://127.0.0.1:9/x', 'http://localhost:9/x', 'http://[::1]:9/x', 'http://[::ffff:127.0.0.1]/x', 'http://10.0.0.8/x', 'http://169.254.169.254/latest', 'http://0x7f000001/']) {
        await bad({ url, events: ['invoice.ready'] }, 'url', /private, loopback or link-local/, strict);
      }
      const allowed = await t.admin('POST', '/admin/webhooks', { url: 'http://127.0.0.1:9/x', events: ['invoice.ready'] });
      expect(allowed.status).toBe(201);
      expect((await t.admin('DELETE', `/admin/webhooks/${allowed.body.id}`)).status).toBe(200);
    });

    it('shows the secret once: never in the list, the audit log or the metrics', async () => {
      const created = await endpoint('http://127.0.0.1:9/secret-test', ['charge.failed']);
      expect(created.secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
      expect(created).toMatchObject({ url: 'http://127.0.0.1:9/secret-test', events: ['charge.failed'], tenant_id: null });
      const list = await t.admin('GET', '/admin/webhooks');
      const listed = list.body.data.find((w: any) => w.id === created.id);
      expect(listed).toEqual({ id: created.id, object: 'webhook_endpoint', url: created.url, events: ['charge.failed'], tenant_id: null, created_at: expect.any(String) });
      expect(list.text).not.toContain(created.secret);
      expect(list.text).not.toContain('whsec_');
      const audit = await t.admin('GET', '/admin/audit?action=webhook.create');
      const entry = audit.body.data.find((e: any) => e.target_id === created.id);
      expect(entry).toMatchObject({ action: 'webhook.create', status: 201, summary: { url: created.url, events: ['charge.failed'] } });
      expect(audit.text).not.toContain(created.secret);
      expect(audit.text).not.toContain(created.secret.slice(6, 30));
      const metrics = await t.admin('GET', '/metrics');
      expect(metrics.text).not.toContain(created.secret.slice(6, 30));

      expect((await t.admin('DELETE', `/admin/webhooks/${created.id}`)).body).toEqual({ id: created.id, object: 'webhook_endpoint', deleted: true });
      const deletedAudit = await t.admin('GET', '/admin/audit?action=webhook.delete');
      expect(deletedAudit.body.data.some((e: any) => e.target_id === created.id)).toBe(true);
      expect((await t.admin('DELETE', `/admin/webhooks/${created.id}`)).status).toBe(404);
      expect((await t.admin('GET', `/admin/webhooks/${created.id}/deliveries`)).status).toBe(404);
    });
  });

  it('sends invoice.ready, signed so that standardwebhooks verifies it, with the invoice data', async () => {
    const r = await receiver();
    const tenant = await tenantWithMarchUsage();
    const hook = await endpoint(r.url, ['invoice.ready'], tenant.tenantId);
    // Another tenant's invoice is not this endpoint's business.
    const other = await t.tenant('1');
    const invoice = await readyInvoice(tenant.tenantId);
    await readyInvoice(other.tenantId);
    expect(invoice.total).toBe('0.00065');
    const [got] = await waitFor('the webhook', () => r.received.length >= 1 && r.received);
    const payload = verify(hook.secret, got) as any;
    expect(payload).toEqual({
      id: got.headers['webhook-id'],
      type: 'invoice.ready',
      created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      data: { tenant_id: tenant.tenantId, invoice_id: invoice.id, period_start: '2025-03-01T00:00:00.000Z', period_end: '2025-04-01T00:00:00.000Z', total: '0.00065' },
    });
    expect(got.headers['webhook-id']).toMatch(/^evt_[0-9a-f]{32}$/);
    expect(got.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(got.headers['content-type']).toBe('application/json');
    const list = await deliveries(hook.id);
    expect(list.data).toEqual([
      expect.objectContaining({ event_id: payload.id, type: 'invoice.ready', status: 'delivered', attempts: 1, last_status_code: 200, delivered_at: expect.any(String) }),
    ]);
    await new Promise((res) => setTimeout(res, 500));
    expect(r.received).toHaveLength(1);
  });

  it('retries a failing receiver with back-off and the same webhook-id, recording every attempt', async () => {
    const r = await receiver((n) => (n <= 2 ? 500 : 204));
    const tenant = await t.tenant('1');
    const hook = await endpoint(r.url, ['invoice.ready'], tenant.tenantId);
    await readyInvoice(tenant.tenantId);
    await waitFor('the third attempt', () => r.received.length >= 3);
    const ids = new Set(r.received.map((x) => x.headers['webhook-id']));
    expect(ids.size).toBe(1);
    for (const got of r.received) expect(verify(hook.secret, got)).toMatchObject({ type: 'invoice.ready', data: { tenant_id: tenant.tenantId, total: '0' } });
    expect(new Set(r.received.map((x) => x.body)).size).toBe(1);
    // Attempt 2 waits base × 1, attempt 3 base × 2 (less a little for timer granularity).
    expect(r.received[1].at - r.received[0].at).toBeGreaterThanOrEqual(BASE_MS - 20);
    expect(r.received[2].at - r.received[1].at).toBeGreaterThanOrEqual(2 * BASE_MS - 20);
    const delivered = await waitFor('delivered', async () => {
      const [d] = (await deliveries(hook.id)).data;
      return d?.status === 'delivered' && d;
    });
    expect(delivered).toMatchObject({ event_id: [...ids][0], attempts: 3, last_status_code: 204 });
    expect(delivered.history.map((a: any) => a.status_code)).toEqual([500, 500, 204]);
    for (const a of delivered.history) expect(a.duration_ms).toBeGreaterThanOrEqual(0);
    await new Promise((res) => setTimeout(res, 4 * BASE_MS));
    expect(r.received).toHaveLength(3);
  });

  it('lists deliveries newest first, paged with limit and after', async () => {
    const r = await receiver();
    const tenant = await t.tenant('1');
    const hook = await endpoint(r.url, ['invoice.ready'], tenant.tenantId);
    const invoices = [];
    for (const month of ['01', '02', '03']) {
      invoices.push(await readyInvoice(tenant.tenantId, { period_start: `2024-${month}-01T00:00:00Z`, period_end: `2024-${month}-15T00:00:00Z` }));
    }
    await waitFor('three deliveries', () => r.accepted.length >= 3);
    const all = await waitFor('all delivered', async () => {
      const list = await deliveries(hook.id);
      return list.data.length === 3 && list.data.every((d) => d.status === 'delivered') && list;
    });
    expect(all.has_more).toBe(false);
    const byEvent = new Map(r.received.map((x) => [x.headers['webhook-id'], JSON.parse(x.body).data.invoice_id]));
    expect(all.data.map((d) => byEvent.get(d.event_id))).toEqual(invoices.map((i) => i.id).reverse());
    for (const d of all.data) expect(Object.keys(d)).toEqual(expect.arrayContaining(['id', 'event_id', 'type', 'status', 'attempts', 'last_status_code', 'created_at', 'delivered_at']));

    const first = await deliveries(hook.id, '?limit=2');
    expect(first.data.map((d) => d.id)).toEqual(all.data.slice(0, 2).map((d) => d.id));
    expect(first.has_more).toBe(true);
    const second = await deliveries(hook.id, `?limit=2&after=${first.data[1].id}`);
    expect(second.data.map((d) => d.id)).toEqual([all.data[2].id]);
    expect(second.has_more).toBe(false);
    for (const q of ['?limit=0', '?limit=101', '?limit=x', '?after=00000000-0000-4000-8000-000000000000']) {
      const res = await t.admin('GET', `/admin/webhooks/${hook.id}/deliveries${q}`);
      expect(res.status).toBe(400);
      expect(res.body.error.param).toBe(q.includes('after') ? 'after' : 'limit');
    }
    expect((await t.admin('GET', '/admin/webhooks/nope/deliveries')).status).toBe(404);
  });

  it('sends charge.failed when a usage event reaches the dead-letter list', async () => {
    const r = await receiver();
    const hook = await endpoint(r.url, ['charge.failed']);
    const model = `sim-whfail-${Date.now()}`;
    await t.admin('PUT', `/admin/models/${model}`, { provider: 'simulated', input_price: '1', output_price: '1', effective_from: '2030-01-01T00:00:00Z' });
    const tenant = await t.tenant('1');
    const usageEventId = await insertEvent(db, tenant, model, { input: 10, output: 10 }, { requestedAt: new Date().toISOString() });
    await t.app.get<Queue>(getQueueToken(QUEUES.charges)).add(JOBS.charge, { usageEventId }, { jobId: usageEventId, attempts: 1 });
    const [got] = await waitFor('charge.failed', () => r.accepted.length >= 1 && r.accepted);
    const payload = verify(hook.secret, got) as any;
    expect(payload).toMatchObject({
      type: 'charge.failed',
      data: { tenant_id: tenant.tenantId, usage_event_id: usageEventId, response_id: `resp_${usageEventId.replace(/-/g, '')}`, error: expect.stringMatching(/No price in force/) },
    });
    expect(Object.keys(payload.data).sort()).toEqual(['error', 'response_id', 'tenant_id', 'usage_event_id']);
    const events = await db.query(`SELECT count(*)::int AS n FROM webhook_events WHERE dedup_key = $1`, [`charge.failed:${usageEventId}`]);
    expect(events.rows[0].n).toBe(1);
  });

  it('still delivers to a receiver that was down for a while (stopped, then started on the same port)', async () => {
    const r = await receiver();
    const tenant = await t.tenant('1');
    const hook = await endpoint(r.url, ['invoice.ready'], tenant.tenantId);
    await r.stop();
    await readyInvoice(tenant.tenantId);
    const failing = await waitFor('three refused attempts', async () => {
      const [d] = (await deliveries(hook.id)).data;
      return d?.attempts >= 3 && d;
    });
    expect(failing.status).toBe('pending');
    expect(failing.last_status_code).toBeNull();
    expect(failing.history[0].error).toMatch(/ECONNREFUSED/);
    await r.start();
    await waitFor('the delivery after the receiver came back', () => r.accepted.length >= 1, 30_000);
    expect(r.received).toHaveLength(1);
    expect(r.received[0].headers['webhook-id']).toBe(failing.event_id);
    expect(verify(hook.secret, r.received[0])).toMatchObject({ id: failing.event_id, type: 'invoice.ready' });
    const done = await waitFor('delivered', async () => {
      const [d] = (await deliveries(hook.id)).data;
      return d?.status === 'delivered' && d;
    });
    expect(done.attempts).toBeGreaterThanOrEqual(4);
    expect(done.history.at(-1).status_code).toBe(200);
  });

  /** Pauses the delivery queue, makes one invoice.ready delivery and removes its job; returns the delivery. */
  async function deliveryWithoutJob(hookId: string, tenantId: string, { hideFromSweeper = false } = {}) {
    const queue = t.app.get<Queue>(getQueueToken(QUEUES.webhooks));
    await queue.pause();
    try {
      await readyInvoice(tenantId);
      const [d] = await waitFor('the pending delivery', async () => {
        const list = (await deliveries(hookId)).data;
        return list.length > 0 && list;
      });
      await waitFor('its job', async () => (await queue.getJob(d.id)) ?? null);
      if (hideFromSweeper) await db.query(`UPDATE webhook_deliveries SET next_attempt_at = now() + interval '1 hour' WHERE id = $1`, [d.id]);
      await (await queue.getJob(d.id))!.remove();
      return d;
    } finally {
      await queue.resume();
    }
  }

  it('sends a delivery once when several workers attempt it at the same moment', async () => {
    // A slow receiver: the first attempt is still running when the others try.
    const r = await receiver(() => new Promise((res) => setTimeout(() => res(200), 300)));
    const tenant = await t.tenant('1');
    const hook = await endpoint(r.url, ['invoice.ready'], tenant.tenantId);
    const d = await deliveryWithoutJob(hook.id, tenant.tenantId, { hideFromSweeper: true });
    const deliverer = t.app.get(WebhookDeliverer);
    const outcomes = await Promise.all(Array.from({ length: 6 }, () => deliverer.attempt(d.id).catch((e) => e)));
    expect(outcomes.filter((o) => o === 'delivered')).toHaveLength(1);
    for (const o of outcomes.filter((o) => o !== 'delivered')) expect(o).toBeInstanceOf(WebhookAttemptFailed);
    expect(await deliverer.attempt(d.id)).toBe('skipped');
    expect(r.received).toHaveLength(1);
    const [after] = (await deliveries(hook.id)).data;
    expect(after).toMatchObject({ status: 'delivered', attempts: 1, last_status_code: 200 });
  });

  it('re-queues a pending delivery whose job was lost (the sweeper)', async () => {
    const r = await receiver();
    const tenant = await t.tenant('1');
    const hook = await endpoint(r.url, ['invoice.ready'], tenant.tenantId);
    // Redis "loses" the delivery's job before any worker took it.
    await deliveryWithoutJob(hook.id, tenant.tenantId);
    await waitFor('the swept delivery', () => r.accepted.length >= 1, 15_000);
    expect(r.received).toHaveLength(1);
  });
});
