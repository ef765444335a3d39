import { createHash } from 'node:crypto';
import { presentedCredentialFingerprint } from './admin-auth-audit';

describe('presentedCredentialFingerprint', () => {
  it('is anonymous without credentials', () => {
    expect(presentedCredentialFingerprint(undefined)).toBe('anonymous');
    expect(presentedCredentialFingerprint('')).toBe('anonymous');
  });

  it('is 8 hex digits of the sha256 of the bearer token, never the token', () => {
    const token = 'guessed-admin-token-123456';
    const fp = presentedCredentialFingerprint(`Bearer ${token}`);
    expect(fp).toBe(`token:${createHash('sha256').update(token).digest('hex').slice(0, 8)}`);
    expect(fp).not.toContain(token);
  });

  it('fingerprints another scheme by the whole header', () => {
    const header = `Basic ${Buffer.from('admin:pw').toString('base64')}`;
    expect(presentedCredentialFingerprint(header)).toMatch(/^token:[0-9a-f]{8}$/);
    expect(presentedCredentialFingerprint(header)).not.toBe(presentedCredentialFingerprint('Basic other'));
  });
});
