import { DomainError } from '../../common/errors';
import { toApiError } from '../../common/openai-error.filter';
import { sanitizeUpstreamMessage, transportError, upstreamStatusError } from './upstream-errors';

const SECRET = 'prov-key-0123456789';

describe('upstreamStatusError', () => {
  it('is always 502 server_error/upstream_error naming the upstream status', () => {
    const err = upstreamStatusError(500, JSON.stringify({ error: { message: 'internal details here' } }), [SECRET]);
    expect(err).toBeInstanceOf(DomainError);
    expect(toApiError(err)).toMatchObject({ status: 502, type: 'server_error', code: 'upstream_error', param: null });
    expect(err.message).toBe('The upstream provider returned an error (HTTP 500).');
  });

  it("passes a request-shaped 4xx's message through, sanitized; never 401/403/429 ones", () => {
    const body = JSON.stringify({ error: { message: `Unsupported parameter: 'top_k'. Key ${SECRET}, see https://user:pw@host/x?key=1 or sk-abcdef123456 Bearer abc.def` } });
    const err = upstreamStatusError(400, body, [SECRET]);
    expect(err.message).toMatch(/^The upstream provider returned an error \(HTTP 400\)\. Upstream message: Unsupported parameter: 'top_k'\./);
    expect(err.message).not.toMatch(new RegExp(`${SECRET}|pw@|sk-abcdef|abc\\.def`));
    for (const status of [401, 403, 429]) {
      expect(upstreamStatusError(status, JSON.stringify({ error: { message: `Incorrect API key provided: ${SECRET}` } }), [SECRET]).message).toBe(
        `The upstream provider returned an error (HTTP ${status}).`,
      );
    }
    expect(upstreamStatusError(404, 'not json', [SECRET]).message).toBe('The upstream provider returned an error (HTTP 404).');
  });
});

describe('sanitizeUpstreamMessage', () => {
  it('keeps one short line', () => {
    expect(sanitizeUpstreamMessage('a\n  b', [])).toBe('a b');
    expect(sanitizeUpstreamMessage('x'.repeat(1000), [])!.length).toBe(300);
    expect(sanitizeUpstreamMessage(42, [])).toBeNull();
    expect(sanitizeUpstreamMessage('   ', [])).toBeNull();
  });
});

describe('transportError', () => {
  const coded = (code: string) => Object.assign(new Error('connect to http://secret-host failed'), { code });
  it('maps timeouts to 504 upstream_timeout and other failures to 502, without the cause text', () => {
    for (const code of ['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT']) {
      expect(toApiError(transportError(coded(code)))).toMatchObject({ status: 504, type: 'server_error', code: 'upstream_timeout' });
    }
    const refused = transportError(coded('ECONNREFUSED'));
    expect(toApiError(refused)).toMatchObject({ status: 502, type: 'server_error', code: 'upstream_error' });
    expect(refused.message).not.toMatch(/secret-host/);
  });
});
