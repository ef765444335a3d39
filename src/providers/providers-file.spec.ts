import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadProvidersFile, parseProvidersFile, ProvidersFileError } from './providers-file';

const ENV = { ARK_KEY: 'ark-secret-value', EMPTY: '' };
const parse = (value: unknown, env: Record<string, string | undefined> = ENV) => parseProvidersFile(JSON.stringify(value), env);
/** The error message of parsing `value` (fails the test when it parses). */
const problem = (value: unknown, env?: Record<string, string | undefined>): string => {
  try {
    parse(value, env);
  } catch (err) {
    expect(err).toBeInstanceOf(ProvidersFileError);
    return (err as Error).message;
  }
  throw new Error('expected a ProvidersFileError');
};

describe('parseProvidersFile', () => {
  it('reads providers with api_key or api_key_env, applying defaults and normalizing base_url', () => {
    const configs = parse({
      openai: { type: 'openai', base_url: 'https://api.openai.com/v1/', api_key: 'sk-inline' },
      ark: { type: 'openai', base_url: 'https://ark.example.com/api/v3', api_key_env: 'ARK_KEY', timeout_ms: 1500, max_output_tokens: 32768 },
    });
    expect(configs).toEqual([
      { name: 'openai', type: 'openai', baseUrl: 'https://api.openai.com/v1', apiKey: 'sk-inline', timeoutMs: 60000, maxOutputTokens: 4096 },
      { name: 'ark', type: 'openai', baseUrl: 'https://ark.example.com/api/v3', apiKey: 'ark-secret-value', timeoutMs: 1500, maxOutputTokens: 32768 },
    ]);
  });

  it('accepts an empty object (no upstream providers)', () => {
    expect(parse({})).toEqual([]);
  });

  it('refuses text that is not JSON, and JSON that is not an object of providers', () => {
    expect(() => parseProvidersFile('{"a": ', ENV)).toThrow(/PROVIDERS_FILE is not valid JSON/);
    expect(problem([])).toMatch(/must hold a JSON object of providers/);
    expect(problem(null)).toMatch(/must hold a JSON object/);
    expect(problem('openai')).toMatch(/must hold a JSON object/);
  });

  it('refuses to override the built-in simulated provider', () => {
    expect(problem({ simulated: { type: 'openai', base_url: 'http://x/v1', api_key: 'k' } })).toMatch(
      /provider 'simulated': .*built-in provider and cannot be configured/,
    );
  });

  it.each<[string, unknown, RegExp]>([
    ['an entry that is not an object', 'http://x', /provider 'p': must be a JSON object/],
    ['a missing type', { base_url: 'http://x/v1', api_key: 'k' }, /provider 'p': type is missing/],
    ['an unknown type', { type: 'anthropic', base_url: 'http://x/v1', api_key: 'k' }, /provider 'p': type "anthropic" is not a supported provider type \(supported: openai\)/],
    ['a missing base_url', { type: 'openai', api_key: 'k' }, /provider 'p': base_url is missing/],
    ['a base_url that is not a URL', { type: 'openai', base_url: 'not a url', api_key: 'k' }, /provider 'p': base_url is not a valid URL/],
    ['a non-http base_url', { type: 'openai', base_url: 'ftp://x/v1', api_key: 'k' }, /provider 'p': base_url must be an http:\/\/ or https:\/\/ URL/],
    ['a base_url with a query', { type: 'openai', base_url: 'http://x/v1?a=1', api_key: 'k' }, /provider 'p': base_url must not have a query string/],
    ['a missing key', { type: 'openai', base_url: 'http://x/v1' }, /provider 'p': api_key is missing: set api_key or api_key_env/],
    ['both key fields', { type: 'openai', base_url: 'http://x/v1', api_key: 'k', api_key_env: 'ARK_KEY' }, /provider 'p': api_key and api_key_env are both set/],
    ['an empty api_key', { type: 'openai', base_url: 'http://x/v1', api_key: ' ' }, /provider 'p': api_key must be a non-empty string/],
    ['a numeric api_key', { type: 'openai', base_url: 'http://x/v1', api_key: 42 }, /provider 'p': api_key must be a non-empty string/],
    ['an api_key_env naming an unset variable', { type: 'openai', base_url: 'http://x/v1', api_key_env: 'NOPE_KEY' }, /provider 'p': api_key_env names the environment variable NOPE_KEY, which is not set/],
    ['an api_key_env naming an empty variable', { type: 'openai', base_url: 'http://x/v1', api_key_env: 'EMPTY' }, /provider 'p': api_key_env names the environment variable EMPTY, which is not set/],
    ['an api_key_env that is not a variable name', { type: 'openai', base_url: 'http://x/v1', api_key_env: 'A B' }, /provider 'p': api_key_env must be the name of an environment variable/],
    ['a bad timeout_ms', { type: 'openai', base_url: 'http://x/v1', api_key: 'k', timeout_ms: 0 }, /provider 'p': timeout_ms must be an integer from 1/],
    ['a fractional timeout_ms', { type: 'openai', base_url: 'http://x/v1', api_key: 'k', timeout_ms: 1.5 }, /provider 'p': timeout_ms must be an integer/],
    ['a bad max_output_tokens', { type: 'openai', base_url: 'http://x/v1', api_key: 'k', max_output_tokens: '4096' }, /provider 'p': max_output_tokens must be a positive integer/],
    ['an unknown field (a typo)', { type: 'openai', base_url: 'http://x/v1', apikey: 'k' }, /provider 'p': apikey is not a known field/],
  ])('refuses %s, naming the provider and the field', (_case, entry, message) => {
    expect(problem({ ok: { type: 'openai', base_url: 'http://ok/v1', api_key: 'k' }, p: entry })).toMatch(message);
  });

  it('refuses bad provider names', () => {
    expect(problem({ 'has space': { type: 'openai', base_url: 'http://x/v1', api_key: 'k' } })).toMatch(/provider 'has space': names are/);
    expect(problem({ '': { type: 'openai', base_url: 'http://x/v1', api_key: 'k' } })).toMatch(/provider '': names are/);
  });

  it('lists every problem at once', () => {
    const message = problem({ a: { type: 'openai' }, b: { type: 'x', base_url: 'http://x/v1', api_key: 'k' } });
    expect(message).toMatch(/^Invalid PROVIDERS_FILE:\n/);
    expect(message).toMatch(/provider 'a': base_url is missing/);
    expect(message).toMatch(/provider 'a': api_key is missing/);
    expect(message).toMatch(/provider 'b': type "x"/);
  });

  it('never echoes secrets: the key, the variable value or credentials in base_url', () => {
    const message = problem({
      a: { type: 'openai', base_url: 'https://user:hunter2@x.example/v1', api_key: 'sk-topsecret' },
      b: { type: 'nope', base_url: 'http://x/v1', api_key_env: 'ARK_KEY' },
    });
    expect(message).toMatch(/provider 'a': base_url must not contain credentials/);
    expect(message).not.toMatch(/hunter2|sk-topsecret|ark-secret-value/);
  });
});

describe('loadProvidersFile', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'tollgate-providers-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads the file and names it in errors', () => {
    const good = join(dir, 'good.json');
    writeFileSync(good, JSON.stringify({ up: { type: 'openai', base_url: 'http://127.0.0.1:1/v1', api_key_env: 'ARK_KEY' } }));
    expect(loadProvidersFile(good, ENV)).toHaveLength(1);
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ up: { type: 'openai', base_url: 'http://127.0.0.1:1/v1' } }));
    expect(() => loadProvidersFile(bad, ENV)).toThrow(`Invalid PROVIDERS_FILE (${bad}):\n  provider 'up': api_key is missing`);
  });

  it('reports a missing file', () => {
    const missing = join(dir, 'missing.json');
    expect(() => loadProvidersFile(missing, ENV)).toThrow(new ProvidersFileError(`PROVIDERS_FILE=${missing} cannot be read: ENOENT`));
  });
});
