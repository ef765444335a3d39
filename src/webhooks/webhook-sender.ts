import { lookup as dnsLookup, LookupAddress } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { isPrivateAddress, literalHost } from './destination';

export interface SendResult {
  /** The receiver's HTTP status, or null when it did not answer (refused, timed out, blocked). */
  statusCode: number | null;
  error: string | null;
  durationMs: number;
}

/**
 * Resolves like the system does, but refuses private, loopback and link-local addresses: the check
 * runs on the very addresses the socket connects to, so a name that resolved to a public address
 * when the endpoint was created cannot be rebound to an internal one later.
 */
function guardedLookup(allowPrivate: boolean): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses: LookupAddress[]) => {
      if (err) return callback(err, '', 0);
      const blocked = allowPrivate ? undefined : addresses.find((a) => isPrivateAddress(a.address));
      if (blocked) {
        const refused = Object.assign(new Error(`${hostname} resolves to a private address (${blocked.address})`), { code: 'EPRIVATEADDRESS' });
        return callback(refused, '', 0);
      }
      if (options.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
      callback(null, addresses[0].address, addresses[0].family);
    });
  };
}

/** Longest part of a receiver's answer read (the rest is dropped: only the status counts). */
const MAX_ANSWER_BYTES = 64 * 1024;

/** POSTs `body` as JSON; never throws. Redirects are not followed (a 3xx is a failed attempt). */
export function postWebhook(rawUrl: string, body: string, headers: Record<string, string>, timeoutMs: number, allowPrivate: boolean): Promise<SendResult> {
  const started = Date.now();
  const done = (statusCode: number | null, error: string | null): SendResult => ({ statusCode, error, durationMs: Date.now() - started });
  const url = new URL(rawUrl);
  const literal = literalHost(url);
  if (!allowPrivate && literal && isPrivateAddress(literal)) return Promise.resolve(done(null, `${literal} is a private address`));
  const client = url.protocol === 'https:' ? https : http;
  return new Promise<SendResult>((resolve) => {
    const req = client.request(
      url,
      {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), 'user-agent': 'Tollgate-Webhooks/1' },
        lookup: guardedLookup(allowPrivate),
        agent: false,
      },
      (res) => {
        let read = 0;
        res.on('data', (chunk: Buffer) => {
          read += chunk.length;
          if (read > MAX_ANSWER_BYTES) res.destroy();
        });
        const finish = () => resolve(done(res.statusCode ?? null, null));
        res.on('end', finish);
        res.on('close', finish);
        res.on('error', finish);
      },
    );
    const timer = setTimeout(() => req.destroy(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: 'ETIMEDOUT' })), timeoutMs);
    req.on('close', () => clearTimeout(timer));
    req.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve(done(null, `${err.code ?? 'error'}: ${err.message}`.slice(0, 500)));
    });
    req.end(body);
  });
}
