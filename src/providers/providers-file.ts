import { readFileSync } from 'node:fs';

/**
 * PROVIDERS_FILE: the upstream providers, parsed and validated at boot (pure apart from
 * loadProvidersFile's read). Format:
 *
 *   {"NAME": {"type": "openai", "base_url": "http://host/v1",
 *             "api_key": "..." | "api_key_env": "VAR",
 *             "timeout_ms"?: 60000, "max_output_tokens"?: 4096}}
 *
 * Every problem is reported at once, each line naming the provider and the field, and never
 * echoing a secret (the key's value, or the value of the variable it names).
 */

export const DEFAULT_UPSTREAM_TIMEOUT_MS = 60_000;
export const DEFAULT_UPSTREAM_MAX_OUTPUT_TOKENS = 4096;
/** Longest accepted timeout_ms: one hour. */
const MAX_TIMEOUT_MS = 3_600_000;
/** Same alphabet and length as model ids, so a provider name fits `models.provider`. */
const PROVIDER_NAME = /^[A-Za-z0-9._:/-]{1,128}$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const KNOWN_FIELDS = new Set(['type', 'base_url', 'api_key', 'api_key_env', 'timeout_ms', 'max_output_tokens']);
const SUPPORTED_TYPES = ['openai'];

export interface OpenAIProviderConfig {
  name: string;
  type: 'openai';
  /** Without a trailing slash, e.g. `http://host/v1`; requests go to `${baseUrl}/responses`. */
  baseUrl: string;
  apiKey: string;
  timeoutMs: number;
  /** Output bound used for the balance reservation when a request sets no max_output_tokens. */
  maxOutputTokens: number;
}

export type ProviderConfig = OpenAIProviderConfig;

export class ProvidersFileError extends Error {
  override name = 'ProvidersFileError';

  constructor(message: string) {
    super(message);
    // Enumerable, so structured loggers that spread the error (Nest's boot failure log) keep it.
    Object.defineProperty(this, 'message', { value: message, enumerable: true, writable: true, configurable: true });
  }
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

const isPositiveInt = (v: unknown, max: number): v is number =>
  typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= max;

/**
 * Parses the file's text. `env` resolves api_key_env (process.env at boot). `source` names the
 * file in messages. Throws ProvidersFileError listing every problem.
 */
export function parseProvidersFile(
  text: string,
  env: Record<string, string | undefined>,
  source = 'PROVIDERS_FILE',
): ProviderConfig[] {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ProvidersFileError(`${source} is not valid JSON: ${(err as Error).message}`);
  }
  if (!isPlainObject(raw)) {
    throw new ProvidersFileError(`${source} must hold a JSON object of providers by name, e.g. {"NAME": {"type": "openai", ...}}`);
  }

  const problems: string[] = [];
  const configs: ProviderConfig[] = [];
  for (const [name, entry] of Object.entries(raw)) {
    const where = `provider '${name}'`;
    const bad = (field: string | null, message: string) => problems.push(field ? `${where}: ${field} ${message}` : `${where}: ${message}`);
    if (name === 'simulated') {
      bad(null, 'the name "simulated" is the built-in provider and cannot be configured');
      continue;
    }
    if (!PROVIDER_NAME.test(name)) {
      bad(null, 'names are 1 to 128 characters of letters, digits and . _ : / -');
      continue;
    }
    if (!isPlainObject(entry)) {
      bad(null, 'must be a JSON object');
      continue;
    }
    const before = problems.length;
    for (const key of Object.keys(entry)) {
      if (!KNOWN_FIELDS.has(key)) bad(key, `is not a known field (known: ${[...KNOWN_FIELDS].join(', ')})`);
    }

    const { type } = entry;
    if (type === undefined) bad('type', `is missing (supported: ${SUPPORTED_TYPES.join(', ')})`);
    else if (typeof type !== 'string' || !SUPPORTED_TYPES.includes(type)) {
      bad('type', `${JSON.stringify(type)} is not a supported provider type (supported: ${SUPPORTED_TYPES.join(', ')})`);
    }

    const baseUrl = parseBaseUrl(entry.base_url, (msg) => bad('base_url', msg));

    let apiKey: string | null = null;
    const hasKey = entry.api_key !== undefined;
    const hasEnv = entry.api_key_env !== undefined;
    if (hasKey && hasEnv) bad('api_key', 'and api_key_env are both set; set exactly one');
    else if (!hasKey && !hasEnv) bad('api_key', 'is missing: set api_key or api_key_env');
    else if (hasKey) {
      if (typeof entry.api_key !== 'string' || entry.api_key.trim() === '') bad('api_key', 'must be a non-empty string');
      else apiKey = entry.api_key;
    } else {
      const variable = entry.api_key_env;
      if (typeof variable !== 'string' || !ENV_NAME.test(variable)) {
        bad('api_key_env', 'must be the name of an environment variable');
      } else if (env[variable] === undefined || env[variable]!.trim() === '') {
        bad('api_key_env', `names the environment variable ${variable}, which is not set`);
      } else apiKey = env[variable]!;
    }
    if (apiKey !== null && /[\r\n]/.test(apiKey)) {
      bad(hasKey ? 'api_key' : 'api_key_env', 'holds a line break, which cannot be sent in a header');
      apiKey = null;
    }

    let timeoutMs = DEFAULT_UPSTREAM_TIMEOUT_MS;
    if (entry.timeout_ms !== undefined) {
      if (isPositiveInt(entry.timeout_ms, MAX_TIMEOUT_MS)) timeoutMs = entry.timeout_ms;
      else bad('timeout_ms', `must be an integer from 1 to ${MAX_TIMEOUT_MS} (milliseconds)`);
    }
    let maxOutputTokens = DEFAULT_UPSTREAM_MAX_OUTPUT_TOKENS;
    if (entry.max_output_tokens !== undefined) {
      if (isPositiveInt(entry.max_output_tokens, 10_000_000)) maxOutputTokens = entry.max_output_tokens;
      else bad('max_output_tokens', 'must be a positive integer');
    }

    if (problems.length === before && baseUrl !== null && apiKey !== null) {
      configs.push({ name, type: 'openai', baseUrl, apiKey, timeoutMs, maxOutputTokens });
    }
  }
  if (problems.length) {
    throw new ProvidersFileError(`Invalid ${source}:\n${problems.map((p) => `  ${p}`).join('\n')}`);
  }
  return configs;
}

/** http(s) URL without credentials, query or fragment; returned without a trailing slash. */
function parseBaseUrl(value: unknown, bad: (message: string) => void): string | null {
  if (value === undefined) {
    bad('is missing (e.g. "https://api.openai.com/v1")');
    return null;
  }
  if (typeof value !== 'string') {
    bad('must be a string URL');
    return null;
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    bad('is not a valid URL');
    return null;
  }
  // The value is not echoed below: it might hold credentials.
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    bad(`must be an http:// or https:// URL (got ${url.protocol})`);
    return null;
  }
  if (url.username || url.password) {
    bad('must not contain credentials; put the key in api_key or api_key_env');
    return null;
  }
  if (url.search || url.hash) {
    bad('must not have a query string or fragment');
    return null;
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

/** Reads and parses the file at `path`; a read failure is a ProvidersFileError naming it. */
export function loadProvidersFile(path: string, env: Record<string, string | undefined> = process.env): ProviderConfig[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ProvidersFileError(`PROVIDERS_FILE=${path} cannot be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  return parseProvidersFile(text, env, `PROVIDERS_FILE (${path})`);
}
