import { balanceLowEvent, budgetThresholdEvent, chargeFailedEvent, invoiceReadyEvent, isWebhookEventType, webhookEvent } from './webhook-events';

describe('webhook events', () => {
  const invoice = { tenant_id: 't1', invoice_id: 'inv1', period_start: '2026-11-01T00:00:00.000Z', period_end: '2026-12-01T00:00:00.000Z', total: '12.5' };

  it('builds the body {id, type, created_at, data}, in that order, with the event id', () => {
    const at = new Date('2026-12-02T10:00:00.000Z');
    const e = webhookEvent('invoice.ready', 'inv1:1', invoice, at);
    expect(e.id).toMatch(/^evt_[0-9a-f]{32}$/);
    expect(e.body).toBe(`{"id":"${e.id}","type":"invoice.ready","created_at":"2026-12-02T10:00:00.000Z","data":${JSON.stringify(invoice)}}`);
    expect(e).toMatchObject({ type: 'invoice.ready', tenantId: 't1', dedupKey: 'invoice.ready:inv1:1' });
  });

  it('gives each cause its own dedup key, and the same cause the same key', () => {
    expect(invoiceReadyEvent(invoice, 2).dedupKey).toBe('invoice.ready:inv1:2');
    const failed = { tenant_id: 't1', usage_event_id: 'u1', response_id: 'resp_1', error: 'No price' };
    expect(chargeFailedEvent(failed).dedupKey).toBe(chargeFailedEvent(failed).dedupKey);
    expect(chargeFailedEvent(failed).id).not.toBe(chargeFailedEvent(failed).id);
    expect(JSON.parse(chargeFailedEvent(failed).body).data).toEqual(failed);
    const budget = { tenant_id: 't1', api_key_id: 'k1', percent: 80 as const, limit: '10', spent: '8', period_start: '2026-12-01T00:00:00.000Z', resets_at: '2027-01-01T00:00:00.000Z' };
    expect(budgetThresholdEvent(budget).dedupKey).toBe('budget.threshold:k1:2026-12-01T00:00:00.000Z:80');
    expect(budgetThresholdEvent({ ...budget, percent: 100 }).dedupKey).not.toBe(budgetThresholdEvent(budget).dedupKey);
    expect(balanceLowEvent({ tenant_id: 't1', balance: '1', available: '0.5', threshold: '5' }, 'entry-9').dedupKey).toBe('balance.low:t1:entry-9');
  });

  it('knows the four event types and nothing else', () => {
    expect(['balance.low', 'budget.threshold', 'invoice.ready', 'charge.failed'].every(isWebhookEventType)).toBe(true);
    expect(['invoice.paid', '', 3, null].some(isWebhookEventType)).toBe(false);
  });
});
