import { createServer, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { postWebhook } from './webhook-sender';

describe('postWebhook', () => {
  let server: Server;
  let port = 0;
  let seen: Array<{ headers: Record<string, unknown>; body: string }> = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        seen.push({ headers: req.headers, body });
        if (req.url === '/hang') return; // never answers
        res.writeHead(req.url === '/fail' ? 500 : req.url === '/redirect' ? 302 : 200, { location: 'http://127.0.0.1:1/' }).end('ok');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  beforeEach(() => (seen = []));

  it('posts the body with the given headers and reports the status', async () => {
    const result = await postWebhook(`http://127.0.0.1:${port}/ok`, '{"a":1}', { 'webhook-id': 'evt_1' }, 2000, true);
    expect(result).toMatchObject({ statusCode: 200, error: null });
    expect(seen).toEqual([{ headers: expect.objectContaining({ 'webhook-id': 'evt_1', 'content-type': 'application/json' }), body: '{"a":1}' }]);
    expect((await postWebhook(`http://127.0.0.1:${port}/fail`, '{}', {}, 2000, true)).statusCode).toBe(500);
    // A redirect is reported as it is, never followed.
    expect((await postWebhook(`http://127.0.0.1:${port}/redirect`, '{}', {}, 2000, true)).statusCode).toBe(302);
    expect(seen).toHaveLength(3);
  });

  it('refuses private destinations at connection time, by name or by address, unless allowed', async () => {
    const byName = await postWebhook(`http://localhost:${port}/ok`, '{}', {}, 2000, false);
    expect(byName).toMatchObject({ statusCode: null, error: expect.stringMatching(/EPRIVATEADDRESS|private/) });
    const byAddress = await postWebhook(`http://127.0.0.1:${port}/ok`, '{}', {}, 2000, false);
    expect(byAddress).toMatchObject({ statusCode: null, error: expect.stringMatching(/private/) });
    const mapped = await postWebhook(`http://[::ffff:127.0.0.1]:${port}/ok`, '{}', {}, 2000, false);
    expect(mapped).toMatchObject({ statusCode: null, error: expect.stringMatching(/private/) });
    expect(seen).toHaveLength(0);
    expect((await postWebhook(`http://localhost:${port}/ok`, '{}', {}, 2000, true)).statusCode).toBe(200);
  });

  it('gives up on a receiver that does not answer in time', async () => {
    const started = Date.now();
    const result = await postWebhook(`http://127.0.0.1:${port}/hang`, '{}', {}, 300, true);
    expect(result).toMatchObject({ statusCode: null, error: expect.stringMatching(/ETIMEDOUT/) });
    expect(Date.now() - started).toBeLessThan(2000);
    expect(result.durationMs).toBeGreaterThanOrEqual(290);
  });
});
