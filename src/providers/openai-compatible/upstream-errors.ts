import { DomainError, ErrorCode } from '../../common/errors';

/**
 * Upstream failures as the gateway reports them to clients: an upstream error (502) or an
 * upstream timeout (504). Messages never carry the provider's key, its URL
 * or raw upstream bodies; see `upstreamDetail` for the one case where upstream text passes through.
 */

export const upstreamError = (message = 'The upstream provider failed.') =>
  new DomainError(ErrorCode.UpstreamError, message);

export const upstreamTimeout = () =>
  new DomainError(ErrorCode.UpstreamTimeout, 'The upstream provider did not answer in time.');

/** Upstream statuses whose error message describes the request, so it may help the client. */
const PASS_THROUGH_STATUSES = new Set([400, 404, 409, 413, 422]);
const MAX_DETAIL_CHARS = 300;

/**
 * A cleaned copy of an upstream error message, or null. Known secrets are replaced, as is
 * anything shaped like a key (`sk-...`), a bearer token or a URL; the result is one line of at
 * most 300 characters.
 */
export function sanitizeUpstreamMessage(message: unknown, secrets: readonly string[]): string | null {
  if (typeof message !== 'string') return null;
  let text = message;
  for (const secret of secrets) if (secret) text = text.split(secret).join('[redacted]');
  text = text
    .replace(/\bbearer\s+\S+/gi, 'Bearer [redacted]')
    .replace(/\b[a-z]{2,8}:\/\/\S+/gi, '[url]')
    .replace(/\b(sk|pk|ak|rk|key)[-_][A-Za-z0-9_*.-]{6,}/gi, '[redacted]')
    .replace(/\s+/g, ' ')
    .trim();
  if (!text) return null;
  return text.length > MAX_DETAIL_CHARS ? `${text.slice(0, MAX_DETAIL_CHARS - 1)}…` : text;
}

/** The upstream's `error.message` from an OpenAI-shaped error body (JSON text), if any. */
export function errorMessageOf(body: string): unknown {
  try {
    const parsed = JSON.parse(body) as { error?: { message?: unknown } | string; message?: unknown };
    if (parsed && typeof parsed === 'object') {
      if (typeof parsed.error === 'object' && parsed.error !== null) return parsed.error.message;
      if (typeof parsed.error === 'string') return parsed.error;
      return parsed.message;
    }
  } catch {
    /* not JSON */
  }
  return undefined;
}

/**
 * The error for a non-2xx upstream answer: always 502. For request-shaped statuses (400, 404,
 * 409, 413, 422) the upstream's sanitized `error.message` is appended, since it tells the client
 * what to change (e.g. an unsupported parameter); for 401/403/429/5xx it is not, since those are
 * about the gateway's account or the upstream's health, not the client's request.
 */
export function upstreamStatusError(status: number, body: string, secrets: readonly string[]): DomainError {
  const base = `The upstream provider returned an error (HTTP ${status}).`;
  if (!PASS_THROUGH_STATUSES.has(status)) return upstreamError(base);
  const detail = sanitizeUpstreamMessage(errorMessageOf(body), secrets);
  return upstreamError(detail ? `${base} Upstream message: ${detail}` : base);
}

const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT', 'ETIMEDOUT']);

export const isAbortError = (err: unknown): boolean =>
  err instanceof Error && (err.name === 'AbortError' || (err as { code?: string }).code === 'UND_ERR_ABORTED' || (err as { code?: string }).code === 'ABORT_ERR');

export const errorCode = (err: unknown): string | undefined =>
  err instanceof Error ? ((err as { code?: unknown }).code as string | undefined) ?? err.name : undefined;

/** A transport failure (connect, socket, timeout) as a gateway error; DomainErrors pass unchanged. */
export function transportError(err: unknown): DomainError {
  if (err instanceof DomainError) return err;
  const code = errorCode(err);
  if (code && TIMEOUT_CODES.has(code)) return upstreamTimeout();
  return upstreamError('The upstream provider could not be reached.');
}
