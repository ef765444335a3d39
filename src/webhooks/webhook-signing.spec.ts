import { Webhook } from 'standardwebhooks';
import { newWebhookSecret, signWebhook } from './webhook-signing';

describe('signWebhook', () => {
  it("verifies with standardwebhooks' Webhook.verify", () => {
    const secret = newWebhookSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    const body = JSON.stringify({ id: 'evt_1', type: 'invoice.ready', created_at: '2026-12-02T00:00:00.000Z', data: { total: '1.5' } });
    const headers = signWebhook(secret, 'evt_1', body);
    expect(new Webhook(secret).verify(body, { ...headers })).toEqual(JSON.parse(body));
  });

  it('matches the Standard Webhooks reference vector', () => {
    // The example of the specification's JavaScript library.
    const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
    const body = '{"test": 2432232314}';
    const headers = signWebhook(secret, 'msg_p5jXN8AQM9LWM0D4loKWxJek', body, new Date(1614265330 * 1000));
    expect(headers).toEqual({
      'webhook-id': 'msg_p5jXN8AQM9LWM0D4loKWxJek',
      'webhook-timestamp': '1614265330',
      'webhook-signature': 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
    });
  });

  it('fails verification with another secret, another body or another id', () => {
    const secret = newWebhookSecret();
    const body = '{"a":1}';
    const headers = signWebhook(secret, 'evt_2', body);
    expect(() => new Webhook(newWebhookSecret()).verify(body, { ...headers })).toThrow();
    expect(() => new Webhook(secret).verify('{"a":2}', { ...headers })).toThrow();
    expect(() => new Webhook(secret).verify(body, { ...headers, 'webhook-id': 'evt_3' })).toThrow();
  });
});
