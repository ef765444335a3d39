import { request } from 'node:http';
import { ensureSeedModel, http, SEED_MODEL, startApp, TestApp } from './support/harness';
import { expectConforms } from './support/openapi';

const ALLOWED = 'https://app.example';

/** A request exactly as given (fetch refuses a GET with Content-Length: 0). */
function raw(baseUrl: string, method: string, path: string, headers: Record<string, string>): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const req = request(`${baseUrl}${path}`, { method, headers }, (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : undefined }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** What ordinary HTTP clients (Postman, axios, browsers, curl -d) send, served as they expect. */
describe('HTTP habits of real clients on /v1/*', () => {
  let t: TestApp;
  let key: string;

  beforeAll(async () => {
    t = await startApp({ CORS_ORIGINS: `${ALLOWED}, https://other.example` });
    await ensureSeedModel(t);
    key = (await t.tenant('10')).key;
  });
  afterAll(() => t?.close());

  const createResponse = async () => {
    const res = await http(t.baseUrl, 'POST', '/v1/responses', { token: key, body: { model: SEED_MODEL, input: 'Hi' } });
    expect(res.status).toBe(200);
    return res.body.id as string;
  };

  describe('a GET or DELETE with Content-Type: application/json and an empty body', () => {
    for (const [label, length] of [['Content-Length: 0', { 'content-length': '0' }], ['no body at all', {}]] as const) {
      it(`is served as if it had no content type (${label})`, async () => {
        const id = await createResponse();
        const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...length };
        const got = await raw(t.baseUrl, 'GET', `/v1/responses/${id}`, headers);
        expect(got.status).toBe(200);
        expect(got.body.id).toBe(id);
        expect((await raw(t.baseUrl, 'GET', '/v1/models', headers)).status).toBe(200);
        const deleted = await raw(t.baseUrl, 'DELETE', `/v1/responses/${id}`, headers);
        expect(deleted.status).toBe(200);
        expect(deleted.body).toEqual({ id, object: 'response', deleted: true });
      });
    }

    it('a POST with an empty JSON body is still a 400 about the body', async () => {
      const res = await http(t.baseUrl, 'POST', '/v1/responses', { token: key, headers: { 'content-type': 'application/json' }, rawBody: '' });
      expect(res.status).toBe(400);
      expectConforms('ErrorResponse', res.body);
    });
  });

  describe('a body that is not JSON', () => {
    const cases: Array<[string, string, string]> = [
      ['form-encoded', 'application/x-www-form-urlencoded', `model=${SEED_MODEL}&input=Hi`],
      ['text/plain', 'text/plain', JSON.stringify({ model: SEED_MODEL, input: 'Hi' })],
      ['multipart', 'multipart/form-data; boundary=x', '--x\r\nContent-Disposition: form-data; name="input"\r\n\r\nHi\r\n--x--\r\n'],
    ];
    for (const [label, contentType, rawBody] of cases) {
      it(`is a 415 saying the body must be JSON (${label})`, async () => {
        for (const path of ['/v1/responses', '/v1/chat/completions']) {
          const res = await http(t.baseUrl, 'POST', path, { token: key, headers: { 'content-type': contentType }, rawBody });
          expect(res.status).toBe(415);
          expectConforms('ErrorResponse', res.body);
          expect(res.body.error).toMatchObject({ type: 'invalid_request_error', code: 'unsupported_media_type', param: null });
          expect(res.body.error.message).toMatch(/must be JSON/);
          expect(res.body.error.message).not.toContain('Unknown parameter');
        }
      });
    }

    it('application/json with a charset is JSON', async () => {
      const res = await http(t.baseUrl, 'POST', '/v1/responses', {
        token: key,
        headers: { 'content-type': 'application/json; charset=utf-8' },
        rawBody: JSON.stringify({ model: SEED_MODEL, input: 'Hi' }),
      });
      expect(res.status).toBe(200);
    });
  });

  describe('a trailing slash', () => {
    it('is tolerated', async () => {
      const created = await http(t.baseUrl, 'POST', '/v1/responses/', { token: key, body: { model: SEED_MODEL, input: 'Hi' } });
      expect(created.status).toBe(200);
      expectConforms('Response', created.body);
      expect((await http(t.baseUrl, 'GET', '/v1/models/', { token: key })).status).toBe(200);
      expect((await http(t.baseUrl, 'GET', `/v1/responses/${created.body.id}/`, { token: key })).status).toBe(200);
      expect((await http(t.baseUrl, 'POST', '/v1/chat/completions/', { token: key, body: { model: SEED_MODEL, messages: [{ role: 'user', content: 'Hi' }] } })).status).toBe(200);
    });
  });

  describe('CORS (CORS_ORIGINS)', () => {
    const preflight = (app: TestApp, origin: string, path = '/v1/responses') =>
      fetch(`${app.baseUrl}${path}`, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' },
      });

    it('answers a preflight from a listed origin on /v1/*', async () => {
      const res = await preflight(t, ALLOWED);
      expect(res.status).toBe(204);
      expect(res.headers.get('access-control-allow-origin')).toBe(ALLOWED);
      expect(res.headers.get('access-control-allow-methods')).toMatch(/POST/);
      expect(res.headers.get('access-control-allow-headers')?.toLowerCase()).toMatch(/authorization/);
      expect((await preflight(t, 'https://other.example', '/v1/models')).headers.get('access-control-allow-origin')).toBe('https://other.example');
    });

    it('lets a listed origin read the answer and its request id', async () => {
      const res = await fetch(`${t.baseUrl}/v1/models`, { headers: { origin: ALLOWED, authorization: `Bearer ${key}` } });
      expect(res.status).toBe(200);
      expect(res.headers.get('access-control-allow-origin')).toBe(ALLOWED);
      expect(res.headers.get('access-control-expose-headers')?.toLowerCase()).toMatch(/x-request-id/);
    });

    it('gives no CORS headers to an origin not listed, nor outside /v1/*', async () => {
      expect((await preflight(t, 'https://evil.example')).headers.get('access-control-allow-origin')).toBeNull();
      expect((await preflight(t, ALLOWED, '/admin/tenants')).headers.get('access-control-allow-origin')).toBeNull();
    });

    it('is off by default', async () => {
      const plain = await startApp({ CORS_ORIGINS: '' });
      try {
        expect((await preflight(plain, ALLOWED)).headers.get('access-control-allow-origin')).toBeNull();
      } finally {
        await plain.close();
      }
    });
  });
});
