import { createHash } from 'node:crypto';
import { adminFingerprint, describeAction, scrub } from './audit-actions';

const KEY = 'sk-tg-' + 'A'.repeat(40);

describe('audit records', () => {
  it('fingerprints the admin token: 8 hex digits of its sha256, never the token', () => {
    const token = 'a-very-secret-admin-token';
    const fp = adminFingerprint(token);
    expect(fp).toBe(`admin:${createHash('sha256').update(token).digest('hex').slice(0, 8)}`);
    expect(fp).not.toContain(token);
  });

  it('keeps the key prefix of a created API key, never the key', () => {
    const r = describeAction({
      method: 'POST',
      route: '/admin/tenants/:id/api-keys',
      params: { id: 't1' },
      body: { name: 'ci' },
      result: { id: 'k1', key: KEY, prefix: 'sk-tg-AAAAAA', name: 'ci' },
    });
    expect(r).toEqual({ action: 'api_key.create', targetType: 'api_key', targetId: 'k1', summary: { tenant_id: 't1', name: 'ci', prefix: 'sk-tg-AAAAAA' } });
    expect(JSON.stringify(r)).not.toContain(KEY);
  });

  it("summarises a tenant price version: the model, the prices and the version's id", () => {
    const r = describeAction({
      method: 'PUT',
      route: '/admin/tenants/:id/prices/:model',
      params: { id: 't1', model: 'm' },
      body: { input_price: '0.2', output_price: '1.6', effective_from: '2027-01-01T00:00:00Z' },
      result: { id: 'p1', tenant_id: 't1', model: 'm', effective_from: '2027-01-01T00:00:00.000Z' },
    });
    expect(r.summary).toEqual({ model: 'm', input_price: '0.2', output_price: '1.6', effective_from: '2027-01-01T00:00:00.000Z', id: 'p1' });
  });

  it('records a created webhook without its secret, and the URL without its query', () => {
    const secret = 'whsec_' + 'B'.repeat(43) + '=';
    const r = describeAction({
      method: 'POST',
      route: '/admin/webhooks',
      params: {},
      body: { url: 'https://hooks.example.com/in?token=abc', events: ['invoice.ready'] },
      result: { id: 'w1', url: 'https://hooks.example.com/in?token=abc', events: ['invoice.ready'], tenant_id: null, secret },
    });
    expect(r).toEqual({ action: 'webhook.create', targetType: 'webhook', targetId: 'w1', summary: { events: ['invoice.ready'], url: 'https://hooks.example.com/in' } });
    expect(scrub({ note: `leaked ${secret}` })).toEqual({ note: 'leaked [redacted]' });
  });

  it.each([
    ['DELETE', '/admin/webhooks/:id', { id: 'w1' }, undefined, { id: 'w1', deleted: true }, 'webhook.delete', 'w1'],
    ['POST', '/admin/tenants', {}, { name: 'acme', credits: '5' }, { id: 't1', status: 'active', balance: '5' }, 'tenant.create', 't1'],
    ['PATCH', '/admin/tenants/:id', { id: 't1' }, { status: 'suspended' }, {}, 'tenant.update', 't1'],
    ['POST', '/admin/tenants/:id/credits', { id: 't1' }, { amount: '5', reference: 'r' }, { balance: '10', entry_id: 'e' }, 'tenant.credit', 't1'],
    ['DELETE', '/admin/api-keys/:id', { id: 'k1' }, undefined, { id: 'k1', revoked: true }, 'api_key.revoke', 'k1'],
    ['PUT', '/admin/models/:model', { model: 'm' }, { provider: 'simulated', input_price: '1', output_price: '2' }, {}, 'model.put', 'm'],
    ['PUT', '/admin/tenants/:id/prices/:model', { id: 't1', model: 'm' }, { input_price: '1', output_price: '2' }, { id: 'p1' }, 'tenant_price.put', 't1'],
    ['POST', '/admin/invoices', {}, { tenant_id: 't1', period_start: 'a', period_end: 'b' }, { id: 'i1', status: 'queued' }, 'invoice.create', 'i1'],
    ['POST', '/admin/queues/charges/failed/:id/retry', { id: 'j1' }, undefined, { id: 'j1', retried: true }, 'charge.retry', 'j1'],
    ['POST', '/admin/queues/charges/failed/retry', {}, undefined, { retried: 3 }, 'charge.retry_all', null],
  ])('%s %s -> %s', (method, route, params, body, result, action, target) => {
    const r = describeAction({ method, route, params, body, result });
    expect(r.action).toBe(action);
    expect(r.targetId).toBe(target);
  });

  it('records failures with their status and code, and unknown routes generically (field names only)', () => {
    const failed = describeAction({
      method: 'PATCH',
      route: '/admin/tenants/:id',
      params: { id: 'x' },
      body: { status: 'gone' },
      result: undefined,
      error: { status: 400, code: 'invalid_value', message: 'bad status' },
    });
    expect(failed.summary).toEqual({ status: 'gone', error: { status: 400, code: 'invalid_value', message: 'bad status' } });
    const generic = describeAction({ method: 'POST', route: '/admin/unlisted/:id/run', params: { id: 'j' }, body: { token: 'zzz', a: 1 }, result: {} });
    expect(generic).toEqual({ action: 'post /admin/unlisted/:id/run', targetType: null, targetId: 'j', summary: { params: { id: 'j' }, fields: ['a', 'token'] } });
  });

  it('scrubs secret-named fields, key-shaped strings and the given secrets, deeply', () => {
    expect(scrub({ key: KEY, api_key_id: 'id', nested: [{ note: `use ${KEY}`, password: 'p', s: 'the-admin-token-x' }] }, ['the-admin-token-x'])).toEqual({
      api_key_id: 'id',
      nested: [{ note: 'use [redacted]', s: '[redacted]' }],
    });
  });
});
