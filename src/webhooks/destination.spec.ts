import { destinationProblem, isPrivateAddress, urlProblem } from './destination';

describe('isPrivateAddress', () => {
  it.each([
    '127.0.0.1',
    '127.255.255.254',
    '10.1.2.3',
    '172.16.0.1',
    '172.31.255.255',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '0.0.0.0',
    '255.255.255.255',
    '224.0.0.1',
    '::1',
    '::',
    'fe80::1',
    'fe80::1%eth0',
    'fc00::1',
    'fd12:3456::1',
    'ff02::1',
    '::ffff:127.0.0.1',
    '::ffff:7f00:1',
    '::ffff:10.0.0.1',
    '::ffff:a9fe:a9fe',
    '64:ff9b::192.168.0.1',
    'not-an-ip',
  ])('refuses %s', (ip) => expect(isPrivateAddress(ip)).toBe(true));

  it.each(['8.8.8.8', '1.1.1.1', '172.32.0.1', '172.15.255.255', '100.128.0.1', '11.0.0.1', '2606:4700:4700::1111', '2001:4860::8888', '::ffff:8.8.8.8', '64:ff9b::8.8.8.8'])(
    'accepts %s',
    (ip) => expect(isPrivateAddress(ip)).toBe(false),
  );
});

describe('urlProblem', () => {
  it.each(['https://example.com/hook', 'http://example.com:8080/a?b=c'])('accepts %s', (url) => expect(urlProblem(url)).toBeNull());

  it.each([
    ['ftp://example.com/', /http or https/],
    ['file:///etc/passwd', /http or https/],
    ['javascript:alert(1)', /http or https/],
    ['example.com/hook', /absolute/],
    ['https://user:pass@example.com/', /credentials/],
    [42, /http/],
  ])('refuses %s', (url, message) => expect(urlProblem(url)).toMatch(message));
});

describe('destinationProblem', () => {
  const resolver = (table: Record<string, string[]>) => async (host: string) => {
    if (!table[host]) throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
    return table[host];
  };

  it('refuses literal private addresses in every notation the URL parser accepts', async () => {
    for (const url of ['http://127.0.0.1/', 'http://0x7f000001/', 'http://2130706433/', 'http://[::1]/', 'http://[::ffff:127.0.0.1]/', 'http://[fe80::1]/', 'http://169.254.169.254/latest']) {
      expect(await destinationProblem(new URL(url), resolver({}))).toMatch(/private, loopback or link-local/);
    }
  });

  it('refuses a name when any of its addresses is private, and one that does not resolve', async () => {
    const dns = resolver({ 'public.test': ['93.184.216.34'], 'mixed.test': ['93.184.216.34', '10.0.0.5'], 'local.test': ['::1'] });
    expect(await destinationProblem(new URL('https://public.test/x'), dns)).toBeNull();
    expect(await destinationProblem(new URL('https://mixed.test/x'), dns)).toMatch(/10\.0\.0\.5/);
    expect(await destinationProblem(new URL('https://local.test/x'), dns)).toMatch(/::1/);
    expect(await destinationProblem(new URL('https://nowhere.test/x'), dns)).toMatch(/does not resolve \(ENOTFOUND\)/);
  });

  it('accepts a public literal address', async () => {
    expect(await destinationProblem(new URL('https://93.184.216.34/'), resolver({}))).toBeNull();
    expect(await destinationProblem(new URL('https://[2606:4700:4700::1111]/'), resolver({}))).toBeNull();
  });
});
